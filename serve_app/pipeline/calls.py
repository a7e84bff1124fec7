"""One call on one target: which backend serves it, the attempt failover makes (whole answer, or a stream up to
its first chunk), and what an answer cost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from serve_app.governance.costing import actual_cost_nano, usage_numbers, write_1h_tokens
from serve_app.pipeline.backends import Backend
from tollgate_core.catalog import ResolvedTarget
from tollgate_core.config import ProviderKind
from tollgate_core.contracts import LocalChatRequest, ProviderReply
from tollgate_core.errors import DeadlineExceededError, TollgateError, UpstreamError, UpstreamTimeoutError

__all__ = ["Backends", "Chunk", "StreamOpening", "answer_text", "cost_usd", "outcome_of"]

_READINESS_TIMEOUT_S = 2.0

Chunk = dict[str, Any]
# A stream that has sent its first chunk: (metadata chunk, first chunk, the rest).
StreamOpening = tuple[Chunk, Chunk, AsyncIterator[Chunk]]


class Backends:
    """The deployments that answer for catalog targets, by provider kind (Azure is served by the OpenAI proxy)."""

    def __init__(self, backends: Mapping[ProviderKind, Backend], first_token_timeout_s: float) -> None:
        self._backends = backends
        self._first_token_timeout_s = first_token_timeout_s

    def for_target(self, rt: ResolvedTarget) -> Backend:
        kind = ProviderKind.OPENAI if rt.target.provider is ProviderKind.AZURE else rt.target.provider
        return self._backends[kind]

    def complete(self, internal: dict[str, Any]) -> Callable[[ResolvedTarget, float], Awaitable[ProviderReply]]:
        """The attempt of a non-streamed request: the whole answer, within what is left of the deadline."""

        async def attempt(rt: ResolvedTarget, remaining: float) -> ProviderReply:
            call = self.for_target(rt).complete(rt.model, rt.index, _for_target(rt, internal))
            try:
                return await asyncio.wait_for(call, remaining)
            except TimeoutError as exc:
                # Only the request's own deadline is enforced here; the target's timeouts are httpx's.
                raise DeadlineExceededError(f"{rt.target.label} did not answer before the request's deadline") from exc

        return attempt

    def embed(self, request: dict[str, Any],
              local: Callable[[str, dict[str, Any]], Awaitable[ProviderReply]]) -> Callable[[ResolvedTarget, float],
                                                                                          Awaitable[ProviderReply]]:
        """The attempt of an embedding request; ``local`` serves the built-in embedding model's targets."""

        async def attempt(rt: ResolvedTarget, remaining: float) -> ProviderReply:
            if rt.target.provider is ProviderKind.LOCAL:
                call = local(rt.target.model, request)
            else:
                call = self.for_target(rt).embed(rt.model, rt.index, request)
            try:
                return await asyncio.wait_for(call, remaining)
            except TimeoutError as exc:
                raise DeadlineExceededError(f"{rt.target.label} did not answer before the request's deadline") from exc

        return attempt

    def open_stream(self, internal: dict[str, Any]) -> Callable[[ResolvedTarget, float], Awaitable[StreamOpening]]:
        """The attempt of a streamed request: open a stream and wait for its first chunk (the point of no
        failover)."""
        default_timeout = self._first_token_timeout_s

        async def attempt(rt: ResolvedTarget, remaining: float) -> StreamOpening:
            first_token_timeout = rt.target.first_token_timeout_s or default_timeout
            source = self.for_target(rt).complete_stream(rt.model, rt.index, _for_target(rt, internal))
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

        return attempt

    async def readiness(self) -> dict[str, Any]:
        """Each backend's health, checked concurrently with a bounded wait."""
        kinds = list(self._backends)
        results = await asyncio.gather(*(_check(self._backends[k]) for k in kinds))
        components = {k.value: {"ready": r is None, **({"error": r} if r else {})} for k, r in zip(kinds, results)}
        return {"ready": all(r is None for r in results), "components": components}


def _for_target(rt: ResolvedTarget, internal: dict[str, Any]) -> Any:
    """The request as the target's backend takes it: the local tier's with its messages exposed for routing."""
    if rt.target.provider is ProviderKind.LOCAL:
        return LocalChatRequest(messages=list(internal.get("messages") or []), body=internal)
    return internal


async def _check(backend: Backend) -> str | None:
    try:
        await backend.check_health(_READINESS_TIMEOUT_S)
    except TollgateError as err:
        return err.message
    return None


def answer_text(body: dict[str, Any]) -> str:
    return "".join(str((c.get("message") or {}).get("content") or "") for c in body.get("choices") or [])


def cost_usd(rt: ResolvedTarget, usage: Any) -> float:
    """What an answer cost at the catalog's prices (what a cache hit on it saves)."""
    numbers = usage_numbers(usage)
    return actual_cost_nano(rt.target.prices, *numbers, write_1h_tokens(usage)) / 1e9 if numbers is not None else 0.0


def outcome_of(exc: BaseException) -> str:
    """The ledger's word for how a request that got no answer ended."""
    if isinstance(exc, TollgateError):
        return exc.code or exc.error_type
    if isinstance(exc, asyncio.CancelledError):
        return "client_disconnected"
    return "error"
