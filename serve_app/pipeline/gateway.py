"""The request path, top to bottom, free of HTTP and Ray.

One chat request, streamed or not, takes the same steps:

1. prelude: the caller (:meth:`Gateway.authenticate`, in the HTTP layer), the audit trace;
2. guard: redact the request's texts or refuse it (:mod:`~serve_app.pipeline.guard`);
3. tier request: what the tier classifier will read, before admission adds an output cap (:mod:`.tier`);
4. admission: rate limits and the budget reservation (:mod:`.accounts`);
5. cache: plan and lookup; a hit is replayed and settled (:mod:`.cache`);
6. tier choice: the classifier's score turned into a model (:mod:`.tier`);
7. the routed call: failover over the catalog's targets with retries (``deployments.router.failover``);
8. settlement, cache write and the audit record (:mod:`.accounts`, :mod:`.cache`, :mod:`.recording`); a stream
   does these in its relay before the last byte (:mod:`.streaming`).

:mod:`serve_app.http.api` turns HTTP into calls on :class:`Gateway`; backends and the other deployments come in
through the constructor, so tests pass in-process ones.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from deployments.cache.service import Lookup
from deployments.cache.step import CachePlan, CachePurge, storable_answer
from deployments.guardrail.step import ReplyGuard
from deployments.router.board import Outcome, TargetBoard
from deployments.router.failover import AttemptResult, Failover, RouterSync
from deployments.router.policy import target_key
from deployments.tiering.step import TierRoute
from serve_app.audit.trace import RequestTrace
from serve_app.governance.enforcer import Admission, Governance
from serve_app.http.protocol import ChatCompletionRequest
from serve_app.pipeline.accounts import Accounts
from serve_app.pipeline.auth import bearer_token, is_master_key, require_token
from serve_app.pipeline.backends import Backend
from serve_app.pipeline.cache import CacheStep
from serve_app.pipeline.calls import Backends, answer_text, cost_usd, outcome_of
from serve_app.pipeline.embeddings import LocalEmbeddings, as_chat_request, inputs_of
from serve_app.pipeline.guard import GuardStep
from serve_app.pipeline.internal_calls import InternalCalls
from serve_app.pipeline.judging import JudgePlan, judge_step
from serve_app.pipeline.parts import Bookkeeping, Deployments
from serve_app.pipeline.recording import Recorder, new_trace
from serve_app.pipeline.replies import ChatReply, StreamReply, answer_headers, tier_of
from serve_app.pipeline.streaming import Relay, StreamJob, StreamRelay
from serve_app.pipeline.tier import Tiered, TierStep
from tollgate_core.catalog import Catalog
from tollgate_core.config import GatewayConfig, ModelType, PromptCacheMode, ProviderKind
from tollgate_core.contracts import META_KEY, PROMPT_CACHE_FIELD
from tollgate_core.entities import MASTER, Principal
from tollgate_core.errors import AuthenticationError, BadRequestError, PermissionDeniedError
from tollgate_core.metrics import GatewayMetrics, NullMetrics
from tollgate_core.periodic import every

__all__ = ["Bookkeeping", "ChatReply", "Deployments", "Gateway", "StreamReply"]

T = TypeVar("T")
CIRCUIT_GAUGE_INTERVAL_S = 5.0
logger = logging.getLogger("tollgate.gateway")
PROMPT_CACHE_HEADER = "x-tollgate-prompt-cache"


def prompt_cache_mode(config: GatewayConfig, model: str, principal: Principal,
                      headers: Mapping[str, str] | None) -> PromptCacheMode:
    """The request's prompt caching: the header, else the team's setting, else the model's (auto)."""
    asked = (headers or {}).get(PROMPT_CACHE_HEADER)
    if asked is not None:
        try:
            return PromptCacheMode(asked.strip().lower())
        except ValueError:
            raise BadRequestError(f"{PROMPT_CACHE_HEADER} must be auto or off", param=PROMPT_CACHE_HEADER) from None
    team = config.prompt_cache.teams.get(principal.team_path or "")
    if team is not None:
        return team
    entry = config.models.get(model)
    return entry.prompt_cache if entry is not None else PromptCacheMode.AUTO


@dataclass
class _Prepared:
    """A request after the steps every request takes, whatever answers it."""

    model: str
    internal: dict[str, Any]
    trace: RequestTrace
    guarded: ReplyGuard | None
    tiered: Tiered | None
    admission: Admission | None
    plan: CachePlan
    lookup: Lookup | None

    @property
    def hit(self) -> bool:
        return self.lookup is not None and self.lookup.hit

    def headers(self, result: AttemptResult[Any], overhead_s: float, route: TierRoute | None) -> dict[str, str]:
        """The headers of an answer a target gave: who answered, the cache's word, the guardrail's."""
        return {**answer_headers(result.target, result.attempts, overhead_s, route),
                "x-tollgate-cache": self.trace.fields.get("cache", "bypass"),
                **(self.guarded.headers if self.guarded is not None else {})}


class Gateway:
    """Serves chat completions over the catalog's targets with retries and failover."""

    def __init__(self, config: GatewayConfig, backends: Mapping[ProviderKind, Backend], master_key: str,
                 deployments: Deployments | None = None, books: Bookkeeping | None = None, *,
                 rng: random.Random | None = None, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        deployments = deployments or Deployments()
        books = books or Bookkeeping()
        self.config = config
        self.catalog = Catalog(config)
        self.board = TargetBoard(config.routing.circuit)
        self._master_key = master_key
        metrics: GatewayMetrics = books.metrics or NullMetrics()
        self.metrics = metrics
        self._sync = (RouterSync(self.board, deployments.router, config.routing.sync_interval_s)
                      if deployments.router else None)
        self.failover = Failover(config, self.catalog, self.board, metrics=books.metrics,
                                 report=self._sync.report if self._sync else None, rng=rng, sleep=sleep)
        self.backends = Backends(backends, config.routing.first_token_timeout_s)
        self.recorder = Recorder(books.audit, books.seal, metrics,
                                 frozenset(config.models) | frozenset(config.tiering.policies))
        self.accounts = Accounts(books.governance, config.governance.sweep_interval_s)
        seal_teams = frozenset(config.audit.store_text_teams) if books.seal is not None else frozenset()
        self._guard = (GuardStep(config, deployments.guardrail, deployments.guards, metrics, seal_teams)
                       if deployments.guardrail is not None and deployments.guards is not None else None)
        self.cache = CacheStep(config, deployments.cache, metrics, self.accounts, self.recorder)
        self._tiers = TierStep(config, deployments.tiers, metrics)
        self._local_embeddings = LocalEmbeddings(getattr(deployments.cache, "embed", None))
        self._circuit_gauges: asyncio.Task[None] | None = None
        self.judges = judge_step(config, deployments.judge, metrics, self.recorder, InternalCalls(self).complete)
        self._relay = StreamRelay(config.routing.idle_timeout_s, self.failover, self.backends, self.accounts,
                                  self.recorder, self.cache)

    @property
    def governance(self) -> Governance | None:
        return self.accounts.governance

    async def start(self) -> None:
        """Before the first request: load the routing state the other replicas built (cooldowns, open circuits,
        latency statistics), then keep it in sync. A replica that starts later must not rediscover a target's
        Retry-After by calling it."""
        if self._sync is not None:
            await self._sync.sync_once()
            self._sync.ensure_started()
        if self._circuit_gauges is None:
            self._circuit_gauges = asyncio.create_task(
                every(CIRCUIT_GAUGE_INTERVAL_S, self.publish_circuits, "publishing circuit states", logger))

    async def publish_circuits(self) -> None:
        """Every target's availability as the circuit-state gauge. Ray drops a gauge value nobody has set for two
        export intervals, so it is set again on a timer, not only when a request changes it."""
        for state in self.routing_state().values():
            self.metrics.circuit(state["target"], state["availability"])

    async def drain(self) -> None:
        """Wait for the work that runs after responses (cache writes, audit records of gone clients, sampled
        judgements)."""
        await self.recorder.drain()
        if self.judges is not None:
            await self.judges.drain()

    # The prelude -----------------------------------------------------------------------------------------------

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

    async def _prepare(self, request: ChatCompletionRequest, started: float, *, stream: bool, principal: Principal,
                       client_request_id: str | None, trace: RequestTrace | None,
                       cache_headers: Mapping[str, str] | None) -> _Prepared:
        """The steps before any answer: trace, guard, tier request, admission, cache plan and lookup."""
        if self._sync is not None:
            self._sync.ensure_started()
        self.accounts.ensure_sweeping()
        trace = trace or new_trace(started, principal, client_request_id)
        trace.set(model=request.model, stream=stream, end_user=request.user)
        entry = self.config.models.get(request.model)
        if entry is not None and entry.type is ModelType.EMBEDDING:
            raise BadRequestError(f"model {request.model!r} is an embedding model; call /v1/embeddings with it",
                                  param="model")
        internal = request.to_internal()
        prompt_cache = prompt_cache_mode(self.config, request.model, principal, cache_headers)  # a bad header: 400 now
        guarded = await self._guard.check(principal, request.model, internal, trace) if self._guard else None
        tiered = self._tiers.request(principal, request.model, internal)
        admission = await self.accounts.admit(principal, request.model, internal, trace)
        plan = self.cache.plan(principal, internal, cache_headers, guarded)
        lookup = await self.cache.lookup(plan, request.model, trace)
        internal[PROMPT_CACHE_FIELD] = prompt_cache.value  # after the cache key: it does not change the answer
        return _Prepared(request.model, internal, trace, guarded, tiered, admission, plan, lookup)

    async def _routed(self, prep: _Prepared, route: TierRoute | None,
                      attempt: Callable[[Any, float], Awaitable[T]], deadline: float,
                      **options: Any) -> AttemptResult[T]:
        return await self.route(prep.model, prep.admission, prep.trace, route, attempt, deadline, **options)

    async def route(self, model: str, admission: Admission | None, trace: RequestTrace, route: TierRoute | None,
                     attempt: Callable[[Any, float], Awaitable[T]], deadline: float,
                     **options: Any) -> AttemptResult[T]:
        """The call with retries and failover; a request that gets no answer is settled for what it was."""
        try:
            result = await self.failover.run(route.model if route else model, attempt, deadline,
                                             escalation=route.escalation if route else (), **options)
        except BaseException as exc:
            await self.accounts.settle(admission, trace, target=None, outcome=outcome_of(exc))
            raise
        target = result.target.target
        trace.set(target=target.label, provider=target.provider.value, region=target.region,
                       tier=tier_of(result.target, route), attempts=result.attempts, failovers=result.failovers)
        return result

    # Chat completions --------------------------------------------------------------------------------------------

    async def chat(self, request: ChatCompletionRequest, started: float, deadline: float,
                   principal: Principal = MASTER, client_request_id: str | None = None,
                   trace: RequestTrace | None = None, cache_headers: Mapping[str, str] | None = None) -> ChatReply:
        """A non-streamed completion; ``started`` is ``time.perf_counter()`` at request arrival.

        Its audit record is committed before this returns; a failure's is the caller's (``record_error``)."""
        prep = await self._prepare(request, started, stream=False, principal=principal,
                                   client_request_id=client_request_id, trace=trace, cache_headers=cache_headers)
        trace = prep.trace
        if prep.hit:
            assert prep.lookup is not None
            return await self.cache.reply(prep.lookup, prep.model, prep.admission, prep.guarded, trace, started)
        route = await self._tiers.route(prep.tiered, prep.lookup, trace)
        result = await self._routed(prep, route, self.backends.complete(prep.internal), deadline)
        reply = result.value
        trace.set(upstream_ms=round(reply["upstream_ms"], 3), ttft_ms=round(reply["upstream_ms"], 3))
        await self.accounts.settle(prep.admission, trace, target=result.target, usage=reply["body"].get("usage"))
        # No tokens/s from a non-streamed answer: its "first token" is the whole answer.
        self.failover.observe(
            result.target, Outcome.OK, result.started, ttft_ms=reply["upstream_ms"], quota=reply.get("headers") or None,
        )
        answer = answer_text(reply["body"])  # before restore: placeholders, not values
        if trace.texts is not None:
            trace.texts["answer"] = answer
        judged = self._judge_plan(principal, route.model if route else prep.model)
        judge_headers = (await self.judges.inline(judged, prep.internal["messages"], answer, trace)
                         if judged is not None and self.judges is not None else {})
        storable = (storable_answer(reply["body"], target=result.target.target.label,
                                    cost_usd=cost_usd(result.target, reply["body"].get("usage")))
                    if prep.plan.store and judge_headers.get("x-tollgate-judge-action", "allow") == "allow" else None)
        body = prep.guarded.reply(reply["body"]) if prep.guarded is not None else reply["body"]
        if storable is not None and answer_text(body) == storable["content"]:  # the output policy changed nothing
            self.cache.store(prep.plan, storable, prep.lookup)
        trace.set(status=200, outcome="ok")
        await self.recorder.record(trace)
        if judged is not None and self.judges is not None:
            self.judges.sample(judged, prep.internal["messages"], answer, trace)
        overhead = time.perf_counter() - started - reply["upstream_ms"] / 1000
        return ChatReply(body=body, headers={**prep.headers(result, overhead, route), **judge_headers})

    def _judge_plan(self, principal: Principal, model: str) -> JudgePlan | None:
        return self.judges.plan(principal, model) if self.judges is not None else None

    async def chat_stream(
        self, request: ChatCompletionRequest, started: float, deadline: float, *, continuation: bool = False,
        principal: Principal = MASTER, client_request_id: str | None = None, trace: RequestTrace | None = None,
        cache_headers: Mapping[str, str] | None = None,
    ) -> StreamReply:
        """A streamed completion. Failover happens only before the first chunk is returned; after it,
        with ``continuation``, a target that takes an assistant prefill is asked to finish the answer.

        The audit record is committed before the last byte (``[DONE]``) is sent."""
        prep = await self._prepare(request, started, stream=True, principal=principal,
                                   client_request_id=client_request_id, trace=trace, cache_headers=cache_headers)
        trace = prep.trace
        if prep.hit:
            assert prep.lookup is not None
            return await self.cache.stream(prep.lookup, prep.model, request.include_usage, prep.admission,
                                           prep.guarded, trace, started)
        route = await self._tiers.route(prep.tiered, prep.lookup, trace)
        result = await self._routed(prep, route, self.backends.open_stream(prep.internal), deadline,
                                    release_on_success=False)
        meta, first, source = result.value
        upstream_s = float(meta.get(META_KEY, {}).get("upstream_ms", 0.0)) / 1000
        overhead = time.perf_counter() - started - upstream_s
        release = functools.partial(self.board.release, result.lease)
        relay = Relay(result.target, result.started, upstream_s * 1000, first, source, release)
        trace.set(upstream_ms=round(upstream_s * 1000, 3), ttft_ms=round((time.perf_counter() - trace.started) * 1000, 3))
        job = StreamJob(route.model if route else prep.model, prep.internal, deadline, request.include_usage,
                        continuation, prep.admission, prep.guarded.stream() if prep.guarded is not None else None,
                        trace, (prep.plan, prep.lookup) if prep.plan.store and self.cache.link is not None else None)
        judged = self._judge_plan(principal, job.model)
        if judged is not None and self.judges is not None:
            judges, messages = self.judges, prep.internal["messages"]
            job.judging = judges.stream(judged, messages, trace) if judged.inline else None
            job.sample = functools.partial(judges.sample, judged, messages, trace=trace) if judged.sampled else None

        async def settle_and_record() -> None:
            await self.accounts.settle(prep.admission, trace, target=result.target, outcome="client_disconnected")
            self.recorder.record_soon(trace, "client_disconnected")

        def never_streamed() -> None:
            # The HTTP layer calls this when it is done; a body that never ran still owes its charge and record.
            release()
            if not trace.recorded and not trace.scheduled:
                self.recorder.spawn(settle_and_record())

        return StreamReply(body=self._relay.body(job, relay), headers=prep.headers(result, overhead, route),
                           release=never_streamed)

    # Embeddings --------------------------------------------------------------------------------------------------

    async def embed(self, request: dict[str, Any], deadline: float, *, principal: Principal,
                    trace: RequestTrace) -> ChatReply:
        """``/v1/embeddings``: guard, admission, the routed call, settlement and the audit record."""
        if self._sync is not None:
            self._sync.ensure_started()
        self.accounts.ensure_sweeping()
        model = request.get("model")
        if not isinstance(model, str) or not model:
            raise BadRequestError("model: a model name is required", param="model")
        trace.set(model=model, end_user=request.get("user") if isinstance(request.get("user"), str) else None)
        self.catalog.resolve(model, raise_if_none=False)  # an unknown model is a 404
        if self.config.models[model].type is not ModelType.EMBEDDING:
            raise BadRequestError(f"model {model!r} is a chat model; /v1/embeddings needs an embedding model "
                                  "(GET /v1/models gives each model's type)", param="model")
        internal = as_chat_request(model, inputs_of(request))
        if self._guard is not None:
            await self._guard.check(principal, model, internal, trace)
        payload = {**{k: request[k] for k in ("dimensions", "user") if request.get(k) is not None},
                   "input": [m["content"] for m in internal["messages"]]}
        admission = await self.accounts.admit(principal, model, internal, trace)
        result = await self.route(model, admission, trace, None, self.backends.embed(payload, self._local_embeddings),
                                   deadline)
        reply = result.value
        usage = dict(reply["body"].get("usage") or {})
        if not usage.get("prompt_tokens"):  # Cohere on Bedrock reports none: count them here
            counted = self._local_embeddings.count(payload["input"])
            usage = {"prompt_tokens": counted, "total_tokens": counted}
        trace.set(upstream_ms=round(reply["upstream_ms"], 3), ttft_ms=round(reply["upstream_ms"], 3))
        await self.accounts.settle(admission, trace, target=result.target, usage={**usage, "completion_tokens": 0})
        trace.set(status=200, outcome="ok")
        await self.recorder.record(trace)
        self.failover.observe(result.target, Outcome.OK, result.started, ttft_ms=reply["upstream_ms"],
                              quota=reply.get("headers") or None)
        overhead = time.perf_counter() - trace.started - reply["upstream_ms"] / 1000
        body = {**reply["body"], "model": model, "usage": usage}
        return ChatReply(body=body, headers=answer_headers(result.target, result.attempts, overhead, None))

    # Operators ---------------------------------------------------------------------------------------------------

    async def readiness(self) -> dict[str, Any]:
        return await self.backends.readiness()

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

    async def cache_stats(self) -> dict[str, Any]:
        return await self.cache.stats()

    async def cache_purge(self, spec: CachePurge) -> dict[str, Any]:
        return await self.cache.purge(spec)
