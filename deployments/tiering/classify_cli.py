"""``tollgate route classify``: JSON lines ``{"text": ...}`` in, ``{"tier", "score"}`` out, through the deployment's
own code (:class:`~deployments.tiering.service.TierClassifierService`) and a policy's threshold.

A line may carry a whole chat request instead of a text (``{"request": {"messages": [...], "tools": [...]}}``) to see
what the request features add, and an ``id`` that is copied to its output line.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, TextIO

import numpy as np

from deployments.cache.embedder import shared_embedder
from deployments.tiering.service import TierClassifierService

__all__ = ["run_classify"]


def _request_of(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise TypeError("each line must be a JSON object")
    if "request" in item:
        request = item["request"]
        if not isinstance(request, dict) or not isinstance(request.get("messages"), list):
            raise TypeError('"request" must be a chat request with a "messages" list')
        return request
    text = item.get("text")
    if not isinstance(text, str):
        raise TypeError('a line needs "text" (a string) or "request"')
    return {"messages": [{"role": "user", "content": text}]}


async def _classify(lines: list[str], out: TextIO, threshold: float, explain: bool) -> int:
    embedder = shared_embedder()

    async def embed(texts: list[str]) -> np.ndarray:
        return embedder.embed(texts)

    service = TierClassifierService(embed)
    failures = 0
    for line in lines:
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            request = _request_of(item)
        except (ValueError, TypeError) as exc:
            failures += 1
            out.write(json.dumps({"error": f"bad input line: {exc}"}) + "\n")
            continue
        verdict = await service.classify(request)
        row: dict[str, Any] = {"tier": 2 if verdict.score >= threshold else 1, "score": round(verdict.score, 4)}
        if explain:
            row["drivers"] = [list(d) for d in verdict.drivers]
        if "id" in item:
            row = {"id": item["id"], **row}
        out.write(json.dumps(row) + "\n")
        out.flush()
    return 1 if failures else 0


def run_classify(source: TextIO, out: TextIO, threshold: float, explain: bool = False) -> int:
    """Classify every line of ``source``; 0, or 1 if a line could not be read (it gets an ``error`` line)."""
    return asyncio.run(_classify(source.readlines(), out, threshold, explain))
