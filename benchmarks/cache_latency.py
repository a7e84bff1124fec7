"""Response-cache latency: a hit next to a miss and a bypass, the embedding stage's batching, and index search.

1. End to end through Ray Serve (Ingress → Guardrail → SemanticCache → OpenAIProxy → a zero-latency fake upstream
   on 127.0.0.1), sequential requests on one kept-alive connection: ``bypass`` (temperature 0.7: no lookup),
   ``miss`` (temperature 0, a new question each time: lookup, upstream, store), ``exact hit`` (a repeated question)
   and ``semantic hit`` (paraphrases of stored questions from ../shared/data/semantic_cache that the decision
   stage accepts).
2. Embedding throughput of the SemanticCache deployment through its ``@serve.batch`` method at concurrency 1 and
   32 (one text per call, as lookups send them).
3. One embedding batch of mixed lengths in process: every text in one model call (padded to the longest) beside
   ``Embedder.embed``'s length groups (``--mixed-only`` prints only this table).
4. Index search at 100k entries: the scoped HNSW index next to FAISS's exact flat search, over vectors drawn around
   real query embeddings, with HNSW's recall@1 against the exact answer.

Usage: ``.venv/bin/python benchmarks/cache_latency.py [--requests 200] [--entries 100000]``
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import statistics
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import numpy as np
from overhead import STREAM_FILLER, deploy_in_process, fake_target, post_chat, serve_beside_fake

DATA = ROOT.parent / "shared" / "data" / "semantic_cache"
MASTER_KEY = "sk-bench-master-key"


def _pairs(limit: int) -> list[tuple[str, str]]:
    pairs = []
    with open(DATA / "qqp_pairs_every4th.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["label"] == 1:
                pairs.append((row["a"], row["b"]))
            if len(pairs) >= limit:
                break
    return pairs


def _post(conn: http.client.HTTPConnection, text: str, temperature: float) -> tuple[float, str]:
    body = {"model": "bench", "temperature": temperature, "max_tokens": 32,
            "messages": [{"role": "user", "content": text}]}
    elapsed, response = post_chat(conn, body, MASTER_KEY)
    return elapsed, response.getheader("x-tollgate-cache") or ""


def end_to_end(port: int, requests: int) -> dict[str, list[float]]:
    pairs = _pairs(requests * 4)
    out: dict[str, list[float]] = {"bypass": [], "miss": [], "exact hit": [], "semantic hit": []}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    with closing(conn):
        for i in range(20):  # warm-up (bypass only: the cache stays empty)
            _post(conn, f"warm-up question {i}", 0.7)
        for i in range(requests):
            out["bypass"].append(_post(conn, pairs[i][0], 0.7)[0])
        seeds = pairs[:requests * 2]
        for seed, _ in seeds:  # every seed is a miss, then stored
            elapsed, status = _post(conn, seed, 0.0)
            if status == "miss":
                out["miss"].append(elapsed)
        time.sleep(1.0)  # the stores run after the responses
        for seed, _ in seeds[:requests]:
            elapsed, status = _post(conn, seed, 0.0)
            if status == "hit":
                out["exact hit"].append(elapsed)
        for _, paraphrase in seeds:
            elapsed, status = _post(conn, paraphrase, 0.0)
            if status == "hit":
                out["semantic hit"].append(elapsed)
    return out


async def embed_throughput(handle: Any, texts: list[str], concurrency: int, calls: int) -> float:
    remaining = calls

    async def worker(offset: int) -> None:
        nonlocal remaining
        i = offset
        while remaining > 0:
            remaining -= 1
            await handle.embed.remote([texts[i % len(texts)]])
            i += concurrency

    started = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return calls / (time.perf_counter() - started)


def index_search(entries: int, queries: int) -> tuple[list[tuple[str, float, float, float]], float]:
    import faiss

    from deployments.cache.embedder import shared_embedder
    from deployments.cache.index import ScopedIndex

    texts = [a for a, _ in _pairs(1000)] + [b for _, b in _pairs(1000)]
    centres = shared_embedder().embed(texts)
    rng = np.random.default_rng(0)
    # Entries scattered around real query embeddings (cosine to their centre about 0.8), so the set has the
    # clustered shape of real traffic rather than uniform noise.
    picks = rng.integers(0, len(centres), entries)
    vectors = centres[picks] + rng.standard_normal((entries, centres.shape[1])).astype(np.float32) * 0.04
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    probe = vectors[rng.integers(0, entries, queries)] + rng.standard_normal(
        (queries, centres.shape[1])).astype(np.float32) * 0.02
    probe /= np.linalg.norm(probe, axis=1, keepdims=True)

    started = time.perf_counter()
    index = ScopedIndex()
    index.add("tenant", [str(i) for i in range(entries)], vectors)
    build_s = time.perf_counter() - started
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    faiss.omp_set_num_threads(1)

    hnsw_ms, flat_ms, agree = [], [], 0
    for query in probe:
        t0 = time.perf_counter()
        found = index.search("tenant", query, 4)
        t1 = time.perf_counter()
        _, exact = flat.search(query.reshape(1, -1), 4)
        t2 = time.perf_counter()
        hnsw_ms.append((t1 - t0) * 1000)
        flat_ms.append((t2 - t1) * 1000)
        agree += int(found[0][0] == str(int(exact[0][0])))
    return [("HNSW (Tollgate)", statistics.median(hnsw_ms), _p95(hnsw_ms), agree / queries),
            ("flat exact", statistics.median(flat_ms), _p95(flat_ms), 1.0)], build_s


def mixed_lengths(rounds: int = 7) -> list[tuple[str, float, float]]:
    """One embedding batch as ``@serve.batch`` hands it over: every text in one model call (padded to the longest)
    beside ``Embedder.embed``'s length groups, alternating, in this process. (name, one call ms, groups ms)."""
    from deployments.cache.embedder import shared_embedder

    embedder = shared_embedder()
    short = [f"How do I change the delivery address of order {1000 + i}?" for i in range(31)]

    def one_call(texts: list[str]) -> None:
        embedder._model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                               show_progress_bar=False)

    rows = []
    for name, texts in (("31 short questions + one 1.4 KB prompt", [*short, STREAM_FILLER]),
                        ("32 short questions", [*short, short[0]]), ("8 short questions", short[:8])):
        one_call(texts)
        embedder.embed(texts)
        whole, grouped = [], []
        for _ in range(rounds):
            started = time.perf_counter()
            one_call(texts)
            whole.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            embedder.embed(texts)
            grouped.append((time.perf_counter() - started) * 1000)
        rows.append((name, statistics.median(whole), statistics.median(grouped)))
    return rows


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) > 1 else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per end-to-end row")
    parser.add_argument("--entries", type=int, default=100_000, help="index size for the search row")
    parser.add_argument("--embed-calls", type=int, default=640, help="embedding calls per concurrency level")
    parser.add_argument("--mixed-only", action="store_true", help="only the mixed-length batch table (no Ray)")
    args = parser.parse_args()

    print("\n## One embedding batch of mixed lengths, in process (medians of 7, alternating)\n")
    print("| batch | one model call ms | length groups (Embedder.embed) ms | ratio |\n|---|---|---|---|")
    for name, whole, grouped in mixed_lengths():
        print(f"| {name} | {whole:.0f} | {grouped:.0f} | {grouped / whole:.2f}× |", flush=True)
    if args.mixed_only:
        return 0

    rows, build_s = index_search(args.entries, 1000)
    print(f"\n## Index search, {args.entries:,} entries in one scope, top-4 (built in {build_s:.1f} s)\n")
    print("| index | p50 ms | p95 ms | recall@1 vs exact |\n|---|---|---|---|")
    for name, p50, p95, recall in rows:
        print(f"| {name} | {p50:.3f} | {p95:.3f} | {recall:.3f} |")
    print(f"\nHNSW p50 / flat p50 = {rows[0][1] / rows[1][1]:.3f}; target: HNSW p50 ≤ 1 ms", flush=True)

    from ray import serve

    with serve_beside_fake(MASTER_KEY, "tollgate-cache-bench-") as (fake_port, port):
        deploy_in_process({"profile": "local", "auth": {"master_key_env": "TOLLGATE_MASTER_KEY"},
                           "audit": {"generate_hmac_key": True},
                           "models": {"bench": {"targets": [fake_target(fake_port, "gpt-4o-fake")]}}})
        results = end_to_end(port, args.requests)
        handle = serve.get_deployment_handle("SemanticCache", app_name="tollgate")
        texts = [a for a, _ in _pairs(2000)]

        async def throughput() -> tuple[float, float]:
            await embed_throughput(handle, texts, 8, 64)  # warm-up
            one = await embed_throughput(handle, texts, 1, args.embed_calls // 4)
            many = await embed_throughput(handle, texts, 32, args.embed_calls)
            return one, many

        # The handle's router lives on this loop, and serve.shutdown() (on leaving the block) still schedules its
        # shutdown there: the loop is closed only after that (asyncio.run would close it first and make it fail).
        loop = asyncio.new_event_loop()
        one, many = loop.run_until_complete(throughput())
    loop.close()

    print("\n## End to end through Ray Serve, zero-latency fake upstream, sequential\n")
    print("| request | n | p50 ms | p95 ms | p50 / miss p50 |\n|---|---|---|---|---|")
    miss_p50 = statistics.median(results["miss"])
    for name, values in results.items():
        if values:
            p50 = statistics.median(values)
            print(f"| {name} | {len(values)} | {p50:.2f} | {_p95(values):.2f} | {p50 / miss_p50:.2f} |")
    print("\n## Embedding stage (SemanticCache.embed, one text per call, @serve.batch)\n")
    print("| concurrency | texts/s |\n|---|---|")
    print(f"| 1 | {one:.1f} |\n| 32 | {many:.1f} |")
    print(f"\nconcurrency 32 / concurrency 1 = {many / one:.2f}×; target ≥ 3×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
