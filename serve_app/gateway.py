"""The ingress's logic, free of HTTP and Ray: authenticate, resolve, call with failover, time.

:mod:`serve_app.api` turns HTTP into calls on :class:`Gateway`; backends come in
through the constructor, so tests pass in-process ones.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from deployments.providers.proxy import META_KEY
from deployments.router.board import Outcome, TargetBoard
from deployments.router.policy import target_key
from serve_app.auth import bearer_token, check_master_key
from serve_app.backends import Backend
from serve_app.catalog import Catalog, ResolvedTarget
from serve_app.config import GatewayConfig, ProviderKind
from serve_app.errors import (
    BadRequestError,
    DeadlineExceededError,
    TollgateError,
    UpstreamError,
    UpstreamTimeoutError,
    error_body,
)
from serve_app.metrics import GatewayMetrics
from serve_app.protocol import ChatCompletionRequest
from serve_app.routing import Failover, RouterLink, RouterSync, classify

__all__ = ["ChatReply", "Gateway", "StreamReply"]

logger = logging.getLogger("tollgate.gateway")

_READINESS_TIMEOUT_S = 2.0

Chunk = dict[str, Any]


@dataclass
class ChatReply:
    """A whole answer and the headers that describe it."""

    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class StreamReply:
    """An answer whose first chunk has arrived; ``body`` yields SSE bytes.

    ``release`` frees the target's hold; the body calls it when it ends, and the
    HTTP layer calls it again (harmlessly) in case the body was never iterated.
    """

    body: AsyncIterator[bytes]
    headers: dict[str, str] = field(default_factory=dict)
    release: Callable[[], None] = lambda: None


def _sse(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def _output_tokens(usage: Any) -> int | None:
    if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
        return int(usage["completion_tokens"])
    return None


class Gateway:
    """Serves chat completions over the catalog's targets with retries and failover."""

    def __init__(
        self,
        config: GatewayConfig,
        backends: Mapping[ProviderKind, Backend],
        master_key: str,
        *,
        metrics: GatewayMetrics | None = None,
        router: RouterLink | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.config = config
        self.catalog = Catalog(config)
        self.board = TargetBoard(config.routing.circuit)
        self._sync = RouterSync(self.board, router, config.routing.sync_interval_s) if router else None
        self.failover = Failover(
            config, self.catalog, self.board, metrics=metrics,
            report=self._sync.report if self._sync else None, rng=rng, sleep=sleep,
        )
        self._backends = backends
        self._master_key = master_key

    def authenticate(self, authorization: str | None, api_key: str | None) -> None:
        check_master_key(bearer_token(authorization, api_key), self._master_key)

    def deadline(self, header_ms: str | None) -> float:
        """The request's deadline (``time.time()``): the config's, or sooner if the client asks."""
        budget = self.config.routing.deadline_s
        if header_ms is not None:
            try:
                asked = float(header_ms) / 1000
            except ValueError:
                asked = -1.0
            if not asked > 0:
                raise BadRequestError("x-tollgate-deadline-ms must be a positive number of milliseconds",
                                      param="x-tollgate-deadline-ms")
            budget = min(budget, asked)
        return time.time() + budget

    def _backend(self, rt: ResolvedTarget) -> Backend:
        kind = ProviderKind.OPENAI if rt.target.provider is ProviderKind.AZURE else rt.target.provider
        return self._backends[kind]

    def _begin(self) -> None:
        if self._sync is not None:
            self._sync.ensure_started()

    async def readiness(self) -> dict[str, Any]:
        """Each backend's health, checked concurrently with a bounded wait."""
        kinds = list(self._backends)
        results = await asyncio.gather(*(_check(self._backends[k]) for k in kinds))
        components = {k.value: {"ready": r is None, **({"error": r} if r else {})} for k, r in zip(kinds, results)}
        return {"ready": all(r is None for r in results), "components": components}

    async def reset_routing(self) -> None:
        """Forget live statistics and open circuits (here and in the Router deployment)."""
        if self._sync is not None:
            await self._sync.reset()
        else:
            self.board.reset()

    def routing_state(self) -> dict[str, Any]:
        """Availability and live statistics of every target, for operators."""
        keys = {
            target_key(name, i): t.label
            for name, model in self.config.models.items() for i, t in enumerate(model.targets)
        }
        described = self.board.describe(keys)
        return {key: {"target": label, **described[key]} for key, label in keys.items()}

    async def chat(self, request: ChatCompletionRequest, started: float, deadline: float) -> ChatReply:
        """A non-streamed completion; ``started`` is ``time.perf_counter()`` at request arrival."""
        self._begin()
        internal = request.to_internal()

        async def attempt(rt: ResolvedTarget, remaining: float) -> dict[str, Any]:
            try:
                return await asyncio.wait_for(self._backend(rt).complete(rt.model, rt.index, internal), remaining)
            except TimeoutError as exc:
                # Only the request's own deadline is enforced here; the target's timeouts are httpx's.
                raise DeadlineExceededError(f"{rt.target.label} did not answer before the request's deadline") from exc

        result = await self.failover.run(request.model, attempt, deadline)
        reply = result.value
        # No tokens/s from a non-streamed answer: its "first token" is the whole answer.
        self.failover.observe(
            result.target, Outcome.OK, result.started, ttft_ms=reply["upstream_ms"], quota=reply.get("headers") or None,
        )
        overhead = time.perf_counter() - started - reply["upstream_ms"] / 1000
        return ChatReply(body=reply["body"], headers=self._headers(result.target, result.attempts, overhead))

    async def chat_stream(self, request: ChatCompletionRequest, started: float, deadline: float) -> StreamReply:
        """A streamed completion. Failover happens only before the first chunk is returned."""
        self._begin()
        internal = request.to_internal()
        first_token_timeout = self.config.routing.first_token_timeout_s

        async def attempt(rt: ResolvedTarget, remaining: float) -> tuple[Chunk, Chunk, AsyncIterator[Chunk]]:
            source = self._backend(rt).complete_stream(rt.model, rt.index, internal)
            timeout = min(first_token_timeout, remaining)
            try:
                meta = await asyncio.wait_for(anext(source), timeout)
                first = await asyncio.wait_for(anext(source), timeout)
            except TimeoutError as exc:
                await source.aclose()  # type: ignore[attr-defined]
                if remaining < first_token_timeout:
                    raise DeadlineExceededError(
                        f"{rt.target.label} sent no first token before the request's deadline"
                    ) from exc
                raise UpstreamTimeoutError(f"{rt.target.label} sent no first token within {timeout:.1f} s") from exc
            except StopAsyncIteration as exc:
                raise UpstreamError(f"{rt.target.label} returned an empty stream") from exc
            except BaseException:
                await source.aclose()  # type: ignore[attr-defined]
                raise
            return meta, first, source

        result = await self.failover.run(request.model, attempt, deadline, release_on_success=False)
        meta, first, source = result.value
        upstream_s = float(meta.get(META_KEY, {}).get("upstream_ms", 0.0)) / 1000
        overhead = time.perf_counter() - started - upstream_s
        lease = result.lease

        def release() -> None:
            self.board.release(lease)

        body = self._sse_body(result.target, result.started, upstream_s * 1000, first, source,
                              request.include_usage, release)
        return StreamReply(body=body, headers=self._headers(result.target, result.attempts, overhead), release=release)

    @staticmethod
    def _headers(rt: ResolvedTarget, attempts: int, overhead_s: float) -> dict[str, str]:
        return {
            "x-tollgate-model": rt.target.label,
            "x-tollgate-attempts": str(attempts),
            "x-tollgate-overhead-ms": _ms(max(0.0, overhead_s)),
        }

    async def _sse_body(
        self, rt: ResolvedTarget, attempt_started: float, ttft_ms: float, first: Chunk,
        source: AsyncIterator[Chunk], include_usage: bool, release: Callable[[], None],
    ) -> AsyncIterator[bytes]:
        idle_timeout = self.config.routing.idle_timeout_s
        output_tokens: int | None = None
        try:
            chunk: Chunk | None = first
            while chunk is not None:
                if chunk.get("usage"):
                    output_tokens = _output_tokens(chunk["usage"])
                if include_usage or chunk.get("choices"):
                    if not include_usage:
                        chunk.pop("usage", None)
                    yield _sse(chunk)
                try:
                    chunk = await asyncio.wait_for(anext(source, None), idle_timeout)
                except TimeoutError as exc:
                    raise UpstreamTimeoutError(
                        f"{rt.target.label} sent nothing for {idle_timeout:.0f} s mid-stream"
                    ) from exc
        except TollgateError as err:
            # After the first byte there is no failover: end with an error event and no [DONE],
            # so no client mistakes a cut answer for a complete one.
            logger.warning("stream from %s failed after the first chunk: %s", rt.target.label, err.message)
            release()
            self.failover.observe(rt, classify(err), attempt_started)
            yield _sse(error_body(err))
            return
        finally:
            release()  # also when the client went away (nothing to say about the target then)
            await source.aclose()  # type: ignore[attr-defined]
        self.failover.observe(rt, Outcome.OK, attempt_started, ttft_ms=ttft_ms, output_tokens=output_tokens)
        yield b"data: [DONE]\n\n"


async def _check(backend: Backend) -> str | None:
    try:
        await backend.check_health(_READINESS_TIMEOUT_S)
    except TollgateError as err:
        return err.message
    return None
