"""Vector search per cache scope: one FAISS HNSW graph per scope, so a lookup can only ever see entries of its
own scope (tenant, model, context) — a cross-tenant hit is impossible by construction, not by a filter."""

from __future__ import annotations

from dataclasses import dataclass, field

import faiss
import numpy as np

from deployments.cache.embedder import DIMENSIONS

__all__ = ["ScopedIndex"]

_BUILD_THREADS = faiss.omp_get_max_threads()


@dataclass
class _Scope:
    index: faiss.IndexHNSWFlat
    ids: list[str] = field(default_factory=list)  # FAISS position → entry id
    removed: set[int] = field(default_factory=set)  # positions whose entry is gone (HNSW cannot delete)


class ScopedIndex:
    """Entry ids and their unit vectors, searchable by inner product (= cosine) within one scope."""

    def __init__(self, *, dimensions: int = DIMENSIONS, hnsw_m: int = 16, ef_construction: int = 40,
                 ef_search: int = 48) -> None:
        self._dimensions = dimensions
        self._m = hnsw_m
        self._ef_construction = ef_construction
        self._ef_search = ef_search
        self._scopes: dict[str, _Scope] = {}
        self._where: dict[str, tuple[str, int]] = {}  # entry id → (scope, position)

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
        vectors = np.vstack([state.index.reconstruct(p) for p in keep])
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
