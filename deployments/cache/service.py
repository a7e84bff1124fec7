"""The cache's logic without Ray: exact lookup in the store, then embed → scoped vector search → decision stage.

The state store is the authority; each replica's FAISS index is a view of it, rebuilt at start and tailed every
``sync_interval_s``, so an entry stored through one replica becomes a semantic hit on every replica. A purge deletes
rows; a replica that still has the vector finds the row gone when it fetches candidates and drops it."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from deployments.cache.decision import Choice, Decision, Refusal
from deployments.cache.entries import CacheEntries, CacheEntry
from deployments.cache.index import ScopedIndex
from tollgate_core.store import Database

__all__ = ["CacheKey", "Lookup", "SemanticCacheService"]

logger = logging.getLogger("tollgate.cache")

Embed = Callable[[list[str]], Awaitable[np.ndarray]]

# Entries stored by another replica are picked up by a tail on created_at; the overlap covers
# clock skew between replicas and transactions that commit after a later-stamped one.
_TAIL_OVERLAP_S = 30.0


@dataclass(frozen=True)
class CacheKey:
    """Where a request may hit: ``scope`` (tenant, model, context), ``exact_key`` (scope + normalised query)."""

    scope: str
    exact_key: str
    tenant: str
    model: str
    query: str
    operating_point: str = "strict"  # strict or balanced: how sure the decision stage must be


@dataclass
class Lookup:
    """A lookup's outcome; plain data so it crosses a Ray call. ``vector`` is the query's embedding (None after an
    exact hit, which needs none) for the store that follows a miss and for the tier classifier."""

    hit: bool
    kind: str | None = None  # "exact" or "semantic"
    similarity: float | None = None
    score: float | None = None
    entry_id: str | None = None
    response: dict[str, Any] | None = None
    vector: list[float] | None = None
    lookup_ms: float = 0.0
    refusal: str | None = None  # a miss with a near candidate: the check that refused it, or "verifier"


class SemanticCacheService:
    """Lookup, store and purge over the state store, an in-memory scoped index and the decision stage."""

    def __init__(self, db: Database, embed: Embed, decision: Decision, *, candidates: int = 4,
                 sync_interval_s: float = 0.5, clock: Callable[[], float] = time.time,
                 index: ScopedIndex | None = None) -> None:
        self.entries = CacheEntries(db)
        self.index = index or ScopedIndex()
        self.decision = decision
        self._embed = embed
        self._candidates = candidates
        self._sync_interval_s = sync_interval_s
        self._clock = clock
        self._synced_at = -1.0  # wall-clock time of the last tail (store time)
        self._tailed_at = 0.0  # monotonic time of the last tail
        self._expiry: dict[str, float] = {}
        self._sync_lock = asyncio.Lock()

    async def start(self) -> int:
        """Load every live entry into the index; the number loaded."""
        await self._tail(force=True)
        logger.info("semantic cache: %d entries in %d scopes loaded", len(self.index), self.index.scopes())
        return len(self.index)

    async def _tail(self, *, force: bool = False) -> None:
        if not force and time.monotonic() - self._tailed_at < self._sync_interval_s:
            return
        async with self._sync_lock:
            if not force and time.monotonic() - self._tailed_at < self._sync_interval_s:
                return
            now = self._clock()
            since = max(0.0, self._synced_at - _TAIL_OVERLAP_S) if self._synced_at >= 0 else 0.0
            fresh = [e for e in await self.entries.indexed_since(since, now) if e.id not in self.index]
            self._add([(e.id, e.scope, e.vector, e.expires_at) for e in fresh])
            self._synced_at, self._tailed_at = now, time.monotonic()

    def _add(self, entries: list[tuple[str, str, np.ndarray, float]]) -> None:
        """(entry id, scope, vector, expiry) into the index."""
        by_scope: dict[str, list[tuple[str, np.ndarray]]] = {}
        for entry_id, scope, vector, expires_at in entries:
            by_scope.setdefault(scope, []).append((entry_id, vector))
            self._expiry[entry_id] = expires_at
        for scope, group in by_scope.items():
            self.index.add(scope, [entry_id for entry_id, _ in group], np.vstack([vector for _, vector in group]))

    def _forget(self, entry_id: str) -> None:
        self.index.remove(entry_id)
        self._expiry.pop(entry_id, None)

    async def lookup(self, key: CacheKey, semantic: bool = True) -> Lookup:
        """Exact match first (no embedding needed), then the semantic path."""
        started = time.perf_counter()
        now = self._clock()
        exact = await self.entries.find_exact(key.exact_key, now)
        if exact is not None:
            return Lookup(True, "exact", 1.0, 1.0, exact.id, exact.response,
                          lookup_ms=(time.perf_counter() - started) * 1000)
        vector = (await self._embed([key.query]))[0]
        result = Lookup(False, vector=vector.tolist())
        if semantic:
            await self._tail()
            found = await self._semantic(key, vector, now)
            if isinstance(found, Refusal):
                result.refusal = found.reason
            elif found is not None:
                entry, similarity, score = found
                result = Lookup(True, "semantic", similarity, score, entry.id, entry.response, vector.tolist())
        result.lookup_ms = (time.perf_counter() - started) * 1000
        return result

    async def _semantic(self, key: CacheKey, vector: np.ndarray, now: float
                        ) -> tuple[CacheEntry, float, float] | Refusal | None:
        neighbours = []
        for entry_id, similarity in self.index.search(key.scope, vector, self._candidates):
            if self._expiry.get(entry_id, 0.0) <= now:
                self._forget(entry_id)
            elif similarity >= self.decision.min_cosine:
                neighbours.append((entry_id, similarity))
        if not neighbours:
            return None
        live = await self.entries.fetch([entry_id for entry_id, _ in neighbours], now)
        candidates = []
        for entry_id, similarity in neighbours:
            entry = live.get(entry_id)
            if entry is None or entry.scope != key.scope:
                self._forget(entry_id)  # purged or expired since this replica indexed it
                continue
            candidates.append((entry_id, entry.query, entry.vector, similarity))
        if self.decision.reads_pairs:  # a model reads each pair: not on the event loop
            choice = await asyncio.to_thread(self.decision.decide, key.query, vector, candidates, key.operating_point)
        else:
            choice = self.decision.decide(key.query, vector, candidates, key.operating_point)
        if not isinstance(choice, Choice):
            return choice
        return live[choice.entry_id], choice.similarity, choice.score

    async def store(self, key: CacheKey, response: dict[str, Any], ttl_s: float,
                    vector: list[float] | None = None) -> str:
        """Persist an answer for ``key`` (embedding the query unless the lookup already did); its entry id."""
        array = (np.asarray(vector, dtype=np.float32) if vector is not None
                 else (await self._embed([key.query]))[0])
        now = self._clock()
        entry = CacheEntry(id=uuid.uuid4().hex, scope=key.scope, tenant=key.tenant, model=key.model,
                           exact_key=key.exact_key, query=key.query, vector=array, response=response,
                           created_at=now, expires_at=now + ttl_s)
        await self.entries.insert(entry)
        self._add([(entry.id, entry.scope, entry.vector, entry.expires_at)])
        return entry.id

    async def purge(self, *, tenant: str | None = None, model: str | None = None,
                    older_than_s: float | None = None) -> int:
        """Delete matching entries from the store (every replica stops serving them) and from this index."""
        deleted = await self.entries.purge(now=self._clock(), tenant=tenant, model=model, older_than_s=older_than_s)
        if tenant is None and model is None and older_than_s is None:
            for entry_id in list(self._expiry):
                self._forget(entry_id)
        return deleted

    async def delete_expired(self) -> int:
        now = self._clock()
        for entry_id, expires_at in list(self._expiry.items()):
            if expires_at <= now:
                self._forget(entry_id)
        return await self.entries.delete_expired(now)

    async def stats(self) -> dict[str, Any]:
        per_tenant = await self.entries.count(self._clock())
        return {"entries": sum(per_tenant.values()), "by_tenant": per_tenant, "indexed": len(self.index),
                "scopes": self.index.scopes()}
