"""The Ingress deployment: the only one that speaks HTTP."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from ray import serve
from starlette.applications import Starlette
from starlette.requests import Request

from deployments.tiering.step import InProcessTierLink, TierLink
from serve_app.audit.keys import gateway_hmac_key
from serve_app.audit.retention import prune
from serve_app.audit.sealing import seal, sealing_key_from_env
from serve_app.audit.verify import key_matches
from serve_app.audit.writer import AuditWriter
from serve_app.governance.enforcer import Governance
from serve_app.heap import freeze_startup_heap
from serve_app.http.api import create_api
from serve_app.pipeline.auth import resolve_master_key
from serve_app.pipeline.backends import (
    InProcessBackend,
    RayBackend,
    RayCacheLink,
    RayGuardrailLink,
    RayJudgeLink,
    RayRouterLink,
    RayTierLink,
)
from serve_app.pipeline.gateway import Bookkeeping, Deployments, Gateway
from tollgate_core.config import GatewayConfig, ProviderKind, parse_gateway_config
from tollgate_core.errors import ConfigError
from tollgate_core.metrics import RayMetrics
from tollgate_core.store import Database, open_database

__all__ = ["Ingress"]

logger = logging.getLogger("tollgate.ingress")

_PRUNE_INTERVAL_S = 3600.0


def _serve_request_id(request: Request) -> str | None:
    """The id Serve's proxy gave this request (and echoes as ``x-request-id``)."""
    from ray.serve.context import _get_serve_request_context

    request_id: str | None = _get_serve_request_context().request_id or request.headers.get("x-request-id")
    return request_id


@serve.deployment(name="Ingress", max_ongoing_requests=512, ray_actor_options={"num_cpus": 0})
@serve.ingress()
class Ingress:
    """Authenticates, applies the guardrail and budgets, resolves the model and calls the backends."""

    async def __init__(self, gateway_args: dict[str, Any], backends: dict[str, Any], router: Any,
                       guardrail: Any = None, cache: Any = None, tiers: Any = None, judge: Any = None) -> None:
        config = parse_gateway_config(gateway_args)
        guards, guard_link = _guardrail(config, guardrail)
        backend_map, self._local_proxy = provider_backends(config, backends)
        metrics = RayMetrics(frozenset(config.models) | frozenset(config.tiering.policies))
        master_key = resolve_master_key(config)
        self._db = await open_database(config.state.resolved_url(config.server.resolved_data_dir()))
        audit_key = gateway_hmac_key(config) if config.audit.enabled else None
        self._audit = await _audit_writer(config, self._db, audit_key) if audit_key is not None else None
        self._pruner = (
            asyncio.create_task(_prune_periodically(self._db, audit_key, config.audit.retention_days))
            if audit_key is not None and config.audit.retention_days else None
        )
        self._gateway = Gateway(
            config,
            backend_map,
            master_key,
            Deployments(
                router=RayRouterLink(router),
                guardrail=guard_link,
                guards=guards,
                cache=RayCacheLink(cache) if cache is not None else None,
                tiers=_tier_link(config, tiers, cache),
                judge=RayJudgeLink(judge) if judge is not None else None,
            ),
            Bookkeeping(governance=Governance(self._db, config, metrics=metrics), audit=self._audit,
                        seal=_sealer(config), metrics=metrics),
        )
        await self._gateway.start()  # the shared routing state, before Serve sends this replica a request
        if config.server.gc_freeze:
            frozen = freeze_startup_heap()
            logger.info("froze %d objects built at start out of the garbage collector's walks", frozen)

    def __serve_build_asgi_app__(self) -> Starlette:
        return create_api(self._gateway, set_request_id=False, request_id_source=_serve_request_id)

    async def __del__(self) -> None:
        # Serve calls this even when __init__ failed part way: only what was built is closed.
        if getattr(self, "_pruner", None) is not None:
            self._pruner.cancel()
        if getattr(self, "_gateway", None) is not None and self._gateway.judges is not None:
            await self._gateway.judges.drain(timeout_s=2.0)  # sampled judgements already queued
        if getattr(self, "_local_proxy", None) is not None:
            await self._local_proxy.aclose()
        if getattr(self, "_audit", None) is not None:
            await self._audit.close()  # commit what is pending
        if getattr(self, "_db", None) is not None:
            await self._db.close()


def provider_backends(config: GatewayConfig, handles: dict[str, Any]
                      ) -> tuple[dict[ProviderKind, Any], InProcessBackend | None]:
    """The deployments' handles, and with ``routing.proxy_placement: ingress`` the commercial providers' proxy in
    this process (one pooled client per provider family, as a proxy replica holds), which the caller closes."""
    backends: dict[ProviderKind, Any] = {ProviderKind(kind): RayBackend(handle, kind) for kind, handle in handles.items()}
    kinds = config.provider_kinds() - {ProviderKind.LOCAL}
    if config.routing.proxy_placement != "ingress" or not kinds:
        return backends, None
    from deployments.providers.proxy import ProviderProxy

    local = InProcessBackend(ProviderProxy(config, kinds))
    for kind in kinds:  # Azure goes through the OpenAI backend, as in the graph
        backends[ProviderKind.OPENAI if kind is ProviderKind.AZURE else kind] = local
    return backends, local


def _guardrail(config: GatewayConfig, handle: Any) -> tuple[Any, Any]:
    """The guardrail's policies here (the way back, output policy and restore, always runs in the Ingress) and the
    link its check goes through: the Guardrail deployment, or this process with ``placement: ingress``."""
    rails = config.guardrails
    if not rails.enabled:
        return None, None
    from deployments.guardrail.service import GuardrailService
    from deployments.guardrail.step import LocalGuardrailLink

    in_process = rails.placement == "ingress"
    guards = GuardrailService(rails.policy, rails.teams, rails.keys, preload_injection=in_process)
    if in_process:
        return guards, LocalGuardrailLink(guards, rails.inline_max_chars)
    return guards, RayGuardrailLink(handle)


def _tier_link(config: GatewayConfig, tiers: Any, cache: Any) -> TierLink | None:
    """The TierClassifier deployment, or with ``tiering.placement: ingress`` the same service in this replica
    (embedding through the SemanticCache when the graph has it)."""
    if tiers is not None:
        return RayTierLink(tiers)
    if not config.tiering.active:
        return None
    from deployments.tiering.service import embed_via, local_embed

    return InProcessTierLink(embed_via(RayCacheLink(cache).embed) if cache is not None else local_embed())


async def _prune_periodically(db: Database, hmac_key: bytes, retention_days: float) -> None:
    """Apply ``audit.retention_days`` once an hour (pruning cuts only at signed checkpoints; replicas that
    prune at once delete the same prefix)."""
    while True:
        try:
            deleted = await prune(db, hmac_key, time.time() - retention_days * 86400)
            if deleted:
                logger.info("audit retention: pruned %d records older than %g days", deleted, retention_days)
        except Exception:
            logger.exception("audit retention: pruning failed; trying again in an hour")
        await asyncio.sleep(_PRUNE_INTERVAL_S)


async def _audit_writer(config: GatewayConfig, db: Database, key: bytes) -> AuditWriter:
    if await key_matches(db, key) is False:
        raise ConfigError(
            f"{config.audit.hmac_key_env} does not match the key that signed the audit log's checkpoints; every "
            "replica must use the same key (a new key would make the existing chain look forged)"
        )
    return AuditWriter(db, hmac_key=key, flush_interval_s=config.audit.flush_interval_ms / 1000,
                       max_batch=config.audit.max_batch)


def _sealer(config: GatewayConfig) -> Callable[[dict[str, Any]], str] | None:
    """Encrypts the redacted texts of the teams that opted in; refuses to start without the key."""
    if not config.audit.store_text_teams:
        return None
    return functools.partial(seal, key=sealing_key_from_env(config.audit.encryption_key_env))
