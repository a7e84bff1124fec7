"""What a detector reports: entity types, findings and how overlapping findings are settled."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

__all__ = ["PII_TYPES", "SECRET_TYPES", "EntityType", "Finding", "resolve_overlaps"]


class EntityType(StrEnum):
    """Every kind of value the guardrail detects; the names appear in placeholders and policies."""

    EMAIL = "EMAIL"
    PHONE = "PHONE"
    CREDIT_CARD = "CREDIT_CARD"
    US_SSN = "US_SSN"
    IBAN = "IBAN"
    IP_ADDRESS = "IP_ADDRESS"
    AWS_ACCESS_KEY = "AWS_ACCESS_KEY"
    AWS_SECRET_KEY = "AWS_SECRET_KEY"
    OPENAI_KEY = "OPENAI_KEY"
    ANTHROPIC_KEY = "ANTHROPIC_KEY"
    GITHUB_TOKEN = "GITHUB_TOKEN"
    SLACK_TOKEN = "SLACK_TOKEN"
    STRIPE_KEY = "STRIPE_KEY"
    GOOGLE_API_KEY = "GOOGLE_API_KEY"
    JWT = "JWT"
    PRIVATE_KEY = "PRIVATE_KEY"
    PASSWORD = "PASSWORD"
    GENERIC_SECRET = "GENERIC_SECRET"


PII_TYPES: frozenset[EntityType] = frozenset(
    {
        EntityType.EMAIL,
        EntityType.PHONE,
        EntityType.CREDIT_CARD,
        EntityType.US_SSN,
        EntityType.IBAN,
        EntityType.IP_ADDRESS,
    }
)
SECRET_TYPES: frozenset[EntityType] = frozenset(EntityType) - PII_TYPES


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
