"""The SemanticCache deployment: embeddings batched across concurrent requests (``@serve.batch``), the scoped
FAISS index and the decision stage, on replicas scaled apart from the ingress (a GPU one where the cluster has it)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import numpy as np
from ray import serve

from deployments.cache.decision import Decision
from deployments.cache.embedder import Embedder
from deployments.cache.index import ScopedIndex, gpu_mover
from deployments.cache.service import CacheKey, Lookup, SemanticCacheService
from tollgate_core.periodic import every

__all__ = ["SemanticCache"]

logger = logging.getLogger("tollgate.cache")


@serve.deployment(name="SemanticCache", max_ongoing_requests=128, ray_actor_options={"num_cpus": 0})
class SemanticCache:
    """Lookup, store, purge and embed; keys and lookups cross the calls as ``CacheKey`` and ``Lookup``."""

    async def __init__(self, gateway_args: dict[str, Any]) -> None:
        from tollgate_core.config import parse_gateway_config
        from tollgate_core.store import open_database

        config = parse_gateway_config(gateway_args)
        cache = config.cache
        self._embedder = Embedder(threads=cache.embed_threads)
        self._embed_one.set_max_batch_size(cache.batch.max_batch_size)
        self._embed_one.set_batch_wait_timeout_s(cache.batch.batch_wait_timeout_s)
        self._db = await open_database(config.state.resolved_url(config.server.resolved_data_dir()))
        self._service = SemanticCacheService(self._db, self._embed_many, Decision.from_config(cache),
                                             candidates=cache.candidates, sync_interval_s=cache.sync_interval_s,
                                             index=_index(cache))
        await self._service.start()
        self._sweeper = asyncio.create_task(
            every(cache.expiry_sweep_s, self._service.delete_expired, "deleting expired cache entries", logger))
        logger.info("SemanticCache ready on %s", self._embedder.device)

    @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.0)
    async def _embed_one(self, texts: list[str]) -> list[np.ndarray]:
        # The model runs in a thread so that store reads of other lookups go on meanwhile.
        vectors = await asyncio.to_thread(self._embedder.embed, texts)
        return list(vectors)

    async def _embed_many(self, texts: list[str]) -> np.ndarray:
        return np.vstack(await asyncio.gather(*(self._embed_one(text) for text in texts)))

    async def lookup(self, key: CacheKey, semantic: bool) -> Lookup:
        return await self._service.lookup(_checked(key), semantic=semantic)

    async def store(self, key: CacheKey, response: dict[str, Any], ttl_s: float,
                    vector: list[float] | None) -> str:
        return await self._service.store(_checked(key), response, ttl_s, vector)

    async def purge(self, tenant: str | None, model: str | None, older_than_s: float | None) -> int:
        return await self._service.purge(tenant=tenant, model=model, older_than_s=older_than_s)

    async def stats(self) -> dict[str, Any]:
        return await self._service.stats()

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """Embeddings through the same batcher as lookups (the tier classifier and benchmarks use it)."""
        return [vector.tolist() for vector in await self._embed_many(texts)]

    async def __del__(self) -> None:
        self._sweeper.cancel()
        with contextlib.suppress(BaseException):
            await self._sweeper
        await self._db.close()


def _checked(key: CacheKey) -> CacheKey:
    if not isinstance(key, CacheKey):
        raise TypeError(f"SemanticCache takes a CacheKey, not {type(key).__name__}")
    return key


def _index(cache: Any) -> ScopedIndex:
    """The scoped index, with large scopes on the GPU where the config asks and a GPU is there."""
    if cache.index_device != "gpu":
        return ScopedIndex()
    mover = gpu_mover()
    if mover is None:
        logger.warning("cache.index_device is gpu, but this FAISS build has no GPU support or sees no GPU "
                       "(install the gpu extra on a GPU node); searching on the CPU")
    return ScopedIndex(gpu_min_entries=cache.gpu_min_entries, mover=mover)
