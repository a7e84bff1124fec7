"""The Ingress deployment: the only one that speaks HTTP."""

from __future__ import annotations

import logging
from typing import Any

from ray import serve
from starlette.applications import Starlette
from starlette.requests import Request

from serve_app.api import create_api
from serve_app.auth import resolve_master_key
from serve_app.backends import RayBackend, RayGuardrailLink, RayRouterLink
from serve_app.config import ProviderKind, parse_gateway_config
from serve_app.gateway import Gateway
from serve_app.governance.enforcer import Governance
from serve_app.metrics import RayMetrics
from serve_app.store import open_database

__all__ = ["Ingress"]

logger = logging.getLogger("tollgate.ingress")


def _serve_request_id(request: Request) -> str | None:
    """The id Serve's proxy gave this request (and echoes as ``x-request-id``)."""
    from ray.serve.context import _get_serve_request_context

    return _get_serve_request_context().request_id or request.headers.get("x-request-id")


@serve.deployment(name="Ingress", max_ongoing_requests=512, ray_actor_options={"num_cpus": 0})
@serve.ingress()
class Ingress:
    """Authenticates, applies the guardrail and budgets, resolves the model and calls the backends."""

    async def __init__(self, gateway_args: dict[str, Any], backends: dict[str, Any], router: Any,
                       guardrail: Any = None) -> None:
        config = parse_gateway_config(gateway_args)
        guards = None
        if guardrail is not None:
            from deployments.guardrail.service import GuardrailService

            # The way back (output policy, restore) runs here, from the same policies as the deployment's.
            rails = config.guardrails
            guards = GuardrailService(rails.policy, rails.teams, rails.keys, preload_injection=False)
        metrics = RayMetrics()
        master_key = resolve_master_key(config)
        self._db = await open_database(config.state.resolved_url(config.server.resolved_data_dir()))
        self._gateway = Gateway(
            config,
            {ProviderKind(kind): RayBackend(handle, kind) for kind, handle in backends.items()},
            master_key,
            metrics=metrics,
            router=RayRouterLink(router),
            governance=Governance(self._db, config, metrics=metrics),
            guardrail=RayGuardrailLink(guardrail) if guardrail is not None else None,
            guards=guards,
        )

    def __serve_build_asgi_app__(self) -> Starlette:
        return create_api(self._gateway, set_request_id=False, request_id_source=_serve_request_id)

    async def __del__(self) -> None:
        await self._db.close()
