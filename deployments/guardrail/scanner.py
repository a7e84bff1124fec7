"""One scan over a text: every detector, then one non-overlapping set of findings."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

from deployments.guardrail.findings import Finding, resolve_overlaps
from deployments.guardrail.pii import PiiDetector
from deployments.guardrail.secrets import SecretDetector

__all__ = ["Detector", "Scanner", "default_scanner"]


class Detector(Protocol):
    """Anything that reports findings with spans into the text it was given."""

    def detect(self, text: str) -> list[Finding]: ...


class Scanner:
    """Runs its detectors and keeps the findings at or above ``min_score`` that do not overlap."""

    def __init__(self, detectors: Sequence[Detector], min_score: float = 0.5) -> None:
        self.detectors = tuple(detectors)
        self.min_score = min_score

    def scan(self, text: str) -> list[Finding]:
        found: list[Finding] = []
        for detector in self.detectors:
            found.extend(f for f in detector.detect(text) if f.score >= self.min_score)
        return resolve_overlaps(found)


@lru_cache(maxsize=4)
def default_scanner(min_score: float = 0.5) -> Scanner:
    """The PII and secret detectors with their default settings, built once per process."""
    return Scanner([SecretDetector(), PiiDetector()], min_score=min_score)
