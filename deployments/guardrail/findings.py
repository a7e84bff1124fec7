"""What a detector reports: entity types, findings and how overlapping findings are settled."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from tollgate_core.guardrail_policy import PII_TYPES, SECRET_TYPES, EntityType

__all__ = ["PII_TYPES", "SECRET_TYPES", "EntityType", "Finding", "resolve_overlaps"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected value: its type, its span ``[start, end)`` in the scanned text and a score in [0, 1].

    ``source`` names the detector or gitleaks rule that found it; it is for logs and
    benchmarks and never leaves the process in scan output.
    """

    type: EntityType
    start: int
    end: int
    score: float
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type.value, "start": self.start, "end": self.end, "score": round(self.score, 3)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(EntityType(data["type"]), int(data["start"]), int(data["end"]), float(data["score"]))


def resolve_overlaps(findings: Iterable[Finding]) -> list[Finding]:
    """Keep a set of non-overlapping findings, sorted by start.

    Higher score wins, then the longer span; so a Luhn-valid card beats the phone
    number that its digits also look like, and a vendor key rule beats the generic one.
    A secret that a winner only partly covers keeps its uncovered part: in
    ``user@example.com:hunter2`` the email wins and the password is still redacted.
    """
    ranked = sorted(findings, key=lambda f: (-f.score, -(f.end - f.start), f.start))
    kept: list[Finding] = []
    for finding in ranked:
        if finding.end <= finding.start:
            continue
        overlapping = [k for k in kept if finding.start < k.end and k.start < finding.end]
        if not overlapping:
            kept.append(finding)
        elif finding.type in SECRET_TYPES:
            rest = _largest_uncovered(finding, overlapping)
            if rest is not None:
                kept.append(rest)
    return sorted(kept, key=lambda f: f.start)


def _largest_uncovered(finding: Finding, covering: list[Finding]) -> Finding | None:
    start, best = finding.start, (0, 0)
    for k in sorted(covering, key=lambda k: k.start):
        if k.start - start > best[1] - best[0]:
            best = (start, k.start)
        start = max(start, k.end)
    if finding.end - start > best[1] - best[0]:
        best = (start, finding.end)
    return replace(finding, start=best[0], end=best[1]) if best[1] - best[0] >= 4 else None
