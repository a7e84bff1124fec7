"""The Ingress deployment: the only one that speaks HTTP."""

from __future__ import annotations

import logging
from typing import Any

from ray import serve
from starlette.applications import Starlette

from serve_app.api import create_api
from serve_app.auth import resolve_master_key
from serve_app.backends import RayBackend, RayRouterLink
from serve_app.config import ProviderKind, parse_gateway_config
from serve_app.gateway import Gateway
from serve_app.metrics import RayMetrics

__all__ = ["Ingress"]

logger = logging.getLogger("tollgate.ingress")


@serve.deployment(name="Ingress", max_ongoing_requests=512, ray_actor_options={"num_cpus": 0})
@serve.ingress()
class Ingress:
    """Authenticates, resolves the model and calls the backend deployments."""

    def __init__(self, gateway_args: dict[str, Any], backends: dict[str, Any], router: Any) -> None:
        config = parse_gateway_config(gateway_args)
        self._gateway = Gateway(
            config,
            {ProviderKind(kind): RayBackend(handle, kind) for kind, handle in backends.items()},
            resolve_master_key(config),
            metrics=RayMetrics(),
            router=RayRouterLink(router),
        )

    def __serve_build_asgi_app__(self) -> Starlette:
        return create_api(self._gateway, set_request_id=False)
