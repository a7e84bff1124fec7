"""Governance on the request path: who may call what, and at what cost.

``admit`` runs before the upstream call (model allowed? reserve the worst case on
every budget and rate counter of org → team → key → end user), ``settle`` after it
(charge the actual cost once, release the rest, alert on soft limits).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from serve_app.governance.costing import (
    TokenCounter,
    actual_cost_nano,
    cache_saving_nano,
    usage_numbers,
    worst_case_nano,
    worst_case_prices,
    write_1h_tokens,
)
from serve_app.governance.directory import Directory
from serve_app.governance.ledger import Charge, Check, Kind, Ledger
from tollgate_core.config import GatewayConfig, TargetConfig
from tollgate_core.entities import NANO, Budgets, Principal, Scope, to_nano
from tollgate_core.errors import PermissionDeniedError, RateLimitError
from tollgate_core.metrics import GatewayMetrics, NullMetrics
from tollgate_core.store.base import Database
from tollgate_core.windows import Window

__all__ = ["Admission", "Governance"]

logger = logging.getLogger("tollgate.governance")


@dataclass
class Admission:
    """A request that passed governance; settle it exactly once."""

    request_id: str
    model: str
    prompt_estimate: int
    context: dict[str, Any]
    settled: bool = field(default=False)


def requested_max_tokens(request: dict[str, Any]) -> int | None:
    value = request.get("max_completion_tokens") or request.get("max_tokens")
    return int(value) if isinstance(value, int) else None


class Governance:
    """Keys, budgets and rate limits over one state store."""

    def __init__(self, db: Database, config: GatewayConfig, *, clock: Callable[[], float] = time.time,
                 metrics: GatewayMetrics | None = None, counter: TokenCounter | None = None) -> None:
        self.db = db
        self.config = config
        self.directory = Directory(db, clock)
        self.ledger = Ledger(db, clock)
        self.metrics = metrics or NullMetrics()
        self.counter = counter or TokenCounter()
        self.max_tokens_cap = config.governance.default_max_tokens
        # A reservation outlives any request that can still be running (its deadline), with margin.
        self.reservation_ttl_s = config.routing.deadline_s + config.governance.reservation_grace_s

    async def authenticate(self, secret: str) -> Principal:
        return await self.directory.authenticate(secret)

    def apply_cap(self, request: dict[str, Any]) -> int:
        """The request's output-token limit; a request without one gets the configured cap upstream too,
        so the worst case reserved is a true bound."""
        asked = requested_max_tokens(request)
        if asked is None:
            request["max_tokens"] = self.max_tokens_cap
            return self.max_tokens_cap
        return asked

    async def admit(self, principal: Principal, model: str, request: dict[str, Any], *,
                    client_request_id: str | None = None, request_id: str | None = None) -> Admission:
        """Check the model is allowed and reserve the worst case, or raise 403/429."""
        if not principal.may_use(model):
            self.metrics.rejection("model_not_allowed")
            raise PermissionDeniedError(
                f"this key may not use model {model!r}; allowed: {', '.join(principal.models)}",
                param="model", code="model_not_allowed",
            )
        max_out = self.apply_cap(request)
        prompt = self.counter.count_prompt(request)
        end_user = request.get("user") if isinstance(request.get("user"), str) else None
        admission = Admission(
            request_id=request_id or f"tgr-{uuid.uuid4().hex}", model=model, prompt_estimate=prompt,
            context={"client_request_id": client_request_id, "org_id": principal.org_id,
                     "team_id": principal.team_id, "key_id": principal.key_id, "end_user": end_user, "model": model},
        )
        worst = worst_case_nano(prompt, max_out, worst_case_prices(self.config, model))
        checks = self._checks(principal, end_user, worst, prompt + max_out)
        try:
            await self.ledger.reserve(admission.request_id, checks, ttl_s=self.reservation_ttl_s,
                                      context=admission.context)
        except RateLimitError as err:
            self.metrics.rejection(err.code or "rate_limited")
            raise
        return admission

    def _checks(self, principal: Principal, end_user: str | None, worst_nano: int, tokens: int) -> list[Check]:
        checks: list[Check] = []
        scopes = list(principal.scopes)
        if end_user and principal.team_id and principal.end_user_budgets.items():
            scopes.append(Scope(level="end_user", id=f"{principal.team_id}:{end_user}", name=end_user,
                                budgets=principal.end_user_budgets))
        for scope in scopes:
            label = f"{scope.level.replace('_', ' ')} {scope.name!r}"
            checks.extend(_budget_checks(scope, label, scope.budgets, worst_nano))
            limits = scope.limits
            if limits.rpm:
                checks.append(Check(scope.counter_scope, label, Kind.REQUESTS, Window.MINUTE, limits.rpm, 1))
            if limits.tpm:
                checks.append(Check(scope.counter_scope, label, Kind.TOKENS, Window.MINUTE, limits.tpm, tokens))
            if limits.max_concurrency:
                checks.append(Check(scope.counter_scope, label, Kind.INFLIGHT, Window.LIFETIME,
                                    limits.max_concurrency, 1))
        return checks

    async def settle(self, admission: Admission, *, target: TargetConfig | None, usage: Any = None,
                     produced_text: str = "", outcome: str = "ok") -> Charge | None:
        """Charge what the request used, once (None on a repeated call). Without usage (a cut stream), the text
        produced is counted."""
        if admission.settled:
            return None
        admission.settled = True
        numbers = usage_numbers(usage)
        if numbers is None:
            produced = self.counter.count_text(produced_text)
            prompt = admission.prompt_estimate if target is not None else 0
            numbers = (prompt, produced, 0, 0)
        write_1h = write_1h_tokens(usage)
        cost = actual_cost_nano(target.prices, *numbers, write_1h) if target is not None else 0
        saved = (cache_saving_nano(target.prices, numbers[0], numbers[2], numbers[3], write_1h)
                 if target is not None else 0)
        charge = Charge(cost_nano=cost, prompt_tokens=numbers[0], completion_tokens=numbers[1],
                        cached_tokens=numbers[2], cache_write_tokens=numbers[3], saved_nano=saved,
                        target=target.label if target is not None else None, outcome=outcome)
        after = await self.ledger.settle(admission.request_id, charge, admission.context)
        ctx = admission.context
        self.metrics.spend(ctx.get("org_id") or "", ctx.get("team_id") or "", ctx.get("key_id") or "",
                           admission.model, cost / NANO)
        for counter in after:
            if not counter.metric.startswith(Kind.USD.value):
                continue
            window = counter.metric.split(":", 1)[1]
            self.metrics.budget_remaining(counter.scope, window, max(0, counter.limit - counter.used) / NANO)
            if counter.crossed_soft_limit:
                logger.warning("soft budget limit passed: %s %s spend $%.4f ≥ soft limit $%.4f", counter.scope,
                               window, counter.used / NANO, (counter.soft or 0) / NANO)
                self.metrics.soft_limit(counter.scope, window)
        return charge


def _budget_checks(scope: Scope, label: str, budgets: Budgets, worst_nano: int) -> list[Check]:
    checks = []
    for window, budget in budgets.items():
        if budget.hard is None and budget.soft is None:
            continue
        limit = to_nano(budget.hard) if budget.hard is not None else 2**62
        soft = to_nano(budget.soft) if budget.soft is not None else None
        checks.append(Check(scope.counter_scope, label, Kind.USD, window, limit, worst_nano, soft))
    return checks
