"""``tollgate cache probe``: JSON lines ``{"seed", "query"}`` in, ``{"hit", "similarity", "refused_by"?}`` out
(``refused_by``: the structured check, or ``cross_encoder`` or ``verifier``, that refused a seed near enough to be
considered), each line judged on its own through the gateway's own path: its cache key, an empty store seeded with
the seed, then exact match, vector search and the decision stage, exactly as a request would meet them."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from deployments.cache.decision import Decision
from deployments.cache.embedder import shared_embedder
from deployments.cache.service import SemanticCacheService

__all__ = ["run_probe"]

_SEED_ANSWER = {"content": "(the seed's answer)", "model": "probe", "usage": {}, "target": "probe", "cost_usd": 0.0}
_BATCH_LINES = 64


def _request(text: str, model: str) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], "temperature": 0}


async def _probe(lines: Iterable[str], out: TextIO, cache: Any, model: str) -> int:
    from deployments.cache.step import plan_cache
    from tollgate_core.entities import MASTER
    from tollgate_core.store import open_database

    embedder = shared_embedder()
    memo: dict[str, np.ndarray] = {}

    async def embed(texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in memo]
        if missing:
            memo.update(zip(missing, embedder.embed(missing)))
        return np.vstack([memo[t] for t in texts])

    def key(text: str) -> Any:
        plan = plan_cache(cache, MASTER, _request(text, model))
        if plan.key is None:
            raise ValueError(f"not cacheable ({plan.reason})")
        return plan.key

    failures = 0
    with tempfile.TemporaryDirectory(prefix="tollgate-probe-") as tmp:
        db = await open_database(f"sqlite:///{Path(tmp) / 'probe.db'}")
        try:
            service = SemanticCacheService(db, embed, Decision.from_config(cache), candidates=cache.candidates)
            pending = [line for line in lines if line.strip()]
            for start in range(0, len(pending), _BATCH_LINES):
                batch = []
                for line in pending[start:start + _BATCH_LINES]:
                    try:
                        item = json.loads(line)
                        seed, query = item["seed"], item["query"]
                        if not isinstance(seed, str) or not isinstance(query, str):
                            raise TypeError("seed and query must be strings")
                        batch.append((item, key(seed), key(query)))
                    except (ValueError, KeyError, TypeError) as exc:
                        batch.append(({"error": f"bad input line: {exc}"}, None, None))
                await embed([k.query for _, s, q in batch if s is not None for k in (s, q)])
                for item, seed_key, query_key in batch:
                    if seed_key is None or query_key is None:
                        failures += 1
                        out.write(json.dumps(item) + "\n")
                        continue
                    await service.purge()
                    await service.store(seed_key, _SEED_ANSWER, cache.ttl_s)
                    result = await service.lookup(query_key, cache.semantic)
                    row: dict[str, Any] = {"hit": result.hit, "similarity": round(_similarity(result, memo,
                                                                                              seed_key.query), 6)}
                    if result.refusal is not None:
                        row["refused_by"] = result.refusal
                    if "id" in item:
                        row = {"id": item["id"], **row}
                    out.write(json.dumps(row) + "\n")
                out.flush()
        finally:
            await db.close()
    return 1 if failures else 0


def _similarity(result: Any, memo: dict[str, np.ndarray], seed: str) -> float:
    """The cosine of query and seed (1.0 for an exact hit), whether or not the decision stage accepted it."""
    if result.similarity is not None:
        return float(result.similarity)
    return float(np.dot(np.asarray(result.vector, dtype=np.float32), memo[seed]))


def run_probe(source: TextIO, out: TextIO, cache: Any, model: str = "probe") -> int:
    """Probe every line of ``source``; 0, or 1 if a line could not be read (it gets an ``error`` line)."""
    return asyncio.run(_probe(source.readlines(), out, cache, model))
