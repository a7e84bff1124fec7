"""The model catalog as the ingress sees it: public names, targets and their availability."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tollgate_core.config import GatewayConfig, TargetConfig
from tollgate_core.errors import ModelNotFoundError, UpstreamUnavailableError

__all__ = ["AUTO", "Catalog", "ResolvedTarget", "models_reachable", "policy_models"]

# The tiering policy name a client sends to let the gateway choose (a key's or team's default policy).
AUTO = "auto"


@dataclass(frozen=True)
class ResolvedTarget:
    """One callable target of a public model."""

    model: str
    index: int
    target: TargetConfig


class Catalog:
    """Resolves public model names to the targets that can be called now.

    Availability (a credential variable being set) is read once at start: keys
    come from the replica's environment, which does not change while it runs.
    """

    def __init__(self, config: GatewayConfig, environ: dict[str, str] | None = None) -> None:
        env = dict(os.environ) if environ is None else environ
        self._config = config
        self._created = int(time.time())
        self._unavailable: dict[tuple[str, int], str] = {}
        for name, entry in config.models.items():
            for i, target in enumerate(entry.targets):
                reason = target.unavailable_reason(env)
                if reason:
                    self._unavailable[(name, i)] = reason

    def resolve(self, model: str, *, raise_if_none: bool = True) -> list[ResolvedTarget]:
        """Available targets of ``model`` in config order; raises if it is unknown or none is available."""
        entry = self._config.models.get(model)
        if entry is None:
            raise ModelNotFoundError(
                f"The model '{model}' does not exist. GET /v1/models lists the models this gateway serves.",
                param="model",
            )
        targets = [
            ResolvedTarget(model, i, t) for i, t in enumerate(entry.targets) if (model, i) not in self._unavailable
        ]
        if not targets and raise_if_none:
            reasons = "; ".join(f"{t.label}: {self._unavailable[(model, i)]}" for i, t in enumerate(entry.targets))
            raise UpstreamUnavailableError(f"no target of '{model}' is available ({reasons})", code="no_available_target")
        return targets

    def list_models(self) -> list[dict[str, Any]]:
        """``/v1/models`` entries, with Tollgate's availability detail as an extension field."""
        out = []
        for name, entry in self._config.models.items():
            targets = []
            for i, target in enumerate(entry.targets):
                reason = self._unavailable.get((name, i))
                targets.append(
                    {
                        "provider": target.provider.value,
                        "model": target.model,
                        "region": target.region,
                        "available": reason is None,
                        **({"unavailable_reason": reason} if reason else {}),
                    }
                )
            out.append(
                {
                    "id": name,
                    "object": "model",
                    "created": self._created,
                    "owned_by": "tollgate",
                    "type": entry.type.value,
                    "available": any(t["available"] for t in targets),
                    "targets": targets,
                }
            )
        for name, policy in self._config.tiering.policies.items() if self._config.tiering.active else ():
            out.append(
                {
                    "id": name,
                    "object": "model",
                    "created": self._created,
                    "owned_by": "tollgate",
                    "available": any(m["available"] for m in out if m["id"] in (policy.tier1, policy.tier2)),
                    "tiering": {"tier1": policy.tier1, "tier2": policy.tier2, "threshold": policy.threshold,
                                "escalate": policy.escalate,
                                **({"description": policy.description} if policy.description else {})},
                }
            )
        return out


def policy_models(config: GatewayConfig, model: str) -> list[str]:
    """The catalog models a policy name may route to (every policy's, for ``auto``: a key's default may be any)."""
    tiering = config.tiering
    if not tiering.active:
        return []
    if model == AUTO and (tiering.keys or tiering.teams):
        names = list(tiering.policies)
    elif model in tiering.policies:
        names = [model]
    else:
        return []
    return list(dict.fromkeys(m for name in names for m in (tiering.policies[name].tier1, tiering.policies[name].tier2)))


def models_reachable(config: GatewayConfig, model: str) -> Iterable[str]:
    """``model`` and every model failover can move it to (fallbacks, context fallback), transitively; for a tiering
    policy, its tiers' models and theirs."""
    seen: list[str] = []
    pending = [model, *reversed(policy_models(config, model))]
    while pending:
        name = pending.pop()
        if name in seen or name not in config.models:
            continue
        seen.append(name)
        entry = config.models[name]
        pending.extend(entry.fallbacks)
        if entry.context_fallback:
            pending.append(entry.context_fallback)
    return seen
