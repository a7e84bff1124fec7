"""What the in-process gateway tests share: a provider proxy called directly instead of through Ray, and the
gateway's HTTP API served in process."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.testclient import TestClient

from deployments.providers.proxy import ProviderProxy
from fake_providers.server import FakeProviderServer
from serve_app.http.api import create_api
from serve_app.pipeline.backends import InProcessBackend as _InProcessBackend
from serve_app.pipeline.gateway import Gateway
from tollgate_core.config import ProviderKind, parse_gateway_config
from tollgate_core.store import Database, open_database

__all__ = ["MASTER_KEY", "GatewayClient", "InProcessBackend", "audit_records", "audited_gateway", "gateway_over_fakes",
           "provider_credentials", "recorded_requests", "serve_http", "serve_in_process", "upstream_requests"]

MASTER_KEY = "unit-master"
# A ProviderProxy called directly, as the Ray handle would call it (the product's, for routing.proxy_placement).
InProcessBackend = _InProcessBackend


class GatewayClient:
    """The gateway's HTTP API in process; ``chat`` sends one user message over the ``defaults`` (model, ...) and
    waits for the work the gateway does after a response (cache writes, audit records)."""

    def __init__(self, gateway: Gateway, client: httpx.AsyncClient, auth: dict[str, str], **defaults: Any) -> None:
        self.gateway, self.client, self._auth, self._defaults = gateway, client, auth, defaults

    async def chat(self, text: str, headers: dict[str, str] | None = None, **fields: Any) -> httpx.Response:
        body = {**self._defaults, "messages": [{"role": "user", "content": text}], **fields}
        response = await self.client.post("/v1/chat/completions", json=body, headers={**self._auth, **(headers or {})})
        await self.gateway.drain()
        return response


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_http(app: Starlette) -> Iterator[str]:
    """``app`` served by uvicorn on a free port of 127.0.0.1 in a thread (real sockets, real streaming); yields
    its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning",
                                           loop="asyncio"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the gateway did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@asynccontextmanager
async def serve_in_process(fake: FakeProviderServer, gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on ``gateway``'s API, with the fake providers' recorded requests and faults cleared first."""
    async with httpx.AsyncClient() as admin:
        await admin.post(f"{fake.base_url}/_fake/reset")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_api(gateway)),
                                 base_url="http://gateway") as client:
        yield client


async def upstream_requests(fake: FakeProviderServer) -> list[dict[str, Any]]:
    """Every provider request the fake has seen since its last reset, oldest first."""
    async with httpx.AsyncClient() as admin:
        return list((await admin.get(f"{fake.base_url}/_fake/requests")).json())


def provider_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Anthropic key and the AWS credentials the fakes' Anthropic and Bedrock targets need (OpenAI's is the
    ``fake`` fixture's UNIT_OPENAI_KEY)."""
    monkeypatch.setenv("UNIT_ANTHROPIC_KEY", "sk-ant-unit")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDUNIT")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unit-secret")


@contextmanager
def gateway_over_fakes(fake: FakeProviderServer, models: dict[str, Any]) -> Iterator[TestClient]:
    """The gateway's HTTP API in process (master key ``MASTER_KEY``) for ``models``, one provider proxy serving
    every kind they use, with the fake's recorded requests and faults cleared first."""
    httpx.post(f"{fake.base_url}/_fake/reset")
    config = parse_gateway_config({"models": models})
    kinds = config.provider_kinds() - {ProviderKind.LOCAL}
    backend = InProcessBackend(ProviderProxy(config, kinds))
    # Azure targets are served by the OpenAI backend, as in the deployment graph.
    backends = {ProviderKind.OPENAI if kind is ProviderKind.AZURE else kind: backend for kind in kinds}
    with TestClient(create_api(Gateway(config, backends, MASTER_KEY))) as client:
        yield client


def recorded_requests(fake: FakeProviderServer) -> list[dict[str, Any]]:
    """Every provider request the fake has seen since its last reset, oldest first (from synchronous tests)."""
    return list(httpx.get(f"{fake.base_url}/_fake/requests").json())


@asynccontextmanager
async def audited_gateway(fake: FakeProviderServer, state_db: Path, models: dict[str, Any], hmac_key: bytes,
                          guardrails: dict[str, Any]) -> AsyncIterator[tuple[httpx.AsyncClient, Database]]:
    """The whole request path in process on SQLite at ``state_db``: guardrail, governance and the audit writer
    (OpenAI-wire targets), with the fake reset first; yields an HTTP client and the store."""
    from deployments.guardrail.service import GuardrailService
    from deployments.guardrail.step import LocalGuardrailLink
    from serve_app.audit.writer import AuditWriter
    from serve_app.governance.enforcer import Governance
    from serve_app.pipeline.gateway import Bookkeeping, Deployments

    async with httpx.AsyncClient() as admin:
        await admin.post(f"{fake.base_url}/_fake/reset")
    config = parse_gateway_config({"models": models, "guardrails": guardrails})
    db = await open_database(f"sqlite:///{state_db}")
    writer = AuditWriter(db, hmac_key=hmac_key)
    rails = config.guardrails
    service = GuardrailService(rails.policy, rails.teams, rails.keys)
    gateway = Gateway(config, {ProviderKind.OPENAI: InProcessBackend(ProviderProxy(config, {ProviderKind.OPENAI}))},
                      MASTER_KEY, Deployments(guardrail=LocalGuardrailLink(service), guards=service),
                      Bookkeeping(governance=Governance(db, config), audit=writer))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_api(gateway)),
                                     base_url="http://gateway") as client:
            yield client, db
    finally:
        await writer.close()
        await db.close()


async def audit_records(db: Database) -> list[dict[str, Any]]:
    """Every audit record in the store, in chain order."""
    return [json.loads(r["record"]) for r in await db.fetchall("SELECT record FROM audit_log ORDER BY seq")]
