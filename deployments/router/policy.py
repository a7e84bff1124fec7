"""Ordering policies: which of a model's targets to try first, second, …

- ``latency``: power of two choices on expected latency (EWMA of time to first
  token, inflated by in-flight requests, the recent error rate and a low
  provider quota), the rest by the same score. Two random candidates rather
  than the global best keep many ingress replicas from herding onto one target.
- ``weighted``: the first target drawn at random by weight, the rest by weight.
- ``priority``: config order.

Whatever the policy, a target whose circuit is half-open goes first (one probe
at a time, so a recovered target gets traffic again), and targets in cooldown
or with an open circuit are left out.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from deployments.router.board import Availability, TargetBoard
from tollgate_core.config import ModelConfig, RoutingPolicy

__all__ = ["Plan", "order_targets", "target_key"]


def target_key(model: str, index: int) -> str:
    return f"{model}#{index}"


@dataclass
class Plan:
    """Indices of a model's targets to try now, in order, and those left out for now."""

    usable: list[int]
    blocked: list[int]


def order_targets(
    board: TargetBoard, model: str, config: ModelConfig, indices: list[int], rng: random.Random
) -> Plan:
    healthy, probes, blocked = [], [], []
    for i in indices:
        availability = board.availability(target_key(model, i))
        if availability is Availability.HEALTHY:
            healthy.append(i)
        elif availability is Availability.HALF_OPEN:
            probes.append(i)
        else:
            blocked.append(i)
    if config.policy is RoutingPolicy.LATENCY:
        ordered = _latency(board, model, healthy, rng)
    elif config.policy is RoutingPolicy.WEIGHTED:
        ordered = _weighted(healthy, config.weights or [], rng)
    else:
        ordered = sorted(healthy)
    return Plan(usable=probes + ordered, blocked=blocked)


def _latency(board: TargetBoard, model: str, healthy: list[int], rng: random.Random) -> list[int]:
    scores = {i: board.expected_latency_ms(target_key(model, i)) for i in healthy}
    ranked = sorted(healthy, key=lambda i: (scores[i], i))
    if len(healthy) < 2:
        return ranked
    a, b = rng.sample(healthy, 2)
    first = a if (scores[a], a) <= (scores[b], b) else b
    return [first] + [i for i in ranked if i != first]


def _weighted(healthy: list[int], weights: list[float], rng: random.Random) -> list[int]:
    candidates = [i for i in healthy if weights[i] > 0]
    if not candidates:
        return sorted(healthy)
    first = rng.choices(candidates, weights=[weights[i] for i in candidates], k=1)[0]
    rest = sorted((i for i in healthy if i != first), key=lambda i: (-weights[i], i))
    return [first] + rest
