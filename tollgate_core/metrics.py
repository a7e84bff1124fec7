"""Gateway metrics: a small interface, a no-op for tests, and Ray Serve's metrics in replicas.

Names and labels (docs/operations.md, "Metrics") follow OpenTelemetry's ``gen_ai.*`` semantic conventions where
one fits: ``operation`` is ``gen_ai.operation.name``, ``model`` ``gen_ai.request.model``, ``provider``
``gen_ai.provider.name``, ``token_type`` ``gen_ai.token.type``. Every label value is bounded: models the catalog
does not name are ``other``, and no label carries a request id or key material.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["GatewayMetrics", "NullMetrics", "RayMetrics", "RequestFacts"]

# gen_ai.operation.name of each endpoint.
OPERATIONS = {"/v1/chat/completions": "chat", "/v1/messages": "chat", "/v1/responses": "chat",
              "/v1/completions": "text_completion", "/v1/embeddings": "embeddings"}


@dataclass(frozen=True)
class RequestFacts:
    """One finished request, as its metrics see it (built from its audit record)."""

    endpoint: str
    model: str          # bounded: a catalog model or policy, else "other"
    provider: str       # "" when no target answered (an error before routing, a cache hit)
    team: str           # the virtual key's team id, "" for the master key
    status: int
    outcome: str
    stream: bool
    latency_ms: float
    ttft_ms: float | None
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    cache_write_tokens: int
    cost_usd: float
    guardrail_action: str | None  # redact, flag or block; None when the guardrail let the request through as is

_LATENCY_BOUNDARIES_MS = [5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0, 60000.0]


class GatewayMetrics(Protocol):
    def attempt(self, model: str, target: str, outcome: str, duration_ms: float) -> None: ...

    def ttft(self, model: str, target: str, ttft_ms: float) -> None: ...

    def retry(self, model: str, target: str) -> None: ...

    def failover(self, model: str, from_target: str) -> None: ...

    def circuit(self, target: str, availability: str) -> None: ...

    def spend(self, org: str, team: str, key: str, model: str, usd: float) -> None: ...

    def budget_remaining(self, scope: str, window: str, usd: float) -> None: ...

    def soft_limit(self, scope: str, window: str) -> None: ...

    def rejection(self, reason: str) -> None: ...

    def guardrail_finding(self, entity: str, count: int) -> None: ...

    def injection_flagged(self, policy: str) -> None: ...

    def cache_lookup(self, model: str, result: str, lookup_ms: float) -> None: ...

    def cache_saved(self, model: str, usd: float) -> None: ...

    def cache_refusal(self, model: str, reason: str) -> None: ...

    def tier_decision(self, policy: str, tier: int, classify_ms: float | None) -> None: ...

    def request(self, facts: RequestFacts) -> None: ...

    def judge_verdict(self, judge: str, verdict: str, mode: str, team: str, model: str) -> None: ...

    def judge_dropped(self, judge: str) -> None: ...

    def judge_alert(self, team: str, judge: str, firing: bool) -> None: ...


class NullMetrics:
    """Records nothing (unit tests, tools)."""

    def attempt(self, model: str, target: str, outcome: str, duration_ms: float) -> None:
        return None

    def ttft(self, model: str, target: str, ttft_ms: float) -> None:
        return None

    def retry(self, model: str, target: str) -> None:
        return None

    def failover(self, model: str, from_target: str) -> None:
        return None

    def circuit(self, target: str, availability: str) -> None:
        return None

    def spend(self, org: str, team: str, key: str, model: str, usd: float) -> None:
        return None

    def budget_remaining(self, scope: str, window: str, usd: float) -> None:
        return None

    def soft_limit(self, scope: str, window: str) -> None:
        return None

    def rejection(self, reason: str) -> None:
        return None

    def guardrail_finding(self, entity: str, count: int) -> None:
        return None

    def injection_flagged(self, policy: str) -> None:
        return None

    def cache_lookup(self, model: str, result: str, lookup_ms: float) -> None:
        return None

    def cache_saved(self, model: str, usd: float) -> None:
        return None

    def cache_refusal(self, model: str, reason: str) -> None:
        return None

    def tier_decision(self, policy: str, tier: int, classify_ms: float | None) -> None:
        return None

    def request(self, facts: RequestFacts) -> None:
        return None

    def judge_verdict(self, judge: str, verdict: str, mode: str, team: str, model: str) -> None:
        return None

    def judge_dropped(self, judge: str) -> None:
        return None

    def judge_alert(self, team: str, judge: str, firing: bool) -> None:
        return None


_CIRCUIT_VALUES = {"healthy": 0, "half_open": 1, "cooling_down": 2, "circuit_open": 3}


class RayMetrics:
    """Exported through Ray's metrics agent (Prometheus) from inside a Serve replica."""

    def __init__(self, known_models: frozenset[str] | None = None) -> None:
        from ray.serve import metrics

        self._known_models = known_models

        self._attempts = metrics.Counter(
            "tollgate_target_requests", "Attempts per target by outcome.", tag_keys=("model", "target", "outcome")
        )
        self._latency = metrics.Histogram(
            "tollgate_target_latency_ms", "Duration of an attempt.", boundaries=_LATENCY_BOUNDARIES_MS,
            tag_keys=("model", "target"),
        )
        self._ttft = metrics.Histogram(
            "tollgate_target_ttft_ms", "Time to first token of a streamed attempt.",
            boundaries=_LATENCY_BOUNDARIES_MS, tag_keys=("model", "target"),
        )
        self._retries = metrics.Counter("tollgate_retries", "Retries on the same target.", tag_keys=("model", "target"))
        self._failovers = metrics.Counter(
            "tollgate_failovers", "Moves from a failed target to the next.", tag_keys=("model", "target")
        )
        self._circuit = metrics.Gauge(
            "tollgate_circuit_state", "0 healthy, 1 half-open, 2 cooling down, 3 open.", tag_keys=("target",)
        )
        self._spend = metrics.Counter(
            "tollgate_spend_usd", "Settled spend in USD.", tag_keys=("org", "team", "key", "model")
        )
        self._remaining = metrics.Gauge(
            "tollgate_budget_remaining_usd", "Hard budget left in the current window.", tag_keys=("scope", "window")
        )
        self._soft = metrics.Counter(
            "tollgate_budget_soft_limit_crossed", "Soft budget limits passed.", tag_keys=("scope", "window")
        )
        self._findings = metrics.Counter(
            "tollgate_guardrail_findings", "PII and secret values found in requests, by type.", tag_keys=("type",)
        )
        self._flagged = metrics.Counter(
            "tollgate_injection_flagged", "Prompts flagged (and allowed) as injection attempts.", tag_keys=("policy",)
        )
        self._cache_lookups = metrics.Counter(
            "tollgate_cache_requests", "Chat requests by cache result (exact_hit, semantic_hit, miss, bypass).",
            tag_keys=("model", "result"),
        )
        self._cache_latency = metrics.Histogram(
            "tollgate_cache_lookup_ms", "Duration of a cache lookup (exact, embedding, search, decision).",
            boundaries=[0.5, 1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 1000.0], tag_keys=("model",),
        )
        self._cache_saved = metrics.Counter(
            "tollgate_cache_saved_usd", "What the answers served from the cache cost when they were first made.",
            tag_keys=("model",),
        )
        self._cache_refusals = metrics.Counter(
            "tollgate_cache_refusals", "Misses whose nearest cached question was refused, by the check that refused "
            "it (number, negation, direction, ...) or verifier.", tag_keys=("model", "reason"),
        )
        self._tier_decisions = metrics.Counter(
            "tollgate_tier_decisions", "Tiered requests by policy and the tier chosen (classifier_failed: none).",
            tag_keys=("policy", "tier"),
        )
        self._tier_latency = metrics.Histogram(
            "tollgate_tier_classify_ms", "Time of the tier classifier's call as the ingress sees it.",
            boundaries=[0.5, 1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0], tag_keys=("policy",),
        )
        self._rejections = metrics.Counter(
            "tollgate_governance_rejections", "Requests refused by governance or the guardrail, by reason.", tag_keys=("reason",)
        )
        request_tags = ("endpoint", "operation", "model", "provider", "team", "status", "outcome")
        self._requests = metrics.Counter(
            "tollgate_requests", "Finished requests (gen_ai operations), by endpoint, model, provider, team and "
            "HTTP status.", tag_keys=request_tags,
        )
        self._request_latency = metrics.Histogram(
            "tollgate_request_duration_ms", "Arrival to the last byte sent (gen_ai.client.operation.duration).",
            boundaries=_LATENCY_BOUNDARIES_MS, tag_keys=("endpoint", "operation", "model", "provider", "stream"),
        )
        self._request_ttft = metrics.Histogram(
            "tollgate_time_to_first_token_ms", "Arrival to the first token sent, streamed answers "
            "(gen_ai.server.time_to_first_token).", boundaries=_LATENCY_BOUNDARIES_MS,
            tag_keys=("endpoint", "model", "provider"),
        )
        self._tokens = metrics.Counter(
            "tollgate_tokens", "Tokens of answered requests by gen_ai.token.type (input, output) and the cached "
            "part of the input (cached_input, cache_write).", tag_keys=("model", "provider", "team", "token_type"),
        )
        self._cost = metrics.Counter(
            "tollgate_cost_usd", "What the answered requests cost at the catalog's prices, in USD.",
            tag_keys=("model", "provider", "team"),
        )
        self._guardrail_actions = metrics.Counter(
            "tollgate_guardrail_actions", "Requests the guardrail changed or stopped: redact, flag, block.",
            tag_keys=("action", "team"),
        )
        self._judge_verdicts = metrics.Counter(
            "tollgate_judge_verdicts", "Answers judged, by judge, verdict (pass, fail, error), mode (inline, "
            "sampled), team and model.", tag_keys=("judge", "verdict", "mode", "team", "model"),
        )
        self._judge_dropped = metrics.Counter(
            "tollgate_judge_dropped", "Sampled judgements dropped because the queue was full.", tag_keys=("judge",),
        )
        self._judge_alert = metrics.Gauge(
            "tollgate_judge_alert", "1 while a team's failure rate for a judge is at or above its alert threshold.",
            tag_keys=("team", "judge"),
        )

    def _bounded(self, model: str) -> str:
        """A model the client named, as a label: the catalog's names, anything else ``other``."""
        return model if self._known_models is None or model in self._known_models else "other"

    def attempt(self, model: str, target: str, outcome: str, duration_ms: float) -> None:
        self._attempts.inc(tags={"model": model, "target": target, "outcome": outcome})
        self._latency.observe(duration_ms, tags={"model": model, "target": target})

    def ttft(self, model: str, target: str, ttft_ms: float) -> None:
        self._ttft.observe(ttft_ms, tags={"model": model, "target": target})

    def retry(self, model: str, target: str) -> None:
        self._retries.inc(tags={"model": model, "target": target})

    def failover(self, model: str, from_target: str) -> None:
        self._failovers.inc(tags={"model": model, "target": from_target})

    def circuit(self, target: str, availability: str) -> None:
        self._circuit.set(_CIRCUIT_VALUES.get(availability, 0), tags={"target": target})

    def spend(self, org: str, team: str, key: str, model: str, usd: float) -> None:
        if usd > 0:
            self._spend.inc(usd, tags={"org": org, "team": team, "key": key, "model": self._bounded(model)})

    def budget_remaining(self, scope: str, window: str, usd: float) -> None:
        self._remaining.set(usd, tags={"scope": scope, "window": window})

    def soft_limit(self, scope: str, window: str) -> None:
        self._soft.inc(tags={"scope": scope, "window": window})

    def rejection(self, reason: str) -> None:
        self._rejections.inc(tags={"reason": reason})

    def guardrail_finding(self, entity: str, count: int) -> None:
        self._findings.inc(count, tags={"type": entity})

    def injection_flagged(self, policy: str) -> None:
        self._flagged.inc(tags={"policy": policy})

    def cache_lookup(self, model: str, result: str, lookup_ms: float) -> None:
        self._cache_lookups.inc(tags={"model": self._bounded(model), "result": result})
        if result != "bypass":
            self._cache_latency.observe(lookup_ms, tags={"model": self._bounded(model)})

    def cache_saved(self, model: str, usd: float) -> None:
        if usd > 0:
            self._cache_saved.inc(usd, tags={"model": self._bounded(model)})

    def cache_refusal(self, model: str, reason: str) -> None:
        self._cache_refusals.inc(tags={"model": self._bounded(model), "reason": reason})

    def tier_decision(self, policy: str, tier: int, classify_ms: float | None) -> None:
        self._tier_decisions.inc(tags={"policy": policy, "tier": str(tier) if classify_ms is not None else
                                       "classifier_failed"})
        if classify_ms is not None:
            self._tier_latency.observe(classify_ms, tags={"policy": policy})

    def request(self, facts: RequestFacts) -> None:
        operation = OPERATIONS.get(facts.endpoint, "chat")
        provider = facts.provider or "none"
        team = facts.team or "none"
        self._requests.inc(tags={"endpoint": facts.endpoint, "operation": operation, "model": facts.model,
                                 "provider": provider, "team": team, "status": str(facts.status),
                                 "outcome": facts.outcome})
        self._request_latency.observe(facts.latency_ms, tags={
            "endpoint": facts.endpoint, "operation": operation, "model": facts.model, "provider": provider,
            "stream": "true" if facts.stream else "false"})
        if facts.stream and facts.ttft_ms is not None and facts.status == 200:
            self._request_ttft.observe(facts.ttft_ms, tags={"endpoint": facts.endpoint, "model": facts.model,
                                                            "provider": provider})
        for token_type, count in (("input", facts.input_tokens), ("output", facts.output_tokens),
                                  ("cached_input", facts.cached_tokens), ("cache_write", facts.cache_write_tokens)):
            if count > 0:
                self._tokens.inc(count, tags={"model": facts.model, "provider": provider, "team": team,
                                              "token_type": token_type})
        if facts.cost_usd > 0:
            self._cost.inc(facts.cost_usd, tags={"model": facts.model, "provider": provider, "team": team})
        if facts.guardrail_action is not None:
            self._guardrail_actions.inc(tags={"action": facts.guardrail_action, "team": team})

    def judge_verdict(self, judge: str, verdict: str, mode: str, team: str, model: str) -> None:
        self._judge_verdicts.inc(tags={"judge": judge, "verdict": verdict, "mode": mode, "team": team or "none",
                                       "model": self._bounded(model)})

    def judge_dropped(self, judge: str) -> None:
        self._judge_dropped.inc(tags={"judge": judge})

    def judge_alert(self, team: str, judge: str, firing: bool) -> None:
        self._judge_alert.set(1 if firing else 0, tags={"team": team or "none", "judge": judge})
