"""The ingress's logic, free of HTTP and Ray: authenticate, resolve, call, fail over, time.

:mod:`serve_app.api` turns HTTP into calls on :class:`Gateway`; backends come in
through the constructor, so tests pass fakes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from deployments.providers.proxy import META_KEY
from serve_app.auth import bearer_token, check_master_key
from serve_app.backends import Backend
from serve_app.catalog import Catalog, ResolvedTarget
from serve_app.config import GatewayConfig, ProviderKind
from serve_app.errors import TollgateError, UpstreamError, UpstreamStatusError, error_body
from serve_app.protocol import ChatCompletionRequest

__all__ = ["ChatReply", "Gateway", "StreamReply", "is_retryable"]

logger = logging.getLogger("tollgate.gateway")


@dataclass
class ChatReply:
    """A whole answer and the headers that describe it."""

    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class StreamReply:
    """An answer whose first chunk has arrived; ``body`` yields SSE bytes."""

    body: AsyncIterator[bytes]
    headers: dict[str, str] = field(default_factory=dict)


def is_retryable(err: TollgateError) -> bool:
    """Whether another target might succeed where this one failed."""
    if isinstance(err, UpstreamStatusError):
        return err.upstream_status == 429 or err.upstream_status >= 500 or err.upstream_status in (401, 403)
    return isinstance(err, UpstreamError)


def _sse(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


class Gateway:
    """Serves chat completions over the catalog's targets, in order, failing over on upstream errors."""

    def __init__(self, config: GatewayConfig, backends: Mapping[ProviderKind, Backend], master_key: str) -> None:
        self.config = config
        self.catalog = Catalog(config)
        self._backends = backends
        self._master_key = master_key

    def authenticate(self, authorization: str | None, api_key: str | None) -> None:
        check_master_key(bearer_token(authorization, api_key), self._master_key)

    def _backend(self, rt: ResolvedTarget) -> Backend:
        kind = ProviderKind.OPENAI if rt.target.provider is ProviderKind.AZURE else rt.target.provider
        return self._backends[kind]

    async def readiness(self) -> dict[str, Any]:
        """Each backend's health, checked concurrently with a bounded wait."""
        kinds = list(self._backends)
        results = await asyncio.gather(*(_check(self._backends[k]) for k in kinds))
        components = {k.value: {"ready": r is None, **({"error": r} if r else {})} for k, r in zip(kinds, results)}
        return {"ready": all(r is None for r in results), "components": components}

    async def chat(self, request: ChatCompletionRequest, started: float) -> ChatReply:
        """A non-streamed completion; ``started`` is ``time.perf_counter()`` at request arrival."""
        internal = request.to_internal()
        last_error: TollgateError | None = None
        attempts = 0
        for rt in self.catalog.resolve(request.model):
            attempts += 1
            try:
                result = await self._backend(rt).complete(rt.model, rt.index, internal)
            except TollgateError as err:
                last_error = err
                if not is_retryable(err):
                    raise
                logger.warning("target %s failed (%s); trying the next one", rt.target.label, err.message)
                continue
            overhead = time.perf_counter() - started - result["upstream_ms"] / 1000
            return ChatReply(
                body=result["body"],
                headers={
                    "x-tollgate-model": rt.target.label,
                    "x-tollgate-attempts": str(attempts),
                    "x-tollgate-overhead-ms": _ms(max(0.0, overhead)),
                },
            )
        assert last_error is not None  # resolve() never returns an empty list
        raise last_error

    async def chat_stream(self, request: ChatCompletionRequest, started: float) -> StreamReply:
        """A streamed completion. Failover happens only before the first chunk is returned."""
        internal = request.to_internal()
        last_error: TollgateError | None = None
        attempts = 0
        for rt in self.catalog.resolve(request.model):
            attempts += 1
            source = self._backend(rt).complete_stream(rt.model, rt.index, internal)
            try:
                meta = await anext(source)
                first = await anext(source)
            except StopAsyncIteration:
                last_error = UpstreamError(f"{rt.target.label} returned an empty stream")
                continue
            except TollgateError as err:
                last_error = err
                await source.aclose()
                if not is_retryable(err):
                    raise
                logger.warning("target %s failed (%s); trying the next one", rt.target.label, err.message)
                continue
            upstream_s = float(meta.get(META_KEY, {}).get("upstream_ms", 0.0)) / 1000
            overhead = time.perf_counter() - started - upstream_s
            headers = {
                "x-tollgate-model": rt.target.label,
                "x-tollgate-attempts": str(attempts),
                "x-tollgate-overhead-ms": _ms(max(0.0, overhead)),
            }
            return StreamReply(body=self._sse_body(first, source, request.include_usage), headers=headers)
        assert last_error is not None
        raise last_error

    async def _sse_body(
        self, first: dict[str, Any], source: AsyncIterator[dict[str, Any]], include_usage: bool
    ) -> AsyncIterator[bytes]:
        try:
            chunk: dict[str, Any] | None = first
            while chunk is not None:
                if include_usage or chunk.get("choices"):
                    if not include_usage:
                        chunk.pop("usage", None)
                    yield _sse(chunk)
                chunk = await anext(source, None)
        except TollgateError as err:
            # After the first byte there is no failover: end with an error event and no [DONE],
            # so no client mistakes a cut answer for a complete one.
            logger.warning("stream failed after the first chunk: %s", err.message)
            yield _sse(error_body(err))
            return
        yield b"data: [DONE]\n\n"


_READINESS_TIMEOUT_S = 2.0


async def _check(backend: Backend) -> str | None:
    try:
        await backend.check_health(_READINESS_TIMEOUT_S)
    except TollgateError as err:
        return err.message
    return None
