"""The guardrail's step: redact the request's texts (or refuse it) and keep what the way back needs."""

from __future__ import annotations

import logging
from typing import Any

from deployments.guardrail.errors import GuardrailError
from deployments.guardrail.service import GuardrailService
from deployments.guardrail.step import (
    GuardrailLink,
    ReplyGuard,
    destination_for,
    injection_headers,
    message_texts,
    refusal,
    replace_texts,
    text_origins,
)
from serve_app.audit.trace import RequestTrace
from tollgate_core.config import GatewayConfig
from tollgate_core.entities import Principal
from tollgate_core.metrics import GatewayMetrics

__all__ = ["GuardStep"]

logger = logging.getLogger("tollgate.gateway")


class GuardStep:
    """Calls the Guardrail deployment with a request's texts and applies its verdict in place."""

    def __init__(self, config: GatewayConfig, link: GuardrailLink, guards: GuardrailService,
                 metrics: GatewayMetrics, seal_teams: frozenset[str]) -> None:
        self._config = config
        self._link = link
        self._guards = guards
        self._metrics = metrics
        self._seal_teams = seal_teams

    async def check(self, principal: Principal, model: str, internal: dict[str, Any],
                    trace: RequestTrace) -> ReplyGuard:
        """Redact the request's texts in place (or refuse it, 400); what the way back needs."""
        refs, texts = message_texts(internal)
        policy = self._guards.name_for(principal.team_path, principal.key_id)
        verdict = await self._link.check(texts, destination_for(self._config, model), policy,
                                         text_origins(internal, refs))
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
