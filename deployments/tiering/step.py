"""Model tiering as the ingress sees it: which policy a request names, and what the classifier's score means.

A client asks for a policy by sending its name as ``model`` (``auto``, ``auto-cheap``, ...). ``auto`` is also an
alias: a key's or team's default policy (``tiering.keys`` / ``tiering.teams``) takes its place, and otherwise the
policy named ``auto``. The TierClassifier deployment scores the request (the probability that it needs Tier 2);
the policy's threshold turns the score into a tier and the tier into a catalog model, and failover then follows
that model's own routing rules (its targets, its fallbacks, and Tier 2 last when ``escalate`` is set).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from tollgate_core.catalog import AUTO
from tollgate_core.config import GatewayConfig, TierPolicyConfig
from tollgate_core.entities import Principal

if TYPE_CHECKING:
    from deployments.tiering.service import TierVerdict

__all__ = ["InProcessTierLink", "TierLink", "TierRoute", "policy_for", "route_for", "tier_of"]



class TierLink(Protocol):
    """The TierClassifier deployment (or an in-process stand-in): ``{"score", "drivers", "classify_ms"}``."""

    async def classify(self, request: dict[str, Any], vector: list[float] | None) -> TierVerdict: ...


class InProcessTierLink:
    """The classifier in the calling process (``tiering.placement: ingress``, and tests): the same service as the
    TierClassifier deployment's, without the hop to it."""

    def __init__(self, embed: Callable[[list[str]], Awaitable[Any]]) -> None:
        from deployments.tiering.service import TierClassifierService

        self.service = TierClassifierService(embed)

    async def classify(self, request: dict[str, Any], vector: list[float] | None) -> TierVerdict:
        return await self.service.classify(request, vector)


@dataclass(frozen=True)
class TierRoute:
    """Where a tiered request goes, and why."""

    policy: str
    tier: int
    score: float | None  # None when the classifier could not be asked (then Tier 2: the safe side)
    model: str
    escalation: tuple[str, ...]  # models failover may move to after the tier's own (Tier 2 for a Tier-1 request)
    drivers: tuple[tuple[str, float], ...] = ()

    def headers(self) -> dict[str, str]:
        out = {"x-tollgate-tier-policy": self.policy}
        if self.score is not None:
            out["x-tollgate-tier-score"] = f"{self.score:.4f}"
        return out


def policy_for(config: GatewayConfig, principal: Principal, model: str) -> str | None:
    """The policy ``model`` names for this caller, or None when it names a catalog model (or nothing known)."""
    tiering = config.tiering
    if not tiering.active:
        return None
    if model == AUTO:
        chosen = tiering.keys.get(principal.key_id or "") or tiering.teams.get(principal.team_path or "")
        if chosen:
            return chosen
    return model if model in tiering.policies else None


def tier_of(score: float, policy: TierPolicyConfig) -> int:
    return 2 if score >= policy.threshold else 1


def route_for(config: GatewayConfig, name: str, verdict: TierVerdict | None) -> TierRoute:
    """The route of a request under policy ``name`` given the classifier's verdict (None: it failed)."""
    policy = config.tiering.policies[name]
    score = None if verdict is None else float(verdict.score)
    tier = 2 if score is None else tier_of(score, policy)
    model = policy.tier1 if tier == 1 else policy.tier2
    escalation = (policy.tier2,) if tier == 1 and policy.escalate and policy.tier2 != policy.tier1 else ()
    drivers = tuple((str(n), float(v)) for n, v in verdict.drivers) if verdict is not None else ()
    return TierRoute(policy=name, tier=tier, score=score, model=model, escalation=escalation, drivers=drivers)
