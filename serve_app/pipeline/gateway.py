"""The ingress's logic, free of HTTP and Ray: authenticate, resolve, call with failover, time.

:mod:`serve_app.http.api` turns HTTP into calls on :class:`Gateway`; backends come in
through the constructor, so tests pass in-process ones.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
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
    storable_answer,
    zero_usage,
)
from deployments.guardrail.errors import GuardrailError
from deployments.guardrail.guard import GuardVerdict
from deployments.guardrail.service import GuardrailService
from deployments.guardrail.step import (
    GuardrailLink,
    ReplyGuard,
    StreamGuard,
    destination_for,
    injection_headers,
    message_texts,
    refusal,
    replace_texts,
    text_origins,
)
from deployments.providers.proxy import META_KEY
from deployments.router.board import Outcome, TargetBoard
from deployments.router.failover import Failover, RouterLink, RouterSync, classify
from deployments.router.policy import target_key
from deployments.tiering.step import TierLink, TierRoute, policy_for, route_for
from serve_app.audit.trace import AuditSink, RequestTrace
from serve_app.governance.costing import actual_cost_nano, usage_numbers
from serve_app.governance.enforcer import Admission, Governance
from serve_app.http.protocol import ChatCompletionRequest
from serve_app.pipeline.auth import bearer_token, is_master_key, require_token
from serve_app.pipeline.backends import Backend
from tollgate_core.catalog import Catalog, ResolvedTarget
from tollgate_core.config import GatewayConfig, ProviderKind
from tollgate_core.entities import MASTER, Principal
from tollgate_core.errors import (
    AuthenticationError,
    BadRequestError,
    DeadlineExceededError,
    GuardrailRefusedError,
    NotFoundError,
    PermissionDeniedError,
    TollgateError,
    UpstreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
    error_body,
)
from tollgate_core.metrics import GatewayMetrics, NullMetrics

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
        governance: Governance | None = None,
        guardrail: GuardrailLink | None = None,
        guards: GuardrailService | None = None,
        audit: AuditSink | None = None,
        seal: Callable[[dict[str, Any]], str] | None = None,
        cache: CacheLink | None = None,
        tiers: TierLink | None = None,
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
        self.governance = governance
        self._guardrail = guardrail if guards is not None else None
        self._guards = guards
        self._metrics: GatewayMetrics = metrics or NullMetrics()
        self._audit = audit
        self._seal = seal
        self._seal_teams = frozenset(config.audit.store_text_teams) if seal is not None else frozenset()
        self._cache = cache if config.cache.enabled else None
        self._tiers = tiers if config.tiering.active else None
        self._sweeper: asyncio.Task[None] | None = None
        self._background: set[asyncio.Future[None]] = set()

    async def authenticate(self, authorization: str | None, api_key: str | None) -> Principal:
        """The caller: the master key (ungoverned) or a virtual key with its hierarchy."""
        token = require_token(bearer_token(authorization, api_key))
        if is_master_key(token, self._master_key):
            return MASTER
        if self.governance is None:
            raise AuthenticationError("Incorrect API key provided.")
        return await self.governance.authenticate(token)

    async def authenticate_admin(self, authorization: str | None, api_key: str | None) -> None:
        """Only the master key may use ``/admin/``."""
        principal = await self.authenticate(authorization, api_key)
        if not principal.is_master:
            raise PermissionDeniedError("the admin API needs the master key, not a virtual key")

    async def _guard(self, principal: Principal, model: str, internal: dict[str, Any],
                     trace: RequestTrace) -> ReplyGuard | None:
        """Redact the request's texts in place (or refuse it, 400); what the way back needs."""
        if self._guardrail is None or self._guards is None:
            return None
        refs, texts = message_texts(internal)
        policy = self._guards.name_for(principal.team_path, principal.key_id)
        verdict = GuardVerdict.from_dict(await self._guardrail.check(
            texts, destination_for(self.config, model), policy, text_origins(internal, refs)))
        injection = verdict.injection
        trace.set(guardrail_findings=dict(verdict.counts), injection_score=injection.score,
                  injection_flagged=injection.flagged, injection_action=injection.action,
                  injection_message_index=injection.message_index,
                  injection_reasons=list(injection.reasons) if injection.flagged else [])
        for entity, count in verdict.counts.items():
            self._metrics.guardrail_finding(entity, count)
        try:
            verdict.raise_for_decision()
        except GuardrailError as exc:
            self._metrics.rejection(exc.type)
            refused = refusal(exc)
            refused.headers.update(injection_headers(injection))
            raise refused from exc
        if injection.flagged:
            logger.warning("request flagged as injection (score %.3f: %s, messages[%s]) for key %s; allowed by "
                           "policy %s", injection.score, ", ".join(injection.reasons), injection.message_index,
                           principal.key_id, policy)
            self._metrics.injection_flagged(policy)
        replace_texts(internal, refs, verdict.texts)
        if principal.team_path in self._seal_teams:
            trace.texts = {"prompt": list(verdict.texts), "answer": ""}
        return ReplyGuard(self._guards.guard(policy), verdict)

    async def _admit(self, principal: Principal, model: str, internal: dict[str, Any],
                     trace: RequestTrace) -> Admission | None:
        if self.governance is None:
            return None
        return await self.governance.admit(principal, model, internal, request_id=trace.request_id,
                                           client_request_id=trace.fields.get("client_request_id"))

    async def _settle(self, admission: Admission | None, trace: RequestTrace, *, target: ResolvedTarget | None,
                      usage: Any = None, produced_text: str = "", outcome: str = "ok") -> None:
        """Charge the request; shielded, so a client that goes away cannot cancel the charge."""
        if admission is None or self.governance is None or admission.settled:
            return
        settle = self.governance.settle(admission, target=target.target if target else None, usage=usage,
                                        produced_text=produced_text, outcome=outcome)
        try:
            charge = await asyncio.shield(settle)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The charge stays reserved; the expiry sweep settles it at its worst case.
            logger.exception("could not settle request %s", admission.request_id)
            return
        if charge is not None:
            trace.set(prompt_tokens=charge.prompt_tokens, completion_tokens=charge.completion_tokens,
                      cached_tokens=charge.cached_tokens, cache_write_tokens=charge.cache_write_tokens,
                      cost_usd=charge.cost_nano / 1e9)

    async def record(self, trace: RequestTrace) -> None:
        """Append the request's audit record and wait for its batch to commit (raises if it cannot)."""
        if self._audit is None or trace.recorded:
            return
        trace.recorded = True
        if trace.texts is not None and self._seal is not None:
            trace.set(sealed_text=self._seal(trace.texts))
        try:
            await asyncio.shield(self._audit.append(trace.record()))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.exception("could not write the audit record of %s", trace.request_id)
            raise UpstreamUnavailableError(
                "the audit log could not be written; the request was not completed", code="audit_unavailable"
            ) from exc

    async def record_error(self, trace: RequestTrace, err: TollgateError) -> None:
        """The audit record of a request that ended in ``err`` (logged, never raised: the error goes out)."""
        trace.set(status=err.status_code, outcome=err.error_type, error_type=err.error_type, error_code=err.code)
        await self._record_quietly(trace)

    def record_soon(self, trace: RequestTrace, outcome: str, status: int = 499) -> None:
        """The audit record of a request nobody waits for (the client went away, or its stream was cut);
        499 is the status nginx logs for a client that closed the connection."""
        if not trace.recorded and not trace.scheduled:
            trace.scheduled = True
            trace.set(outcome=outcome, status=status)
            self._spawn(self._record_quietly(trace))

    async def _record_quietly(self, trace: RequestTrace) -> None:
        """``record`` for a request whose response is an error or gone anyway (the failure is logged there)."""
        try:
            await self.record(trace)
        except TollgateError:
            pass

    @staticmethod
    def _trace_target(trace: RequestTrace, rt: ResolvedTarget, attempts: int, failovers: int,
                      route: TierRoute | None) -> None:
        target = rt.target
        trace.set(target=target.label, provider=target.provider.value, region=target.region,
                  tier=_tier_of(rt, route), attempts=attempts, failovers=failovers)

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
        if self.governance is not None and self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_expired(self.governance))

    async def _sweep_expired(self, governance: Governance) -> None:
        """Charge reservations that a dead replica left open (at their worst case)."""
        while True:
            await asyncio.sleep(self.config.governance.sweep_interval_s)
            try:
                await governance.ledger.settle_expired()
            except Exception:
                logger.exception("sweeping expired reservations failed; trying again later")

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

    async def chat(self, request: ChatCompletionRequest, started: float, deadline: float,
                   principal: Principal = MASTER, client_request_id: str | None = None,
                   trace: RequestTrace | None = None, cache_headers: Mapping[str, str] | None = None) -> ChatReply:
        """A non-streamed completion; ``started`` is ``time.perf_counter()`` at request arrival.

        Its audit record is committed before this returns; a failure's is the caller's (``record_error``)."""
        self._begin()
        trace = trace or _new_trace(started, principal, client_request_id)
        trace.set(model=request.model, stream=False, end_user=request.user)
        internal = request.to_internal()
        guarded = await self._guard(principal, request.model, internal, trace)
        tiered = self._tier_request(principal, request.model, internal)
        admission = await self._admit(principal, request.model, internal, trace)
        plan = self._plan_cache(principal, internal, cache_headers, guarded)
        lookup = await self._cache_lookup(plan, request.model, trace)
        if lookup is not None and lookup.hit:
            return await self._cached_reply(lookup, request.model, admission, guarded, trace, started)
        route = await self._route_tier(tiered, lookup, trace)

        async def attempt(rt: ResolvedTarget, remaining: float) -> dict[str, Any]:
            try:
                return await asyncio.wait_for(self._backend(rt).complete(rt.model, rt.index, internal), remaining)
            except TimeoutError as exc:
                # Only the request's own deadline is enforced here; the target's timeouts are httpx's.
                raise DeadlineExceededError(f"{rt.target.label} did not answer before the request's deadline") from exc

        try:
            result = await self.failover.run(route.model if route else request.model, attempt, deadline,
                                             escalation=route.escalation if route else ())
        except BaseException as exc:
            await self._settle(admission, trace, target=None, outcome=_outcome(exc))
            raise
        reply = result.value
        self._trace_target(trace, result.target, result.attempts, result.failovers, route)
        trace.set(upstream_ms=round(reply["upstream_ms"], 3), ttft_ms=round(reply["upstream_ms"], 3))
        await self._settle(admission, trace, target=result.target, usage=reply["body"].get("usage"))
        if trace.texts is not None:
            trace.texts["answer"] = _answer_text(reply["body"])  # before restore: placeholders, not values
        storable = (storable_answer(reply["body"], target=result.target.target.label,
                                    cost_usd=_cost_usd(result.target, reply["body"].get("usage"))) if plan.store else None)
        body = guarded.reply(reply["body"]) if guarded is not None else reply["body"]
        if storable is not None and _answer_text(body) == storable["content"]:  # the output policy changed nothing
            self._cache_store(plan, storable, lookup)
        trace.set(status=200, outcome="ok")
        await self.record(trace)
        # No tokens/s from a non-streamed answer: its "first token" is the whole answer.
        self.failover.observe(
            result.target, Outcome.OK, result.started, ttft_ms=reply["upstream_ms"], quota=reply.get("headers") or None,
        )
        overhead = time.perf_counter() - started - reply["upstream_ms"] / 1000
        headers = {**self._headers(result.target, result.attempts, overhead, route),
                   "x-tollgate-cache": trace.fields.get("cache", "bypass")}
        return ChatReply(body=body, headers={**headers, **(guarded.headers if guarded is not None else {})})

    async def chat_stream(
        self, request: ChatCompletionRequest, started: float, deadline: float, *, continuation: bool = False,
        principal: Principal = MASTER, client_request_id: str | None = None, trace: RequestTrace | None = None,
        cache_headers: Mapping[str, str] | None = None,
    ) -> StreamReply:
        """A streamed completion. Failover happens only before the first chunk is returned; after it,
        with ``continuation``, a target that takes an assistant prefill is asked to finish the answer.

        The audit record is committed before the last byte (``[DONE]``) is sent."""
        self._begin()
        trace = trace or _new_trace(started, principal, client_request_id)
        trace.set(model=request.model, stream=True, end_user=request.user)
        internal = request.to_internal()
        guarded = await self._guard(principal, request.model, internal, trace)
        tiered = self._tier_request(principal, request.model, internal)
        admission = await self._admit(principal, request.model, internal, trace)
        plan = self._plan_cache(principal, internal, cache_headers, guarded)
        lookup = await self._cache_lookup(plan, request.model, trace)
        if lookup is not None and lookup.hit:
            return await self._cached_stream(lookup, request, admission, guarded, trace, started)
        route = await self._route_tier(tiered, lookup, trace)
        model = route.model if route else request.model
        try:
            result = await self.failover.run(
                model, self._stream_attempt(internal), deadline, release_on_success=False,
                escalation=route.escalation if route else (),
            )
        except BaseException as exc:
            await self._settle(admission, trace, target=None, outcome=_outcome(exc))
            raise
        self._trace_target(trace, result.target, result.attempts, result.failovers, route)
        meta, first, source = result.value
        upstream_s = float(meta.get(META_KEY, {}).get("upstream_ms", 0.0)) / 1000
        overhead = time.perf_counter() - started - upstream_s
        release = functools.partial(self.board.release, result.lease)
        relay = _Relay(result.target, result.started, upstream_s * 1000, first, source, release)
        trace.set(upstream_ms=round(upstream_s * 1000, 3), ttft_ms=round((time.perf_counter() - trace.started) * 1000, 3))
        job = _StreamJob(model, internal, deadline, request.include_usage, continuation, admission,
                         guarded.stream() if guarded is not None else None, trace,
                         (plan, lookup) if plan.store and self._cache is not None else None)

        async def settle_and_record() -> None:
            await self._settle(admission, trace, target=result.target, outcome="client_disconnected")
            self.record_soon(trace, "client_disconnected")

        def never_streamed() -> None:
            # The HTTP layer calls this when it is done; a body that never ran still owes its charge and record.
            release()
            if not trace.recorded and not trace.scheduled:
                self._spawn(settle_and_record())

        headers = {**self._headers(result.target, result.attempts, overhead, route),
                   "x-tollgate-cache": trace.fields.get("cache", "bypass"),
                   **(guarded.headers if guarded is not None else {})}
        return StreamReply(body=self._sse_body(job, relay), headers=headers, release=never_streamed)

    # Model tiering ---------------------------------------------------------------------------------------------

    def _tier_request(self, principal: Principal, model: str,
                      internal: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """(policy, what the classifier reads) for a request that names a tiering policy, else None.

        Taken after redaction and before admission, which writes the output cap into a request that set none:
        the classifier must see the ``max_tokens`` the client asked for, not the gateway's default."""
        name = policy_for(self.config, principal, model)
        if name is None:
            return None
        return name, {k: internal[k] for k in _TIER_FIELDS if k in internal}

    async def _route_tier(self, tiered: tuple[str, dict[str, Any]] | None, lookup: Lookup | None,
                          trace: RequestTrace) -> TierRoute | None:
        """The tier and model of a request that names a tiering policy (None for a catalog model).

        The classifier reuses the cache lookup's embedding when there was one; a failing classifier is logged
        and the request goes to Tier 2, the side that cannot hurt an answer's quality."""
        if tiered is None:
            return None
        name, request = tiered
        verdict: dict[str, Any] | None = None
        started = time.perf_counter()
        if self._tiers is not None:
            try:
                verdict = await self._tiers.classify(request, lookup.vector if lookup is not None else None)
            except Exception:
                logger.exception("the tier classifier failed; policy %s sends the request to Tier 2", name)
        route = route_for(self.config, name, verdict)
        self._metrics.tier_decision(route.policy, route.tier,
                                    (time.perf_counter() - started) * 1000 if verdict is not None else None)
        trace.set(tier_policy=route.policy, tier_decided=route.tier,
                  tier_score=round(route.score, 4) if route.score is not None else None)
        return route

    # The response cache ----------------------------------------------------------------------------------------

    def _cache_or_404(self) -> CacheLink:
        if self._cache is None:
            raise NotFoundError("the response cache is not enabled in this gateway's config (cache.enabled)")
        return self._cache

    async def cache_stats(self) -> dict[str, Any]:
        return {"object": "cache_stats", **await self._cache_or_404().stats()}

    async def cache_purge(self, spec: CachePurge) -> dict[str, Any]:
        deleted = await self._cache_or_404().purge(tenant=spec.tenant_label, model=spec.model,
                                                  older_than_s=spec.older_than_s)
        return {"object": "cache_purge", "deleted": deleted}

    def _plan_cache(self, principal: Principal, internal: dict[str, Any], headers: Mapping[str, str] | None,
                    guarded: ReplyGuard | None) -> CachePlan:
        # A request the guardrail found anything in is neither looked up nor stored: its answer may depend on
        # the caller's own values, and a flagged prompt's answer must not be replayed to anyone.
        clean = guarded is None or (not guarded.verdict.counts and not guarded.verdict.injection.flagged)
        headers = headers or {}
        return plan_cache(self.config.cache, principal, internal, cache_control=headers.get("cache-control"),
                          tollgate_cache=headers.get("x-tollgate-cache"), guardrail_clean=clean)

    async def _cache_lookup(self, plan: CachePlan, model: str, trace: RequestTrace) -> Lookup | None:
        """The lookup (None when the request bypasses it); a failing cache is a miss, never a failed request."""
        if self._cache is None or plan.key is None or not plan.lookup:
            trace.set(cache="bypass")
            self._metrics.cache_lookup(model, "bypass", 0.0)
            return None
        try:
            lookup = await self._cache.lookup(plan.key, self.config.cache.semantic)
        except Exception:
            logger.exception("cache lookup failed; answering without the cache")
            trace.set(cache="miss")
            return None
        trace.set(cache="hit" if lookup.hit else "miss")
        self._metrics.cache_lookup(model, f"{lookup.kind}_hit" if lookup.hit else "miss", lookup.lookup_ms)
        return lookup

    def _cache_store(self, plan: CachePlan, answer: dict[str, Any], lookup: Lookup | None) -> None:
        """Store an answer after the response (the client does not wait for it)."""
        if self._cache is None or plan.key is None or not plan.store:
            return
        cache, key, vector = self._cache, plan.key, lookup.vector if lookup is not None else None

        async def store() -> None:
            try:
                await cache.store(key, answer, self.config.cache.ttl_s, vector)
            except Exception:
                logger.exception("could not store a cache entry")

        self._spawn(store())

    async def _settle_hit(self, lookup: Lookup, model: str, admission: Admission | None,
                          trace: RequestTrace) -> None:
        await self._settle(admission, trace, target=None, usage=zero_usage(), outcome="cache_hit")
        trace.set(target=None, attempts=0, failovers=0, upstream_ms=0.0)
        self._metrics.cache_saved(model, float((lookup.response or {}).get("cost_usd") or 0.0))

    async def _cached_reply(self, lookup: Lookup, model: str, admission: Admission | None,
                            guarded: ReplyGuard | None, trace: RequestTrace, started: float) -> ChatReply:
        await self._settle_hit(lookup, model, admission, trace)
        body = cached_completion(lookup)
        if guarded is not None:
            body = guarded.reply(body)  # the output policy applies to replayed answers too
        trace.set(status=200, outcome="ok", ttft_ms=round((time.perf_counter() - started) * 1000, 3))
        await self.record(trace)
        headers = {**hit_headers(lookup), "x-tollgate-overhead-ms": _ms(time.perf_counter() - started),
                   **(guarded.headers if guarded is not None else {})}
        return ChatReply(body=body, headers=headers)

    async def _cached_stream(self, lookup: Lookup, request: ChatCompletionRequest, admission: Admission | None,
                             guarded: ReplyGuard | None, trace: RequestTrace, started: float) -> StreamReply:
        await self._settle_hit(lookup, request.model, admission, trace)
        guard = guarded.stream() if guarded is not None else None
        trace.set(ttft_ms=round((time.perf_counter() - started) * 1000, 3))

        async def body() -> AsyncIterator[bytes]:
            outcome, status = "client_disconnected", 499
            try:
                for chunk in cached_chunks(lookup, include_usage=request.include_usage):
                    yield _sse(guard.transform(chunk) if guard is not None and chunk.get("choices") else chunk)
                trace.set(status=200, outcome="ok")
                await self.record(trace)  # the last byte goes out only once the record is committed
            except TollgateError as err:
                outcome, status = err.error_type, 200
                trace.set(error_type=err.error_type)
                yield _sse(error_body(err))
                return
            finally:
                self.record_soon(trace, outcome, status)  # nothing to do once recorded
            yield b"data: [DONE]\n\n"

        headers = {**hit_headers(lookup), "x-tollgate-overhead-ms": _ms(time.perf_counter() - started),
                   **(guarded.headers if guarded is not None else {})}
        return StreamReply(body=body(), headers=headers,
                           release=lambda: self.record_soon(trace, "client_disconnected"))

    async def drain(self) -> None:
        """Wait for the work that runs after responses (cache writes, audit records of gone clients)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _stream_attempt(
        self, internal: dict[str, Any]
    ) -> Callable[[ResolvedTarget, float], Awaitable[tuple[Chunk, Chunk, AsyncIterator[Chunk]]]]:
        """Open a stream on a target and wait for its first chunk (the point of no failover)."""
        default_timeout = self.config.routing.first_token_timeout_s

        async def attempt(rt: ResolvedTarget, remaining: float) -> tuple[Chunk, Chunk, AsyncIterator[Chunk]]:
            first_token_timeout = rt.target.first_token_timeout_s or default_timeout
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

        return attempt

    @staticmethod
    def _headers(rt: ResolvedTarget, attempts: int, overhead_s: float, route: TierRoute | None) -> dict[str, str]:
        return {
            "x-tollgate-model": rt.target.label,
            "x-tollgate-tier": str(_tier_of(rt, route)),
            "x-tollgate-attempts": str(attempts),
            "x-tollgate-overhead-ms": _ms(max(0.0, overhead_s)),
            **(route.headers() if route is not None else {}),
        }

    async def _sse_body(self, job: _StreamJob, relay: _Relay) -> AsyncIterator[bytes]:
        idle_timeout = self.config.routing.idle_timeout_s
        answer = _Answer()
        chunk: Chunk | None = relay.first
        outcome = "client_disconnected"
        try:
            while True:
                try:
                    while chunk is not None:
                        answer.add(chunk)
                        if job.include_usage or chunk.get("choices"):
                            if not job.include_usage:
                                chunk.pop("usage", None)
                            if job.guard is not None:
                                try:
                                    chunk = job.guard.transform(chunk)
                                except GuardrailRefusedError as refused:
                                    outcome = "output_blocked"
                                    yield _sse(error_body(refused))
                                    return
                            answer.add_sent(chunk)
                            yield _sse(answer.stamp(chunk))
                        try:
                            chunk = await asyncio.wait_for(anext(relay.source, None), idle_timeout)
                        except TimeoutError as exc:
                            raise UpstreamTimeoutError(
                                f"{relay.target.target.label} sent nothing for {idle_timeout:.0f} s mid-stream"
                            ) from exc
                    break
                except TollgateError as err:
                    logger.warning("stream from %s failed after the first chunk: %s",
                                   relay.target.target.label, err.message)
                    relay.release()
                    self.failover.observe(relay.target, classify(err), relay.started)
                    await relay.source.aclose()  # type: ignore[attr-defined]
                    following = await self._continue(job, relay, answer) if job.continuation else None
                    if following is None:
                        # No failover after the first byte: an error event and no [DONE], so no
                        # client mistakes a cut answer for a complete one.
                        outcome = "upstream_error"
                        yield _sse(error_body(err))
                        return
                    yield _sse(answer.stamp(_continuation_marker(relay, following, err)))
                    relay, chunk = following, following.first
                    answer.continued = True
            if job.guard is not None:
                template = {"id": None, "object": "chat.completion.chunk", "created": int(time.time()),
                            "model": relay.first.get("model", "")}
                try:
                    for held in job.guard.tail(template):
                        answer.add_sent(held)
                        yield _sse(answer.stamp(held))
                except GuardrailRefusedError as refused:
                    outcome = "output_blocked"
                    yield _sse(error_body(refused))
                    return
            outcome = "ok"
        finally:
            relay.release()  # also when the client went away (nothing to say about the target then)
            # Charged before the last byte; when the client went away, for the tokens produced so far.
            await self._settle(job.admission, job.trace, target=relay.target, usage=answer.usage,
                               produced_text=answer.text, outcome=outcome)
            if job.trace.texts is not None:
                job.trace.texts["answer"] = answer.text
            await relay.source.aclose()  # type: ignore[attr-defined]
            if outcome != "ok":
                job.trace.set(error_type=outcome if outcome != "client_disconnected" else None)
                self.record_soon(job.trace, outcome, 499 if outcome == "client_disconnected" else 200)
        self.failover.observe(relay.target, Outcome.OK, relay.started, ttft_ms=relay.ttft_ms,
                              output_tokens=answer.output_tokens)
        job.trace.set(status=200, outcome="ok")
        if job.cache is not None and answer.replayable:
            self._cache_store(job.cache[0], {
                "content": answer.text, "model": relay.first.get("model", ""), "usage": answer.usage or {},
                "target": relay.target.target.label, "cost_usd": _cost_usd(relay.target, answer.usage),
            }, job.cache[1])
        try:
            await self.record(job.trace)  # the last byte goes out only once the record is committed
        except TollgateError as err:
            yield _sse(error_body(err))
            return
        yield b"data: [DONE]\n\n"

    async def _continue(self, job: _StreamJob, failed: _Relay, answer: _Answer) -> _Relay | None:
        """Ask another target that takes an assistant prefill to finish ``answer``; None if none can."""
        if answer.continued or answer.tool_calls or not answer.text.strip():
            return None
        prefill = answer.text.rstrip()  # Anthropic refuses a prefill that ends in whitespace
        request = dict(job.internal)
        request["messages"] = [*job.internal["messages"], {"role": "assistant", "content": prefill}]
        # vLLM continues the last assistant message only when told to.
        request.update(continue_final_message=True, add_generation_prompt=False)

        def takes_prefill(rt: ResolvedTarget) -> bool:
            return rt.target.provider in _PREFILL_PROVIDERS and rt != failed.target

        try:
            result = await self.failover.run(
                job.model, self._stream_attempt(request), job.deadline, release_on_success=False, allow=takes_prefill
            )
        except TollgateError as err:
            logger.warning("no target could continue the stream: %s", err.message)
            return None
        meta, first, source = result.value
        ttft_ms = float(meta.get(META_KEY, {}).get("upstream_ms", 0.0))
        relay = _Relay(result.target, result.started, ttft_ms, first, source,
                       functools.partial(self.board.release, result.lease))
        answer.skip_role = True
        answer.text = prefill
        return relay


# Providers whose APIs continue a trailing assistant message (OpenAI's does not).
_PREFILL_PROVIDERS = frozenset({ProviderKind.ANTHROPIC, ProviderKind.BEDROCK, ProviderKind.LOCAL})


@dataclass
class _StreamJob:
    """What a streamed request needs after its first chunk."""

    model: str
    internal: dict[str, Any]
    deadline: float
    include_usage: bool
    continuation: bool
    admission: Admission | None = None
    guard: StreamGuard | None = None
    trace: RequestTrace = field(default_factory=RequestTrace)
    cache: tuple[CachePlan, Lookup | None] | None = None  # where to store a complete answer


@dataclass
class _Relay:
    """One target's stream that is being relayed to the client."""

    target: ResolvedTarget
    started: float
    ttft_ms: float
    first: Chunk
    source: AsyncIterator[Chunk]
    release: Callable[[], None]


@dataclass
class _Answer:
    """The answer so far: its text, whether it called tools, and the id the client first saw."""

    text: str = ""
    tool_calls: bool = False
    output_tokens: int | None = None
    usage: dict[str, Any] | None = None
    stream_id: str | None = None
    continued: bool = False
    skip_role: bool = False
    finish_reason: str | None = None
    choices: set[int] = field(default_factory=set)
    sent: str = ""  # the text the client received (after the output policy)

    def add(self, chunk: Chunk) -> None:
        if chunk.get("usage"):
            self.usage = chunk["usage"]
            self.output_tokens = _output_tokens(chunk["usage"])
        for choice in chunk.get("choices") or []:
            self.choices.add(int(choice.get("index") or 0))
            delta = choice.get("delta") or {}
            if isinstance(delta.get("content"), str):
                self.text += delta["content"]
            if delta.get("tool_calls"):
                self.tool_calls = True
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]

    def add_sent(self, chunk: Chunk) -> None:
        for choice in chunk.get("choices") or []:
            content = (choice.get("delta") or {}).get("content")
            if isinstance(content, str):
                self.sent += content

    @property
    def replayable(self) -> bool:
        """A complete, single-choice text answer that reached the client unchanged by the output policy."""
        return (self.finish_reason == "stop" and not self.tool_calls and not self.continued and self.choices == {0}
                and bool(self.text) and self.sent == self.text)

    def stamp(self, chunk: Chunk) -> Chunk:
        """Keep one stream id for the client, and drop the second ``role`` delta after a continuation."""
        if self.stream_id is None:
            self.stream_id = chunk.get("id")
        else:
            chunk["id"] = self.stream_id
        if self.skip_role:
            for choice in chunk.get("choices") or []:
                (choice.get("delta") or {}).pop("role", None)
        return chunk


def _continuation_marker(failed: _Relay, following: _Relay, err: TollgateError) -> Chunk:
    """A content-free chunk that tells the client the answer continues on another target."""
    return {
        "id": None,  # stamped with the stream's id
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": following.first.get("model", ""),
        "choices": [{"index": 0, "delta": {}, "finish_reason": None}],
        "tollgate_continuation": {
            "from": failed.target.target.label,
            "to": following.target.target.label,
            "reason": err.message,
        },
    }


# What the tier classifier reads of a request (its features); the rest never crosses the call.
_TIER_FIELDS = ("messages", "max_tokens", "max_completion_tokens", "tools", "functions", "response_format")


def _tier_of(rt: ResolvedTarget, route: TierRoute | None) -> int:
    """The tier that served: the policy's decision (2 once escalated), else 1 for the local tier."""
    if route is not None:
        return 2 if rt.model in route.escalation else route.tier
    return 1 if rt.target.provider is ProviderKind.LOCAL else 2


def _answer_text(body: dict[str, Any]) -> str:
    return "".join(str((c.get("message") or {}).get("content") or "") for c in body.get("choices") or [])


def _new_trace(started: float, principal: Principal, client_request_id: str | None) -> RequestTrace:
    trace = RequestTrace(started=started)
    trace.set(client_request_id=client_request_id, org_id=principal.org_id, team_id=principal.team_id,
              key_id=principal.key_id)
    return trace


def _cost_usd(rt: ResolvedTarget, usage: Any) -> float:
    """What an answer cost at the catalog's prices (what a cache hit on it saves)."""
    numbers = usage_numbers(usage)
    return actual_cost_nano(rt.target.prices, *numbers) / 1e9 if numbers is not None else 0.0


def _outcome(exc: BaseException) -> str:
    """The ledger's word for how a request that got no answer ended."""
    if isinstance(exc, TollgateError):
        return exc.code or exc.error_type
    if isinstance(exc, asyncio.CancelledError):
        return "client_disconnected"
    return "error"


async def _check(backend: Backend) -> str | None:
    try:
        await backend.check_health(_READINESS_TIMEOUT_S)
    except TollgateError as err:
        return err.message
    return None
