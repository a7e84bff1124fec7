"""The response cache's step: whether a request may be looked up and stored, the lookup, the write after the
response, and the answer replayed on a hit (whole or streamed)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from deployments.cache.service import Lookup
from deployments.cache.step import (
    CacheLink,
    CachePlan,
    CachePurge,
    cached_chunks,
    cached_completion,
    hit_headers,
    plan_cache,
    zero_usage,
)
from deployments.guardrail.step import ReplyGuard
from serve_app.audit.trace import RequestTrace
from serve_app.governance.enforcer import Admission
from serve_app.pipeline.accounts import Accounts
from serve_app.pipeline.recording import Recorder
from serve_app.pipeline.replies import ChatReply, StreamReply, ms, sse
from tollgate_core.config import GatewayConfig
from tollgate_core.entities import Principal
from tollgate_core.errors import NotFoundError, TollgateError, error_body
from tollgate_core.metrics import GatewayMetrics

__all__ = ["CacheStep"]

logger = logging.getLogger("tollgate.gateway")


class CacheStep:
    """The SemanticCache deployment on the request path (``link`` is None when ``cache.enabled`` is off)."""

    def __init__(self, config: GatewayConfig, link: CacheLink | None, metrics: GatewayMetrics,
                 accounts: Accounts, recorder: Recorder) -> None:
        self._config = config.cache
        self.link = link if config.cache.enabled else None
        self._metrics = metrics
        self._accounts = accounts
        self._recorder = recorder

    def plan(self, principal: Principal, internal: dict[str, Any], headers: Mapping[str, str] | None,
             guarded: ReplyGuard | None) -> CachePlan:
        # A request the guardrail found anything in is neither looked up nor stored: its answer may depend on
        # the caller's own values, and a flagged prompt's answer must not be replayed to anyone.
        clean = guarded is None or (not guarded.verdict.counts and not guarded.verdict.injection.flagged)
        headers = headers or {}
        return plan_cache(self._config, principal, internal, cache_control=headers.get("cache-control"),
                          tollgate_cache=headers.get("x-tollgate-cache"), guardrail_clean=clean)

    async def lookup(self, plan: CachePlan, model: str, trace: RequestTrace) -> Lookup | None:
        """The lookup (None when the request bypasses it); a failing cache is a miss, never a failed request."""
        if self.link is None or plan.key is None or not plan.lookup:
            trace.set(cache="bypass")
            self._metrics.cache_lookup(model, "bypass", 0.0)
            return None
        try:
            lookup = await self.link.lookup(plan.key, self._config.semantic)
        except Exception:
            logger.exception("cache lookup failed; answering without the cache")
            trace.set(cache="miss")
            return None
        trace.set(cache="hit" if lookup.hit else "miss")
        self._metrics.cache_lookup(model, f"{lookup.kind}_hit" if lookup.hit else "miss", lookup.lookup_ms)
        if lookup.refusal is not None:
            self._metrics.cache_refusal(model, lookup.refusal)
        return lookup

    def store(self, plan: CachePlan, answer: dict[str, Any], lookup: Lookup | None) -> None:
        """Store an answer after the response (the client does not wait for it)."""
        if self.link is None or plan.key is None or not plan.store:
            return
        link, key, vector = self.link, plan.key, lookup.vector if lookup is not None else None

        async def store() -> None:
            try:
                await link.store(key, answer, self._config.ttl_s, vector)
            except Exception:
                logger.exception("could not store a cache entry")

        self._recorder.spawn(store())

    # Operators (/admin/cache) -----------------------------------------------------------------------------------

    def _link_or_404(self) -> CacheLink:
        if self.link is None:
            raise NotFoundError("the response cache is not enabled in this gateway's config (cache.enabled)")
        return self.link

    async def stats(self) -> dict[str, Any]:
        return {"object": "cache_stats", **await self._link_or_404().stats()}

    async def purge(self, spec: CachePurge) -> dict[str, Any]:
        deleted = await self._link_or_404().purge(tenant=spec.tenant_label, model=spec.model,
                                                 older_than_s=spec.older_than_s)
        return {"object": "cache_purge", "deleted": deleted}

    # Hits ---------------------------------------------------------------------------------------------------------

    async def _settle_hit(self, lookup: Lookup, model: str, admission: Admission | None,
                          trace: RequestTrace) -> None:
        await self._accounts.settle(admission, trace, target=None, usage=zero_usage(), outcome="cache_hit")
        trace.set(target=None, attempts=0, failovers=0, upstream_ms=0.0)
        self._metrics.cache_saved(model, float((lookup.response or {}).get("cost_usd") or 0.0))

    async def reply(self, lookup: Lookup, model: str, admission: Admission | None,
                    guarded: ReplyGuard | None, trace: RequestTrace, started: float) -> ChatReply:
        await self._settle_hit(lookup, model, admission, trace)
        body = cached_completion(lookup)
        if guarded is not None:
            body = guarded.reply(body)  # the output policy applies to replayed answers too
        trace.set(status=200, outcome="ok", ttft_ms=round((time.perf_counter() - started) * 1000, 3))
        await self._recorder.record(trace)
        return ChatReply(body=body, headers=_hit_reply_headers(lookup, guarded, started))

    async def stream(self, lookup: Lookup, model: str, include_usage: bool, admission: Admission | None,
                     guarded: ReplyGuard | None, trace: RequestTrace, started: float) -> StreamReply:
        await self._settle_hit(lookup, model, admission, trace)
        guard = guarded.stream() if guarded is not None else None
        trace.set(ttft_ms=round((time.perf_counter() - started) * 1000, 3))
        recorder = self._recorder

        async def body() -> AsyncIterator[bytes]:
            outcome, status = "client_disconnected", 499
            try:
                for chunk in cached_chunks(lookup, include_usage=include_usage):
                    yield sse(guard.transform(chunk) if guard is not None and chunk.get("choices") else chunk)
                trace.set(status=200, outcome="ok")
                await recorder.record(trace)  # the last byte goes out only once the record is committed
            except TollgateError as err:
                outcome, status = err.error_type, 200
                trace.set(error_type=err.error_type)
                yield sse(error_body(err))
                return
            finally:
                recorder.record_soon(trace, outcome, status)  # nothing to do once recorded
            yield b"data: [DONE]\n\n"

        return StreamReply(body=body(), headers=_hit_reply_headers(lookup, guarded, started),
                           release=lambda: recorder.record_soon(trace, "client_disconnected"))


def _hit_reply_headers(lookup: Lookup, guarded: ReplyGuard | None, started: float) -> dict[str, str]:
    """The headers of a replayed answer: the hit's own, the time the gateway took, the guardrail's."""
    return {**hit_headers(lookup), "x-tollgate-overhead-ms": ms(time.perf_counter() - started),
            **(guarded.headers if guarded is not None else {})}
