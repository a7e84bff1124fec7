"""The tier classifier: the probability that a chat request needs a Tier-2 (frontier) model.

An additive logistic model over the request's last-user-message embedding (all-MiniLM-L6-v2, the vector the
semantic cache already computes) and the cheap features of :mod:`deployments.tiering.features`::

    logit = bias + embedding + sum_i weight_i * clip((f_i - center_i) / scale_i, lo_i, hi_i)
    embedding = w_e . (v - mean_v)        score = sigmoid(logit)

Every term is an exact contribution to the logit, so :class:`TierScore` reports the largest ones as the
"drivers" of a decision ("embedding" for the embedding term, the feature name otherwise; the bias is left out).

What is learned and what is set by rule:

* learned (``train_tiering``, logistic regression on labelled prompts): ``bias``, ``w_e`` and the weights of
  the text features (``TEXT_FEATURES``: length, code, math, lists, imperatives, questions, reasoning cue),
  standardised with the training mean / standard deviation and clipped to +/-4 standard deviations;
* set by rule (``RULE_WEIGHTS``): the request-shape features, which the single-message training corpus never
  shows. Product rules: tools offered +1.0 logit; ``response_format`` json_schema +1.0, json_object +0.5;
  ``max_tokens`` +0.5 per factor 4 above 1,024 (at most +0.75) and -0.5 per factor 4 below (at most -0.5), 0 when
  absent; a long conversation +0.25 per doubling of the number of messages beyond one (at most +0.5); text
  before the last user message (system prompt, earlier turns) +0.3 per factor 4 beyond 1,000 characters (at
  most +0.6); a system prompt by itself 0. So a request with tools and a JSON schema leans Tier 2.

Only numpy is needed at run time; the weights ship in ``tier_weights.npz`` next to this module and are
reproduced by ``python -m training.tiering.train_tiering``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deployments.tiering.features import FEATURE_NAMES, RULE_FEATURES, TEXT_FEATURES

__all__ = ["DEFAULT_WEIGHTS", "EMBEDDING_DRIVER", "RULE_WEIGHTS", "TEXT_CLIP", "TierModel", "TierScore"]

DEFAULT_WEIGHTS = Path(__file__).with_name("tier_weights.npz")
EMBEDDING_DRIVER = "embedding"
TEXT_CLIP = 4.0  # learned features are clipped to +/- this many training standard deviations
N_DRIVERS = 5
_LOG4 = math.log(4.0)

# name -> (center, scale, weight, lo, hi, zero_when_absent): the contribution is
# weight * clip((f - center) / scale, lo, hi), or 0 when zero_when_absent and f == 0.
RULE_WEIGHTS: dict[str, tuple[float, float, float, float, float, bool]] = {
    "turns": (math.log1p(1.0), math.log(2.0), 0.25, 0.0, 2.0, False),
    "context_chars": (math.log1p(1000.0), _LOG4, 0.3, 0.0, 2.0, False),
    "system_prompt": (0.0, 1.0, 0.0, 0.0, 1.0, False),
    "max_tokens": (math.log1p(1024.0), _LOG4, 0.5, -1.0, 1.5, True),
    "has_tools": (0.0, 1.0, 1.0, 0.0, 1.0, False),
    "json_schema": (0.0, 1.0, 1.0, 0.0, 1.0, False),
    "json_object": (0.0, 1.0, 0.5, 0.0, 1.0, False),
}
if tuple(RULE_WEIGHTS) != RULE_FEATURES or FEATURE_NAMES != TEXT_FEATURES + RULE_FEATURES:
    raise ImportError("RULE_WEIGHTS must list the RULE_FEATURES, in order")


@dataclass(frozen=True)
class TierScore:
    """``score``: P(Tier 2) in [0, 1]; ``drivers``: the largest signed logit contributions, largest first."""

    score: float
    drivers: tuple[tuple[str, float], ...]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free


class TierModel:
    """``logit = bias + w_e . (v - embed_mean) + sum(weight * clip((f - center) / scale, lo, hi))``."""

    def __init__(self, embed_weight: np.ndarray, embed_mean: np.ndarray, bias: float, center: np.ndarray,
                 scale: np.ndarray, weight: np.ndarray, lo: np.ndarray, hi: np.ndarray, absent_zero: np.ndarray,
                 feature_names: Sequence[str] = FEATURE_NAMES, metadata: dict[str, Any] | None = None) -> None:
        self.embed_weight = np.asarray(embed_weight, dtype=np.float64).ravel()
        self.embed_mean = np.asarray(embed_mean, dtype=np.float64).ravel()
        self.embed_offset = float(self.embed_weight @ self.embed_mean)
        self.bias = float(bias)
        self.center = np.asarray(center, dtype=np.float64)
        self.inv_scale = 1.0 / np.asarray(scale, dtype=np.float64)
        self.weight = np.asarray(weight, dtype=np.float64)
        self.lo = np.asarray(lo, dtype=np.float64)
        self.hi = np.asarray(hi, dtype=np.float64)
        self.absent_zero = np.asarray(absent_zero, dtype=bool)
        self.feature_names = tuple(str(n) for n in feature_names)
        if self.feature_names != FEATURE_NAMES:
            raise ValueError(f"weights were trained for features {self.feature_names}, not {FEATURE_NAMES}")
        k = len(self.feature_names)
        if any(a.shape != (k,) for a in (self.center, self.inv_scale, self.weight, self.lo, self.hi,
                                         self.absent_zero)) or self.embed_weight.shape != self.embed_mean.shape:
            raise ValueError("tier weights do not fit together")
        self._names = (EMBEDDING_DRIVER, *self.feature_names)
        self.metadata = dict(metadata or {})

    @classmethod
    def load(cls, path: Path | str | None = None) -> TierModel:
        """The weights written by ``train_tiering`` (default: the file shipped next to this module)."""
        with np.load(Path(path) if path is not None else DEFAULT_WEIGHTS, allow_pickle=False) as data:
            return cls(data["embed_weight"], data["embed_mean"], float(data["bias"]), data["center"],
                       data["scale"], data["weight"], data["lo"], data["hi"], data["absent_zero"],
                       [str(n) for n in data["feature_names"]], json.loads(str(data["metadata"])))

    @property
    def dimensions(self) -> int:
        return int(self.embed_weight.shape[0])

    def contributions(self, features: np.ndarray) -> np.ndarray:
        """Each feature's logit contribution; ``features`` is ``(k,)`` or ``(n, k)``."""
        f = np.asarray(features, dtype=np.float64)
        z = np.minimum(np.maximum((f - self.center) * self.inv_scale, self.lo), self.hi)
        z = np.where(self.absent_zero & (f == 0.0), 0.0, z)
        return z * self.weight

    def score(self, vector: np.ndarray | Sequence[float], features: np.ndarray) -> TierScore:
        """The score of one request: its last-user-message embedding and its ``request_features``."""
        embedding = float(self.embed_weight @ np.asarray(vector, dtype=np.float64)) - self.embed_offset
        parts = self.contributions(features).tolist()
        logit = self.bias + embedding + sum(parts)
        named = sorted(zip(self._names, [embedding, *parts], strict=True), key=lambda p: -abs(p[1]))
        drivers = tuple((name, round(value, 4)) for name, value in named[:N_DRIVERS] if value != 0.0)
        return TierScore(score=float(_sigmoid(np.float64(logit))), drivers=drivers)

    def logits(self, vectors: np.ndarray, features: np.ndarray) -> np.ndarray:
        """``(n,)`` logits of a batch: vectors ``(n, dim)``, features ``(n, k)``."""
        v = np.asarray(vectors, dtype=np.float64).reshape(-1, self.dimensions)
        f = np.asarray(features, dtype=np.float64).reshape(v.shape[0], -1)
        return self.bias + v @ self.embed_weight - self.embed_offset + self.contributions(f).sum(axis=1)

    def score_batch(self, vectors: np.ndarray, features: np.ndarray) -> np.ndarray:
        """``(n,)`` P(Tier 2) of a batch (used by training and the benchmarks)."""
        return _sigmoid(self.logits(vectors, features))
