"""What a semantic lookup costs on one CPU core, with the cross-encoder (the default decision) beside the verifier.

In process, through ``SemanticCacheService.lookup`` with a real SQLite store and the real embedder at one torch
thread: embed the question, search the scope's index, fetch the candidates, then the decision stage. The store holds
the development families' stored questions (``benchmarks/data/cache_families.jsonl``), each in its own scope as
``tollgate cache probe`` does; each lookup asks the pair's other question, so a near candidate reaches the decision
stage. Two lengths: the questions as written (short), and the same questions behind the same 1 KB of context (a
RAG-style prompt of about 1 KB: pairs that long go to the verifier, the cross-encoder reads up to 128 tokens).
Modes alternate question by question, so all see the same machine noise. On a CPU with native bfloat16 the
embedder and the cross-encoder run under bfloat16 autocast (the default there); the "float32" rows are the same
lookup and embedding without it, the decision before. The "embedding alone" rows are the floor under any lookup.

    .venv/bin/python benchmarks/cache_lookup.py [--questions 120] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deployments.cache.cross_encoder import CrossEncoder
from deployments.cache.decision import Decision
from deployments.cache.embedder import Embedder, cpu_has_bf16
from deployments.cache.service import CacheKey, SemanticCacheService
from tollgate_core.store import open_database

CONTEXT = (
    "You are the assistant of the finance operations team. Use the policy excerpt below when it helps, and say so "
    "when it does not cover the question. Policy excerpt: Expenses are submitted through the expense tool within 30 "
    "days of being incurred. Receipts are required for every item above 25 dollars, and itemised hotel folios are "
    "required for every stay. Travel is booked through the corporate travel portal; bookings made elsewhere are "
    "reimbursed only with a written exception from the cost-centre owner. Economy class is the default for flights "
    "under six hours. Meals are reimbursed up to the daily per diem of the destination city, and alcohol is never "
    "reimbursed. Mileage for a private car is paid at the published rate per kilometre, and parking and tolls are "
    "reimbursed with receipts. Corporate cards are for business expenses only; a personal charge is repaid within "
    "ten days. Approvals follow the delegation of authority matrix. Question: "
)
MODES = ("verifier", "cross_encoder", "cross_encoder, float32")
EMBED_ONLY = ("embedding alone", "embedding alone, float32")


def _rows(limit: int) -> list[dict[str, str]]:
    with open(ROOT / "benchmarks" / "data" / "cache_families.jsonl", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    step = max(1, len(rows) // limit)
    return rows[::step][:limit]


async def _run(questions: int, rounds: int) -> dict[tuple[str, str], list[float]]:
    embedder, float32 = Embedder(threads=1), Embedder(threads=1, bf16=False)

    async def embed(texts: list[str]) -> np.ndarray:
        return await asyncio.to_thread(embedder.embed, texts)

    async def embed_float32(texts: list[str]) -> np.ndarray:
        return await asyncio.to_thread(float32.embed, texts)

    rows = _rows(questions)
    timings: dict[tuple[str, str], list[float]] = {(m, length): [] for m in (*MODES, *EMBED_ONLY)
                                                   for length in ("short", "1 KB")}
    with tempfile.TemporaryDirectory(prefix="tollgate-lookup-") as tmp:
        db = await open_database(f"sqlite:///{Path(tmp) / 'cache.db'}")
        try:
            services = {m: SemanticCacheService(db, embed, Decision(m)) for m in MODES[:2]}  # type: ignore[arg-type]
            services[MODES[2]] = SemanticCacheService(
                db, embed_float32, Decision("cross_encoder", cross_encoder=CrossEncoder(bf16=False)))
            for length, prefix in (("short", ""), ("1 KB", CONTEXT)):
                for i, row in enumerate(rows):
                    scope = f"{length}-{i}"
                    stored = CacheKey(scope, f"{scope}-a", "bench", "bench", prefix + row["a"])
                    await services["verifier"].store(stored, {"content": "answer"}, 3600.0)
            for service in services.values():
                await service.start()
            for _ in range(rounds):
                for length, prefix in (("short", ""), ("1 KB", CONTEXT)):
                    for i, row in enumerate(rows):
                        scope = f"{length}-{i}"
                        query = CacheKey(scope, f"{scope}-b", "bench", "bench", prefix + row["b"])
                        order = MODES if i % 2 == 0 else MODES[::-1]
                        for mode in order:
                            started = time.perf_counter()
                            await services[mode].lookup(query)
                            timings[(mode, length)].append((time.perf_counter() - started) * 1000)
                        for name, model in zip(EMBED_ONLY, (embedder, float32), strict=True):
                            started = time.perf_counter()
                            model.embed([query.query])
                            timings[(name, length)].append((time.perf_counter() - started) * 1000)
        finally:
            await db.close()
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--questions", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    timings = asyncio.run(_run(args.questions, args.rounds))
    print(f"\nSemantic lookup, one torch thread, {args.questions} questions x {args.rounds} rounds per cell (ms); "
          f"bfloat16 autocast by default: {cpu_has_bf16()}\n")
    print("| question | decision | p50 | p99 | p50 vs verifier |\n|---|---|---|---|---|")
    for length in ("short", "1 KB"):
        base = float(np.percentile(timings[("verifier", length)], 50))
        for mode in (*MODES, *EMBED_ONLY):
            values = timings[(mode, length)]
            p50, p99 = float(np.percentile(values, 50)), float(np.percentile(values, 99))
            print(f"| {length} | {mode} | {p50:.1f} | {p99:.1f} | {p50 / base:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
