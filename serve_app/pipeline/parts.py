"""What a :class:`~serve_app.pipeline.gateway.Gateway` is built from, grouped by what it is for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deployments.cache.step import CacheLink
from deployments.guardrail.service import GuardrailService
from deployments.guardrail.step import GuardrailLink
from deployments.router.failover import RouterLink
from deployments.tiering.step import TierLink
from serve_app.audit.trace import AuditSink
from serve_app.governance.enforcer import Governance
from tollgate_core.metrics import GatewayMetrics

__all__ = ["Bookkeeping", "Deployments"]


@dataclass(frozen=True)
class Deployments:
    """The other deployments of the graph as the pipeline reaches them (Ray handles, or in-process stand-ins)."""

    router: RouterLink | None = None
    guardrail: GuardrailLink | None = None
    # The guardrail's way back (output policy, restore) runs in the ingress, from the same policies.
    guards: GuardrailService | None = None
    cache: CacheLink | None = None
    tiers: TierLink | None = None
    judge: Any = None  # the Judge deployment's link (serve_app.pipeline.judging.JudgeLink); in process when None


@dataclass(frozen=True)
class Bookkeeping:
    """What a request leaves behind: its charge, its audit record and its metrics."""

    governance: Governance | None = None
    audit: AuditSink | None = None
    # Encrypts the redacted texts of the teams that opted in (``audit.store_text_teams``).
    seal: Callable[[dict[str, Any]], str] | None = None
    metrics: GatewayMetrics | None = None
