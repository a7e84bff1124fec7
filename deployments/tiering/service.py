"""The tier classifier without Ray: a request (and, when the cache stage already made it, the embedding of its last
user message) in; the probability that it needs Tier 2 and the features that drove it out.

The deployment and ``tollgate route classify`` both go through :class:`TierClassifierService`, so what the CLI
prints is what a request meets.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from deployments.cache.embedder import DIMENSIONS
from deployments.tiering.features import FEATURE_NAMES, last_user_text, request_features
from deployments.tiering.model import TierModel

logger = logging.getLogger("tollgate.tiering")

__all__ = ["Embed", "TierClassifierService", "TierVerdict", "embed_via", "local_embed"]

Embed = Callable[[list[str]], Awaitable[np.ndarray]]


def embed_via(call: Callable[[list[str]], Awaitable[Any]]) -> Embed:
    """Embeddings from another process's embedder (the SemanticCache deployment's ``embed``), as float32 arrays."""

    async def embed(texts: list[str]) -> np.ndarray:
        return np.asarray(await call(texts), dtype=np.float32)

    return embed


def local_embed() -> Embed:
    """Embeddings from a model loaded in this process on first use (in a thread, off the event loop): for a graph
    without the SemanticCache deployment to ask."""
    embedder: list[Any] = []

    async def embed(texts: list[str]) -> np.ndarray:
        if not embedder:
            from deployments.cache.embedder import Embedder

            embedder.append(await asyncio.to_thread(Embedder))
            logger.info("the tier classifier loaded its own embedding model (the graph has no SemanticCache)")
        return np.asarray(await asyncio.to_thread(embedder[0].embed, texts), dtype=np.float32)

    return embed


@dataclass(frozen=True)
class TierVerdict:
    """The classifier's answer; crosses the Ray call as it is."""

    score: float
    drivers: tuple[tuple[str, float], ...] = ()
    features: dict[str, float] = field(default_factory=dict)
    embedded: bool = False  # True when this call had to embed the text (no vector came with the request)
    classify_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "drivers": [list(d) for d in self.drivers], "features": self.features,
                "embedded": self.embedded, "classify_ms": self.classify_ms}


class TierClassifierService:
    """Scores requests with the shipped model; ``embed`` is only called when no vector is given."""

    def __init__(self, embed: Embed, model: TierModel | None = None) -> None:
        self._embed = embed
        self.model = model or TierModel.load()

    async def vector_for(self, request: Mapping[str, Any], vector: Sequence[float] | None) -> tuple[np.ndarray, bool]:
        if vector is not None:
            array = np.asarray(vector, dtype=np.float32)
            if array.shape != (DIMENSIONS,):
                raise ValueError(f"an embedding of {DIMENSIONS} numbers is needed, got shape {array.shape}")
            return array, False
        text = last_user_text(request)
        if not text or not text.strip():
            # Nothing to embed (the last message is not the user's text): the request features decide alone.
            return np.zeros(DIMENSIONS, dtype=np.float32), False
        return np.asarray((await self._embed([text]))[0], dtype=np.float32), True

    async def classify(self, request: Mapping[str, Any], vector: Sequence[float] | None = None) -> TierVerdict:
        array, embedded = await self.vector_for(request, vector)
        started = time.perf_counter()
        features = request_features(request)
        scored = self.model.score(array, features)
        return TierVerdict(
            score=float(scored.score),
            drivers=tuple((str(name), round(float(value), 4)) for name, value in scored.drivers),
            features={name: round(float(value), 4) for name, value in zip(FEATURE_NAMES, features)},
            embedded=embedded,
            classify_ms=(time.perf_counter() - started) * 1000,
        )
