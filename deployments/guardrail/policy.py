"""Applying a guardrail policy to one request's texts: scan, then block or redact per destination.

The policy's schema (``GuardrailPolicy`` and its parts) is part of the gateway's config, so it lives in
:mod:`tollgate_core.guardrail_policy`; it is re-exported here for the guardrail's own modules.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from deployments.guardrail.findings import Finding
from deployments.guardrail.redaction import RedactionState, redact
from deployments.guardrail.scanner import Scanner
from tollgate_core.guardrail_policy import (
    DEFAULT_INJECTION_ACTION,
    DEFAULT_INJECTION_ROLES,
    DEFAULT_INJECTION_THRESHOLD,
    Action,
    Destination,
    DestinationPolicy,
    GuardrailPolicy,
    InjectionPolicy,
    merge_policy,
)

__all__ = [
    "DEFAULT_INJECTION_ACTION",
    "DEFAULT_INJECTION_ROLES",
    "DEFAULT_INJECTION_THRESHOLD",
    "Action",
    "Blocked",
    "Destination",
    "DestinationPolicy",
    "GuardrailPolicy",
    "InjectionPolicy",
    "Redacted",
    "apply_input_policy",
    "merge_policy",
]


@dataclass
class Redacted:
    """The request may go on: its texts with placeholders, and how to restore them."""

    texts: list[str]
    state: RedactionState
    counts: dict[str, int]
    findings: list[list[Finding]] = field(default_factory=list)


@dataclass
class Blocked:
    """The request must be refused: the entity types that caused it (never the values)."""

    types: tuple[str, ...]
    counts: dict[str, int]


def apply_input_policy(
    texts: Sequence[str],
    destination: Destination,
    scanner: Scanner,
    policy: GuardrailPolicy,
    state: RedactionState | None = None,
    scans: Sequence[Sequence[Finding]] | None = None,
) -> Redacted | Blocked:
    """Scan every message text of one request (unless ``scans`` are given) and apply the destination's policy."""
    rules = policy.for_destination(destination)
    state = state if state is not None else RedactionState()
    for text in texts:
        state.reserve(text)
    if scans is None:
        scans = [scanner.scan(text) for text in texts]
    scans = [[f for f in found if f.score >= policy.min_score] for found in scans]
    counts = Counter(f.type.value for found in scans for f in found)
    blocked = sorted({f.type.value for found in scans for f in found if rules.action(f.type) == "block"})
    if blocked:
        return Blocked(tuple(blocked), dict(counts))
    redacted = [
        redact(text, [f for f in found if rules.action(f.type) == "redact"], state)
        for text, found in zip(texts, scans, strict=True)
    ]
    return Redacted(redacted, state, dict(counts), [list(found) for found in scans])
