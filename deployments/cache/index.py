"""Vector search per cache scope: one FAISS index per scope, so a lookup can only ever see entries of its own
scope (tenant, model, context) — a cross-tenant hit is impossible by construction, not by a filter.

A scope starts as an HNSW graph on the CPU. With ``gpu_min_entries`` set (the GPU profile, faiss-gpu), a scope
that grows to that size moves to an exact inner-product index on the GPU: brute force on a GPU beats the graph
walk for large scopes and batches, while small scopes stay on the CPU graph, where a GPU call would cost more
than the search (benchmarks/gpu_cache_search.py measures both)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import faiss
import numpy as np

from deployments.cache.embedder import DIMENSIONS

__all__ = ["ScopedIndex", "gpu_mover"]

_BUILD_THREADS = faiss.omp_get_max_threads()
logger = logging.getLogger("tollgate.cache")

# A flat CPU index to the device that will search it (faiss.index_cpu_to_gpu in the GPU profile).
Mover = Callable[[faiss.Index], faiss.Index]


@dataclass
class _Scope:
    index: Any  # faiss.IndexHNSWFlat on the CPU, or an exact index on the GPU
    ids: list[str] = field(default_factory=list)  # FAISS position → entry id
    removed: set[int] = field(default_factory=set)  # positions whose entry is gone (HNSW cannot delete)
    on_gpu: bool = False


def gpu_mover() -> Mover | None:
    """faiss.index_cpu_to_gpu on GPU 0, or None where this FAISS build has no GPU support or sees no GPU."""
    if not hasattr(faiss, "StandardGpuResources") or faiss.get_num_gpus() < 1:
        return None
    resources = faiss.StandardGpuResources()
    return lambda index: faiss.index_cpu_to_gpu(resources, 0, index)


class ScopedIndex:
    """Entry ids and their unit vectors, searchable by inner product (= cosine) within one scope."""

    def __init__(self, *, dimensions: int = DIMENSIONS, hnsw_m: int = 16, ef_construction: int = 40,
                 ef_search: int = 48, gpu_min_entries: int | None = None, mover: Mover | None = None) -> None:
        self._dimensions = dimensions
        self._m = hnsw_m
        self._ef_construction = ef_construction
        self._ef_search = ef_search
        self._scopes: dict[str, _Scope] = {}
        self._where: dict[str, tuple[str, int]] = {}  # entry id → (scope, position)
        self._gpu_min_entries = gpu_min_entries if mover is not None else None
        self._mover = mover

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._where

    def scopes(self) -> int:
        return len(self._scopes)

    def _new_index(self) -> faiss.IndexHNSWFlat:
        index = faiss.IndexHNSWFlat(self._dimensions, self._m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = self._ef_construction
        index.hnsw.efSearch = self._ef_search
        return index

    def add(self, scope: str, entry_ids: list[str], vectors: np.ndarray) -> None:
        """Add entries (ids already present are skipped, so replaying a sync is harmless)."""
        fresh = [i for i, entry_id in enumerate(entry_ids) if entry_id not in self._where]
        if not fresh:
            return
        block = np.ascontiguousarray(vectors[fresh], dtype=np.float32).reshape(len(fresh), self._dimensions)
        state = self._scopes.get(scope)
        if state is None:
            state = self._scopes[scope] = _Scope(self._new_index())
        start = len(state.ids)
        _add(state.index, block)
        for offset, i in enumerate(fresh):
            state.ids.append(entry_ids[i])
            self._where[entry_ids[i]] = (scope, start + offset)
        if (self._gpu_min_entries is not None and not state.on_gpu
                and len(state.ids) - len(state.removed) >= self._gpu_min_entries):
            self._rebuild(scope, state)

    def on_gpu(self, scope: str) -> bool:
        state = self._scopes.get(scope)
        return state is not None and state.on_gpu

    def remove(self, entry_id: str) -> None:
        """Forget an entry; its scope's graph is rebuilt once half of it is dead."""
        found = self._where.pop(entry_id, None)
        if found is None:
            return
        scope, position = found
        state = self._scopes[scope]
        state.removed.add(position)
        if len(state.removed) * 2 >= len(state.ids):
            self._rebuild(scope, state)

    def _rebuild(self, scope: str, state: _Scope) -> None:
        keep = [p for p in range(len(state.ids)) if p not in state.removed]
        if not keep:
            del self._scopes[scope]
            return
        vectors = state.index.reconstruct_n(0, len(state.ids))[keep]
        if self._mover is not None and self._gpu_min_entries is not None and len(keep) >= self._gpu_min_entries:
            flat = faiss.IndexFlatIP(self._dimensions)
            flat.add(vectors)
            fresh = _Scope(self._mover(flat), on_gpu=True)
            logger.info("cache scope %s: %d entries, searched on the GPU", scope, len(keep))
        else:
            fresh = _Scope(self._new_index())
            _add(fresh.index, vectors)
        fresh.ids = [state.ids[p] for p in keep]
        self._scopes[scope] = fresh
        for position, entry_id in enumerate(fresh.ids):
            self._where[entry_id] = (scope, position)

    def search(self, scope: str, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Up to ``k`` (entry id, cosine) pairs of ``scope``, most similar first."""
        state = self._scopes.get(scope)
        if state is None or k <= 0:
            return []
        wanted = min(len(state.ids), k + len(state.removed))
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, self._dimensions)
        faiss.omp_set_num_threads(1)  # one query: OpenMP's start-up would cost more than the search
        similarities, positions = state.index.search(query, wanted)
        found: list[tuple[str, float]] = []
        for similarity, position in zip(similarities[0], positions[0]):
            if position < 0 or int(position) in state.removed:
                continue
            found.append((state.ids[int(position)], float(similarity)))
            if len(found) == k:
                break
        return found


def _add(index: faiss.IndexHNSWFlat, vectors: np.ndarray) -> None:
    """Bulk adds (the rebuild at start) use every core; single adds do not care."""
    faiss.omp_set_num_threads(_BUILD_THREADS if len(vectors) > 256 else 1)
    index.add(vectors)
