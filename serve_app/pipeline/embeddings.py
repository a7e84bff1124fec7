"""``/v1/embeddings`` on the request path: the request as the pipeline sees it, and the built-in embedding model.

An embedding request takes the chat path's steps where they apply: the guardrail redacts its
inputs (or refuses them), admission reserves its worst case (its input tokens, one output
token), the router picks a target with retries and failover, and the answer is settled and
recorded. There is no cache step (an embedding is as cheap to make as to look up) and no tier.
"""

from __future__ import annotations

import asyncio
import base64
import struct
import time
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np

from serve_app.governance.costing import TokenCounter
from tollgate_core.contracts import ProviderReply
from tollgate_core.errors import BadRequestError

__all__ = ["LocalEmbeddings", "as_chat_request", "encode_vectors", "inputs_of"]

EmbedTexts = Callable[[list[str]], Awaitable[Any]]
MAX_INPUTS = 2048  # OpenAI's limit per request


def inputs_of(request: dict[str, Any]) -> list[str]:
    """The texts to embed; token arrays are refused (targets differ in tokenizer)."""
    value = request.get("input")
    texts = [value] if isinstance(value, str) else value
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise BadRequestError("input: a string or a list of strings is required (token arrays are not supported)",
                              param="input")
    if len(texts) > MAX_INPUTS:
        raise BadRequestError(f"input: at most {MAX_INPUTS} strings per request", param="input")
    if any(not t for t in texts):
        raise BadRequestError("input: empty strings cannot be embedded", param="input")
    return list(texts)


def as_chat_request(model: str, texts: list[str]) -> dict[str, Any]:
    """The inputs as the guardrail and admission read requests: one user message each, one output token."""
    return {"model": model, "messages": [{"role": "user", "content": t} for t in texts], "max_tokens": 1}


def encode_vectors(body: dict[str, Any], encoding: str | None) -> dict[str, Any]:
    """The answer's vectors in the client's ``encoding_format`` (``base64``: little-endian float32, as OpenAI)."""
    if encoding != "base64":
        return body
    data = []
    for item in body.get("data") or []:
        vector = item.get("embedding") or []
        packed = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({**item, "embedding": packed})
    return {**body, "data": data}


class LocalEmbeddings:
    """The built-in all-MiniLM-L6-v2: the SemanticCache deployment's batched embedder when the graph has it, else
    one loaded in this process on first use."""

    def __init__(self, embed: EmbedTexts | None, counter: TokenCounter | None = None) -> None:
        self._embed = embed
        self._own: list[Any] = []
        self._counter = counter

    async def _vectors(self, texts: list[str]) -> np.ndarray:
        if self._embed is not None:
            return np.asarray(await self._embed(texts), dtype=np.float32)
        if not self._own:
            from deployments.cache.embedder import Embedder

            self._own.append(await asyncio.to_thread(Embedder))
        return np.asarray(await asyncio.to_thread(self._own[0].embed, texts), dtype=np.float32)

    def count(self, texts: list[str]) -> int:
        """Input tokens as the budgets count them (cl100k; an estimate for other tokenizers)."""
        self._counter = self._counter or TokenCounter()
        return sum(self._counter.count_text(t) for t in texts)

    async def __call__(self, model: str, request: dict[str, Any]) -> ProviderReply:
        texts = inputs_of(request)
        started = time.perf_counter()
        vectors = await self._vectors(texts)
        if request.get("dimensions"):
            raise BadRequestError(f"dimensions: {model} makes {vectors.shape[1]}-dimensional vectors only",
                                  param="dimensions")
        tokens = self.count(texts)
        body = {"object": "list", "model": model, "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                "data": [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)]}
        return {"body": body, "headers": {}, "upstream_ms": (time.perf_counter() - started) * 1000}
