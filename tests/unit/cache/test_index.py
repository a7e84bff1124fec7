"""The scoped FAISS index: search stays inside its scope; removal and rebuild keep results right."""

from __future__ import annotations

from collections.abc import Callable

import faiss
import numpy as np
import pytest

from deployments.cache.index import ScopedIndex, gpu_mover


def _unit(rows: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((rows, 384)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_search_finds_the_nearest_entry_of_its_own_scope_only() -> None:
    index = ScopedIndex()
    vectors = _unit(200)
    index.add("team-a", [f"a{i}" for i in range(100)], vectors[:100])
    index.add("team-b", [f"b{i}" for i in range(100)], vectors[100:])
    found = index.search("team-a", vectors[7], 3)
    assert found[0][0] == "a7" and abs(found[0][1] - 1.0) < 1e-5
    assert all(entry_id.startswith("a") for entry_id, _ in found)
    # The exact vector of a team-b entry, searched in team-a's scope, never returns it.
    assert all(entry_id.startswith("a") for entry_id, _ in index.search("team-a", vectors[150], 10))
    assert index.search("team-c", vectors[7], 3) == []
    assert len(index) == 200 and index.scopes() == 2


def test_adding_a_known_id_again_is_ignored() -> None:
    index = ScopedIndex()
    vectors = _unit(3)
    index.add("s", ["x", "y"], vectors[:2])
    index.add("s", ["y", "z"], vectors[1:])
    assert len(index) == 3
    assert [entry_id for entry_id, _ in index.search("s", vectors[1], 5)].count("y") == 1


def test_removed_entries_are_not_found_and_the_scope_is_rebuilt() -> None:
    index = ScopedIndex()
    vectors = _unit(10, seed=1)
    ids = [f"e{i}" for i in range(10)]
    index.add("s", ids, vectors)
    index.remove("e3")
    assert "e3" not in index
    assert "e3" not in [entry_id for entry_id, _ in index.search("s", vectors[3], 10)]
    for entry_id in ids[:6]:  # past half removed: the graph is rebuilt from the survivors
        index.remove(entry_id)
    found = index.search("s", vectors[8], 10)
    assert sorted(entry_id for entry_id, _ in found) == ids[6:]
    assert found[0][0] == "e8"
    for entry_id in ids[6:]:
        index.remove(entry_id)
    assert index.scopes() == 0 and index.search("s", vectors[8], 1) == []


def _flat_on_cpu(moved: list[int]) -> Callable[[faiss.Index], faiss.Index]:
    """Stands in for faiss.index_cpu_to_gpu (this machine has no GPU): the exact index stays on the CPU."""
    def move(index: faiss.Index) -> faiss.Index:
        moved.append(index.ntotal)
        return index
    return move


def test_a_scope_that_grows_past_the_threshold_is_searched_exactly_by_the_mover_and_small_ones_stay_hnsw() -> None:
    moved: list[int] = []
    index = ScopedIndex(gpu_min_entries=50, mover=_flat_on_cpu(moved))
    vectors = _unit(130, seed=2)
    index.add("big", [f"b{i}" for i in range(40)], vectors[:40])
    index.add("small", [f"s{i}" for i in range(10)], vectors[100:110])
    assert not index.on_gpu("big") and moved == []
    index.add("big", [f"b{i}" for i in range(40, 60)], vectors[40:60])
    assert index.on_gpu("big") and not index.on_gpu("small") and moved == [60]
    index.add("big", ["b60"], vectors[60:61])  # later adds go to the moved index
    for i in (0, 45, 60):
        assert index.search("big", vectors[i], 1) == [(f"b{i}", pytest.approx(1.0, abs=1e-5))]
    assert all(e.startswith("s") for e, _ in index.search("small", vectors[5], 5))
    for i in range(40):  # removing most of it rebuilds it below the threshold: back to the CPU graph
        index.remove(f"b{i}")
    assert not index.on_gpu("big")
    assert index.search("big", vectors[50], 1)[0][0] == "b50"


def test_without_a_gpu_build_nothing_moves() -> None:
    assert gpu_mover() is None  # faiss-cpu here
    index = ScopedIndex(gpu_min_entries=5, mover=None)
    index.add("s", [f"e{i}" for i in range(10)], _unit(10))
    assert not index.on_gpu("s")
