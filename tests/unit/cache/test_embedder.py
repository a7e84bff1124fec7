"""The embedder: rows in the order of the texts, whatever length groups they were embedded in."""

from __future__ import annotations

import numpy as np
import pytest

from deployments.cache.embedder import Embedder, cpu_has_bf16, length_groups


def test_length_groups_keep_short_texts_apart_from_long_ones() -> None:
    texts = ["a" * 10, "b" * 500, "c" * 20, "d" * 2000, "e" * 1500, "f" * 90]
    assert length_groups(texts) == [[0, 2, 5], [1], [4, 3]]  # 2000 and 1500 both pass the model's limit
    assert length_groups([]) == []


def test_mixed_lengths_embed_as_each_text_alone(embedder: Embedder) -> None:
    long_prompt = "Summarise the customer's note and list every order number it mentions. " * 16
    texts = ["Where is my parcel?", long_prompt, "How do I reset my password?", "Cancel order 4411, please."]
    together = embedder.embed(texts)
    alone = np.vstack([embedder.embed([t]) for t in texts])
    assert together.shape == (4, 384) and together.dtype == np.float32
    np.testing.assert_allclose(together, alone, atol=1e-4)
    assert float(together[0] @ alone[0]) > 0.9999 and float(together[0] @ alone[2]) < 0.9


def test_bfloat16_autocast_stays_on_float32s_embeddings(embedder: Embedder) -> None:
    if not cpu_has_bf16():
        pytest.skip("this CPU has no native bfloat16: the embedder runs in float32")
    assert embedder.bf16
    float32 = Embedder(threads=1, bf16=False)
    texts = ["Where is my parcel?", "Summarise the customer's note and list every order number it mentions. " * 16]
    fast, exact = embedder.embed(texts), float32.embed(texts)
    assert fast.dtype == np.float32
    assert np.all(np.sum(fast * exact, axis=1) > 0.9999)
    assert not np.array_equal(fast, exact)  # it did run in bfloat16


def test_bfloat16_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOLLGATE_CPU_BF16", "0")
    assert not cpu_has_bf16()
