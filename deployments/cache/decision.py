"""The decision stage after retrieval: which (if any) of the nearest cached queries may answer this one.

Cosine similarity alone cannot tell a paraphrase from a near miss ("… on remote work?" vs "… on remote work for
contractors?"), so by default a learned verifier (:mod:`deployments.cache.verifier`) scores each candidate above a
cosine floor, with conflict features for numbers, negations, names and directions. ``mode: cosine`` keeps the plain
threshold for comparison."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from deployments.cache.conflicts import conflict
from deployments.cache.same_text import same_question
from deployments.cache.verifier import Verifier

if TYPE_CHECKING:
    from tollgate_core.config import CacheConfig

__all__ = ["BALANCED_THRESHOLD", "Choice", "Decision", "Refusal"]

# The verifier's threshold at the balanced operating point, chosen on the development families
# (benchmarks/data/cache_families.jsonl): recall 0.64 at 2.4 % wrong hits there. Strict is the shipped threshold.
BALANCED_THRESHOLD = 0.6


@dataclass(frozen=True)
class Choice:
    """The accepted candidate: its id, cosine similarity and the verifier's probability (the cosine in cosine mode)."""

    entry_id: str
    similarity: float
    score: float


@dataclass(frozen=True)
class Refusal:
    """Why no candidate was served: the structured check that refused the nearest one ("number", "negation", …),
    or "verifier" / "cosine" when the scores were too low."""

    reason: str


@functools.cache
def _shipped_verifier() -> Verifier:
    return Verifier.load()


class Decision:
    """Accept the best candidate the verifier (or the plain threshold) accepts."""

    def __init__(self, mode: Literal["verifier", "cosine"] = "verifier", *, cosine_threshold: float = 0.92,
                 verifier_threshold: float | None = None, verifier: Verifier | None = None,
                 checks: bool = True) -> None:
        self.mode = mode
        self.checks = checks
        self.cosine_threshold = cosine_threshold
        self._verifier = verifier if verifier is not None or mode == "cosine" else _shipped_verifier()
        self.threshold = (verifier_threshold if verifier_threshold is not None
                          else self._verifier.threshold if self._verifier is not None else cosine_threshold)

    @classmethod
    def from_config(cls, cache: CacheConfig) -> Decision:
        """The decision stage ``cache`` asks for (the deployment and ``tollgate cache probe`` both use this)."""
        return cls(cache.decision, cosine_threshold=cache.cosine_threshold,
                   verifier_threshold=cache.verifier_threshold, checks=cache.checks)

    @property
    def min_cosine(self) -> float:
        """Candidates below this cosine are not worth fetching."""
        if self._verifier is None:
            return self.cosine_threshold
        return float(self._verifier.min_cosine)

    def choose(self, query: str, query_vector: np.ndarray, candidates: list[tuple[str, str, np.ndarray, float]]
               ) -> Choice | None:
        """``candidates``: (entry id, cached query, its vector, cosine), most similar first."""
        decided = self.decide(query, query_vector, candidates)
        return decided if isinstance(decided, Choice) else None

    def decide(self, query: str, query_vector: np.ndarray, candidates: list[tuple[str, str, np.ndarray, float]],
               operating_point: str = "strict") -> Choice | Refusal | None:
        """The accepted candidate, or why none was (None: no candidate was near enough to consider)."""
        eligible = [c for c in candidates if c[3] >= self.min_cosine]
        if not eligible:
            return None
        refused = None
        if self.checks:
            reasons = [conflict(query, c[1]) for c in eligible]
            refused = next((r for r in reasons if r is not None), None)
            eligible = [c for c, r in zip(eligible, reasons, strict=True) if r is None]
            if not eligible:
                return Refusal(refused or "check")
            same = next((c for c in eligible if same_question(query, c[1])), None)
            if same is not None:  # the same words but for typos and courtesy: the verifier would count them
                return Choice(same[0], same[3], 1.0)
        if self._verifier is None:
            entry_id, _, _, similarity = eligible[0]
            return Choice(entry_id, similarity, similarity)
        scores = self._verifier.score(query, query_vector, [c[1] for c in eligible],
                                      np.vstack([c[2] for c in eligible]))
        best = int(np.argmax(scores))
        threshold = min(self.threshold, BALANCED_THRESHOLD) if operating_point == "balanced" else self.threshold
        if scores[best] < threshold:
            return Refusal("verifier")
        return Choice(eligible[best][0], eligible[best][3], float(scores[best]))
