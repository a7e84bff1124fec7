"""The embedder: rows in the order of the texts, whatever length groups they were embedded in."""

from __future__ import annotations

import numpy as np

from deployments.cache.embedder import Embedder, length_groups


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
