"""The decision stage after retrieval: which (if any) of the nearest cached queries may answer this one.

Cosine similarity alone cannot tell a paraphrase from a near miss ("… on remote work?" vs "… on remote work for
contractors?"). After a cosine floor and the structured checks (:mod:`deployments.cache.conflicts`), the default
``mode: cross_encoder`` has a cross-encoder (:mod:`deployments.cache.cross_encoder`) read each remaining candidate
together with the question; a pair too long for it, and every pair under ``mode: verifier``, is scored by the learned
verifier (:mod:`deployments.cache.verifier`) from the two embeddings and conflict features. ``mode: cosine`` keeps the
plain threshold for comparison."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from deployments.cache.conflicts import conflict
from deployments.cache.cross_encoder import CrossEncoder, shared_cross_encoder
from deployments.cache.same_text import same_question
from deployments.cache.verifier import Verifier

if TYPE_CHECKING:
    from tollgate_core.config import CacheConfig

__all__ = ["BALANCED_THRESHOLD", "Choice", "Decision", "Refusal"]

# The verifier's threshold at the balanced operating point, chosen on the development families
# (benchmarks/data/cache_families.jsonl): recall 0.64 at 2.4 % wrong hits there. Strict is the shipped threshold.
BALANCED_THRESHOLD = 0.6
# The cross-encoder reads the nearest candidates that pass the checks, at most this many (about 12 ms each on one
# core); a paraphrase further down is a miss, never a wrong answer.
READ_AT_MOST = 2
# Where the cross-encoder is not sure (under SURE), the verifier may veto: a candidate it scores under VERIFIER_VETO
# is refused. The cross-encoder alone takes "improve my English writing skills" for "… speaking skills" (0.73);
# the verifier gives 0.16. Chosen on the development families: 2.6 points of their recall.
SURE = 0.8
VERIFIER_VETO = 0.2


@dataclass(frozen=True)
class Choice:
    """The accepted candidate: its id, cosine similarity, the score that accepted it and what gave that score
    ("cross_encoder", "verifier", "cosine", or "same_text" with score 1.0)."""

    entry_id: str
    similarity: float
    score: float
    by: str


@dataclass(frozen=True)
class Refusal:
    """Why no candidate was served: the structured check that refused the nearest one ("number", "negation", …),
    or "cross_encoder" / "verifier" / "cosine" when the scores were too low."""

    reason: str


@functools.cache
def _shipped_verifier() -> Verifier:
    return Verifier.load()


class Decision:
    """Accept the best candidate the cross-encoder, the verifier (or the plain threshold) accepts."""

    def __init__(self, mode: Literal["cross_encoder", "verifier", "cosine"] = "cross_encoder", *,
                 cosine_threshold: float = 0.92, verifier_threshold: float | None = None,
                 cross_encoder_threshold: float | None = None, verifier: Verifier | None = None,
                 cross_encoder: CrossEncoder | None = None, checks: bool = True) -> None:
        self.mode = mode
        self.checks = checks
        self.cosine_threshold = cosine_threshold
        self._verifier = verifier if verifier is not None or mode == "cosine" else _shipped_verifier()
        self.threshold = (verifier_threshold if verifier_threshold is not None
                          else self._verifier.threshold if self._verifier is not None else cosine_threshold)
        self._cross_encoder = None
        self.cross_encoder_threshold = 1.0
        if mode == "cross_encoder":
            self._cross_encoder = cross_encoder or shared_cross_encoder()
            self.cross_encoder_threshold = (cross_encoder_threshold if cross_encoder_threshold is not None
                                            else self._cross_encoder.threshold)

    @classmethod
    def from_config(cls, cache: CacheConfig) -> Decision:
        """The decision stage ``cache`` asks for (the deployment and ``tollgate cache probe`` both use this)."""
        return cls(cache.decision, cosine_threshold=cache.cosine_threshold,
                   verifier_threshold=cache.verifier_threshold,
                   cross_encoder_threshold=cache.cross_encoder_threshold, checks=cache.checks)

    @property
    def reads_pairs(self) -> bool:
        """Whether deciding runs a model (milliseconds per candidate): then callers run it off the event loop."""
        return self._cross_encoder is not None

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
                return Choice(same[0], same[3], 1.0, "same_text")
        if self._verifier is None:
            entry_id, _, _, similarity = eligible[0]
            return Choice(entry_id, similarity, similarity, "cosine")
        if self._cross_encoder is not None:
            eligible = eligible[:READ_AT_MOST]
        balanced = operating_point == "balanced"
        verifier_threshold = min(self.threshold, BALANCED_THRESHOLD) if balanced else self.threshold
        texts = [c[1] for c in eligible]
        read = self._cross_encoder.score(query, texts) if self._cross_encoder is not None else [None] * len(texts)
        verified = self._verifier.score(query, query_vector, texts, np.vstack([c[2] for c in eligible]))
        cross_encoder_threshold = self.cross_encoder_threshold
        if balanced and self._cross_encoder is not None:
            cross_encoder_threshold = min(cross_encoder_threshold, self._cross_encoder.balanced_threshold)
        # Each candidate against its own scorer's threshold; the one with the widest margin is served.
        judged = []
        for i, read_score in enumerate(read):
            if read_score is None:
                score, threshold, scorer = float(verified[i]), verifier_threshold, "verifier"
            else:
                vetoed = read_score < SURE and float(verified[i]) < VERIFIER_VETO
                score, threshold, scorer = 0.0 if vetoed else read_score, cross_encoder_threshold, "cross_encoder"
            judged.append((score - threshold, score, i, scorer))
        margin, score, best, scorer = max(judged)
        if margin < 0:
            return Refusal(scorer)
        return Choice(eligible[best][0], eligible[best][3], score, scorer)
