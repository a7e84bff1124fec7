"""The Guardrail deployment: input checks on their own replicas (CPU-bound, scaled apart from the ingress)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ray import serve

from deployments.guardrail.guard import GuardVerdict
from deployments.guardrail.service import GuardrailService

__all__ = ["Guardrail"]


@serve.deployment(name="Guardrail", max_ongoing_requests=64, ray_actor_options={"num_cpus": 0})
class Guardrail:
    """Scans, scores and redacts message texts; answers with a ``GuardVerdict``."""

    def __init__(self, gateway_args: dict[str, Any]) -> None:
        from tollgate_core.config import parse_gateway_config

        guardrails = parse_gateway_config(gateway_args).guardrails
        self._service = GuardrailService(guardrails.policy, guardrails.teams, guardrails.keys)

    async def check(self, texts: list[str], destination: str, policy: str,
                    origins: Sequence[Sequence[Any]] | None = None) -> GuardVerdict:
        return self._service.check(texts, destination, policy, origins)  # type: ignore[arg-type]
