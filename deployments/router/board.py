"""Live statistics and availability of every target: the router's state.

One :class:`TargetBoard` lives in the Router deployment (the aggregate of all
ingress replicas) and one in each ingress replica (its own observations applied
at once, the aggregate loaded every ``sync_interval_s``). Plain class, no Ray;
the clock is injected so tests move time by hand.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, TypedDict, cast

from tollgate_core.config import CircuitConfig

__all__ = ["Availability", "BoardSnapshot", "Lease", "Observation", "Outcome", "TargetBoard", "TargetSnapshot", "TargetState"]

_EWMA_ALPHA = 0.3


class Outcome(str, Enum):
    """How one attempt on a target ended."""

    OK = "ok"
    ERROR = "error"  # 5xx, reset, malformed answer: counts against the circuit
    TIMEOUT = "timeout"  # counts against the circuit
    RATE_LIMITED = "rate_limited"  # 429: cooldown, not a fault of the target's health
    CLIENT_ERROR = "client_error"  # the request was bad: says nothing about the target


class Availability(str, Enum):
    HEALTHY = "healthy"
    COOLING_DOWN = "cooling_down"
    OPEN = "circuit_open"
    HALF_OPEN = "half_open"


@dataclass
class Observation:
    """One attempt's result, as reported by an ingress replica."""

    key: str
    outcome: Outcome
    at: float
    ttft_ms: float | None = None
    duration_ms: float | None = None
    output_tokens: int | None = None
    retry_after_s: float | None = None
    quota: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["outcome"] = self.outcome.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Observation:
        return cls(**{**data, "outcome": Outcome(data["outcome"])})


@dataclass
class Lease:
    """One attempt's hold on a target: counted in flight until released (once)."""

    key: str
    probe: bool
    released: bool = False


@dataclass
class TargetState:
    """What is known about one target."""

    ewma_ttft_ms: float | None = None
    ewma_tokens_per_s: float | None = None
    outcomes: deque[tuple[float, bool]] = field(default_factory=deque)
    consecutive_failures: int = 0
    opened_at: float | None = None
    cooldown_until: float = 0.0
    remaining_requests: float | None = None
    limit_requests: float | None = None
    remaining_tokens: float | None = None
    limit_tokens: float | None = None
    # Local to one process, never synchronised:
    in_flight: int = 0
    probe_in_flight: bool = False

    def error_rate(self) -> float:
        if not self.outcomes:
            return 0.0
        return sum(1 for _, ok in self.outcomes if not ok) / len(self.outcomes)

    def quota_fraction(self) -> float | None:
        """The smaller of remaining/limit for requests and tokens, when the provider says."""
        fractions = [
            remaining / limit
            for remaining, limit in ((self.remaining_requests, self.limit_requests),
                                     (self.remaining_tokens, self.limit_tokens))
            if remaining is not None and limit
        ]
        if not fractions and self.remaining_requests == 0:
            return 0.0
        return min(fractions) if fractions else None


_SYNCED_FIELDS = (
    "ewma_ttft_ms", "ewma_tokens_per_s", "consecutive_failures", "opened_at", "cooldown_until",
    "remaining_requests", "limit_requests", "remaining_tokens", "limit_tokens",
)


class TargetSnapshot(TypedDict, total=False):
    """The synchronised part of one target's state, as it crosses between ingress replicas and the Router."""

    ewma_ttft_ms: float | None
    ewma_tokens_per_s: float | None
    consecutive_failures: int
    opened_at: float | None
    cooldown_until: float
    remaining_requests: float | None
    limit_requests: float | None
    remaining_tokens: float | None
    limit_tokens: float | None
    outcomes: list[tuple[float, bool]]


# target key → its synchronised state
BoardSnapshot = dict[str, TargetSnapshot]


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class TargetBoard:
    """Statistics and circuit state per target key (``model#index``)."""

    def __init__(self, circuit: CircuitConfig, clock: Callable[[], float] = time.time) -> None:
        self._circuit = circuit
        self._clock = clock
        self._states: dict[str, TargetState] = {}

    def state(self, key: str) -> TargetState:
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = TargetState()
        return state

    def now(self) -> float:
        return self._clock()

    # ----- availability -------------------------------------------------------------------------

    def availability(self, key: str) -> Availability:
        state = self.state(key)
        now = self._clock()
        if state.opened_at is not None and now < state.opened_at + self._circuit.open_s:
            return Availability.OPEN
        if now < state.cooldown_until:
            return Availability.COOLING_DOWN
        if state.opened_at is not None:
            return Availability.HALF_OPEN
        return Availability.HEALTHY

    def recovers_at(self, key: str) -> float:
        """When the target may be tried again (now if it may be tried now)."""
        state = self.state(key)
        now = self._clock()
        at = now
        if state.opened_at is not None:
            at = max(at, state.opened_at + self._circuit.open_s)
        return max(at, state.cooldown_until)

    def try_acquire(self, key: str) -> Lease | None:
        """A lease if an attempt may go to the target now; a half-open circuit lets one probe through."""
        availability = self.availability(key)
        state = self.state(key)
        if availability is Availability.HEALTHY:
            return self.force_acquire(key)
        if availability is Availability.HALF_OPEN and not state.probe_in_flight:
            state.probe_in_flight = True
            state.in_flight += 1
            return Lease(key, probe=True)
        return None

    def force_acquire(self, key: str) -> Lease:
        """A lease whatever the target's state (a retry after a waited-out Retry-After)."""
        self.state(key).in_flight += 1
        return Lease(key, probe=False)

    def release(self, lease: Lease) -> None:
        """End an attempt's hold; releasing twice is harmless."""
        if lease.released:
            return
        lease.released = True
        state = self.state(lease.key)
        state.in_flight = max(0, state.in_flight - 1)
        if lease.probe:
            state.probe_in_flight = False

    # ----- scoring ------------------------------------------------------------------------------

    def expected_latency_ms(self, key: str) -> float:
        """The latency policy's score: lower is better. Unknown targets score 0 so they get explored."""
        state = self.state(key)
        self._trim(state)
        base = state.ewma_ttft_ms or 0.0
        score = (base + 1.0) * (1 + 0.25 * state.in_flight) * (1 + 4 * state.error_rate())
        quota = state.quota_fraction()
        if quota is not None:
            score *= 10.0 if quota <= 0 else 3.0 if quota < 0.05 else 1.0
        return score

    # ----- recording ----------------------------------------------------------------------------

    def record(self, obs: Observation) -> None:
        state = self.state(obs.key)
        if obs.quota:
            self._record_quota(state, obs.quota)
        if obs.outcome is Outcome.CLIENT_ERROR:
            return
        if obs.outcome is Outcome.RATE_LIMITED:
            cooldown = obs.retry_after_s if obs.retry_after_s is not None else 0.0
            state.cooldown_until = max(state.cooldown_until, obs.at + cooldown)
            return
        ok = obs.outcome is Outcome.OK
        state.outcomes.append((obs.at, ok))
        self._trim(state)
        if ok:
            state.consecutive_failures = 0
            started_at = obs.at - (obs.duration_ms or 0.0) / 1000
            if state.opened_at is None or started_at >= state.opened_at:
                state.opened_at = None  # an attempt begun before the circuit opened proves nothing
            if obs.ttft_ms is not None:
                state.ewma_ttft_ms = _ewma(state.ewma_ttft_ms, obs.ttft_ms)
            if obs.output_tokens and obs.duration_ms and obs.ttft_ms is not None:
                generation_s = max(obs.duration_ms - obs.ttft_ms, 1.0) / 1000
                state.ewma_tokens_per_s = _ewma(state.ewma_tokens_per_s, obs.output_tokens / generation_s)
            return
        state.consecutive_failures += 1
        if obs.outcome is Outcome.TIMEOUT and obs.duration_ms is not None:
            # A timeout is at least as slow as the time it took to give up.
            state.ewma_ttft_ms = _ewma(state.ewma_ttft_ms, obs.duration_ms)
        if state.opened_at is not None:
            state.opened_at = obs.at  # a failed probe keeps the circuit open for another period
        elif self._should_open(state):
            state.opened_at = obs.at
            state.outcomes.clear()

    def _should_open(self, state: TargetState) -> bool:
        if state.consecutive_failures >= self._circuit.consecutive_failures:
            return True
        return len(state.outcomes) >= self._circuit.min_requests and state.error_rate() >= self._circuit.error_rate

    def _trim(self, state: TargetState) -> None:
        horizon = self._clock() - self._circuit.window_s
        while state.outcomes and state.outcomes[0][0] < horizon:
            state.outcomes.popleft()

    @staticmethod
    def _record_quota(state: TargetState, headers: dict[str, str]) -> None:
        state.remaining_requests = _number(headers.get("x-ratelimit-remaining-requests")) \
            if "x-ratelimit-remaining-requests" in headers else state.remaining_requests
        state.limit_requests = _number(headers.get("x-ratelimit-limit-requests")) or state.limit_requests
        state.remaining_tokens = _number(headers.get("x-ratelimit-remaining-tokens")) \
            if "x-ratelimit-remaining-tokens" in headers else state.remaining_tokens
        state.limit_tokens = _number(headers.get("x-ratelimit-limit-tokens")) or state.limit_tokens

    # ----- synchronisation ----------------------------------------------------------------------

    def snapshot(self) -> BoardSnapshot:
        """Plain data for another process's board (local counters left out)."""
        out: BoardSnapshot = {}
        for key, state in self._states.items():
            self._trim(state)
            data = cast(TargetSnapshot, {name: getattr(state, name) for name in _SYNCED_FIELDS})
            data["outcomes"] = list(state.outcomes)
            out[key] = data
        return out

    def reset(self) -> None:
        """Forget everything (an operator's reset); in-flight counters are kept."""
        self.load({})

    def load(self, snapshot: BoardSnapshot) -> None:
        """Adopt the aggregate state, keeping this process's in-flight counters."""
        for key in set(self._states) - set(snapshot):
            kept = self._states[key]
            self._states[key] = TargetState(in_flight=kept.in_flight, probe_in_flight=kept.probe_in_flight)
        for key, data in snapshot.items():
            state = self.state(key)
            for name in _SYNCED_FIELDS:
                setattr(state, name, data.get(name))
            state.outcomes = deque((float(at), bool(ok)) for at, ok in data.get("outcomes", []))
            if state.cooldown_until is None:
                state.cooldown_until = 0.0
            if state.consecutive_failures is None:
                state.consecutive_failures = 0

    def describe(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Operator view: availability and statistics per target."""
        out = {}
        for key in keys:
            state = self.state(key)
            self._trim(state)
            out[key] = {
                "availability": self.availability(key).value,
                "ewma_ttft_ms": state.ewma_ttft_ms,
                "ewma_tokens_per_s": state.ewma_tokens_per_s,
                "error_rate": round(state.error_rate(), 3),
                "in_flight": state.in_flight,
                "quota_fraction": state.quota_fraction(),
            }
        return out


def _ewma(previous: float | None, value: float) -> float:
    if previous is None or math.isnan(previous):
        return value
    return previous + _EWMA_ALPHA * (value - previous)
