"""The tier classifier's step: which tier and model a request that names a tiering policy goes to."""

from __future__ import annotations

import logging
import time
from typing import Any

from deployments.cache.service import Lookup
from deployments.tiering.service import TierVerdict
from deployments.tiering.step import TierLink, TierRoute, policy_for, route_for
from serve_app.audit.trace import RequestTrace
from tollgate_core.config import GatewayConfig
from tollgate_core.entities import Principal
from tollgate_core.metrics import GatewayMetrics

__all__ = ["TierStep", "Tiered"]

logger = logging.getLogger("tollgate.gateway")

# What the tier classifier reads of a request (its features); the rest never crosses the call.
_TIER_FIELDS = ("messages", "max_tokens", "max_completion_tokens", "tools", "functions", "response_format")

# (policy name, what the classifier reads)
Tiered = tuple[str, dict[str, Any]]


class TierStep:
    """Asks the TierClassifier (or its in-process stand-in) and turns its score into a route."""

    def __init__(self, config: GatewayConfig, link: TierLink | None, metrics: GatewayMetrics) -> None:
        self._config = config
        self._link = link if config.tiering.active else None
        self._metrics = metrics

    def request(self, principal: Principal, model: str, internal: dict[str, Any]) -> Tiered | None:
        """(policy, what the classifier reads) for a request that names a tiering policy, else None.

        Taken after redaction and before admission, which writes the output cap into a request that set none:
        the classifier must see the ``max_tokens`` the client asked for, not the gateway's default."""
        name = policy_for(self._config, principal, model)
        if name is None:
            return None
        return name, {k: internal[k] for k in _TIER_FIELDS if k in internal}

    async def route(self, tiered: Tiered | None, lookup: Lookup | None, trace: RequestTrace) -> TierRoute | None:
        """The tier and model of a request that names a tiering policy (None for a catalog model).

        The classifier reuses the cache lookup's embedding when there was one; a failing classifier is logged
        and the request goes to Tier 2, the side that cannot hurt an answer's quality."""
        if tiered is None:
            return None
        name, request = tiered
        verdict: TierVerdict | None = None
        started = time.perf_counter()
        if self._link is not None:
            try:
                verdict = await self._link.classify(request, lookup.vector if lookup is not None else None)
            except Exception:
                logger.exception("the tier classifier failed; policy %s sends the request to Tier 2", name)
        route = route_for(self._config, name, verdict)
        self._metrics.tier_decision(route.policy, route.tier,
                                    (time.perf_counter() - started) * 1000 if verdict is not None else None)
        trace.set(tier_policy=route.policy, tier_decided=route.tier,
                  tier_score=round(route.score, 4) if route.score is not None else None)
        return route
