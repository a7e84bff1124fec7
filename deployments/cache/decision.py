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

from deployments.cache.verifier import Verifier

if TYPE_CHECKING:
    from tollgate_core.config import CacheConfig

__all__ = ["Choice", "Decision"]


@dataclass(frozen=True)
class Choice:
    """The accepted candidate: its id, cosine similarity and the verifier's probability (the cosine in cosine mode)."""

    entry_id: str
    similarity: float
    score: float


@functools.cache
def _shipped_verifier() -> Verifier:
    return Verifier.load()


class Decision:
    """Accept the best candidate the verifier (or the plain threshold) accepts."""

    def __init__(self, mode: Literal["verifier", "cosine"] = "verifier", *, cosine_threshold: float = 0.92,
                 verifier_threshold: float | None = None, verifier: Verifier | None = None) -> None:
        self.mode = mode
        self.cosine_threshold = cosine_threshold
        self._verifier = verifier if verifier is not None or mode == "cosine" else _shipped_verifier()
        self.threshold = (verifier_threshold if verifier_threshold is not None
                          else self._verifier.threshold if self._verifier is not None else cosine_threshold)

    @classmethod
    def from_config(cls, cache: CacheConfig) -> Decision:
        """The decision stage ``cache`` asks for (the deployment and ``tollgate cache probe`` both use this)."""
        return cls(cache.decision, cosine_threshold=cache.cosine_threshold,
                   verifier_threshold=cache.verifier_threshold)

    @property
    def min_cosine(self) -> float:
        """Candidates below this cosine are not worth fetching."""
        if self._verifier is None:
            return self.cosine_threshold
        return float(self._verifier.min_cosine)

    def choose(self, query: str, query_vector: np.ndarray, candidates: list[tuple[str, str, np.ndarray, float]]
               ) -> Choice | None:
        """``candidates``: (entry id, cached query, its vector, cosine), most similar first."""
        eligible = [c for c in candidates if c[3] >= self.min_cosine]
        if not eligible:
            return None
        if self._verifier is None:
            entry_id, _, _, similarity = eligible[0]
            return Choice(entry_id, similarity, similarity)
        scores = self._verifier.score(query, query_vector, [c[1] for c in eligible],
                                      np.vstack([c[2] for c in eligible]))
        best = int(np.argmax(scores))
        if scores[best] < self.threshold:
            return None
        return Choice(eligible[best][0], eligible[best][3], float(scores[best]))
