"""PostgreSQL stopped for 10 s under load: requests fail closed with 503 (never an unmetered answer, never a 500),
the gateway recovers by itself, no budget is overspent, and every answered request has its audit record."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from deployments.providers.proxy import ProviderProxy
from fake_providers.server import FakeProviderServer
from serve_app.audit.verify import verify_chain
from serve_app.audit.writer import AuditWriter
from serve_app.governance.enforcer import Governance
from serve_app.governance.ledger import Kind
from serve_app.http.api import create_api
from serve_app.pipeline.gateway import Bookkeeping, Gateway
from tests.postgres_server import PostgresServer
from tests.unit._gateway_helpers import MASTER_KEY, InProcessBackend
from tollgate_core.config import ProviderKind, parse_gateway_config
from tollgate_core.store import Database, open_database
from tollgate_core.windows import Window

HMAC_KEY = b"outage-audit-key"
MASTER = {"authorization": f"Bearer {MASTER_KEY}"}
OUTAGE_S = 10.0
TIGHT_BUDGET_USD = 0.002  # a few dozen requests' worst case: spent before or after the outage


@dataclass
class Reply:
    started: float
    ended: float
    status: int
    key: str
    request_id: str | None
    body: dict[str, Any]
    retry_after: str | None


@pytest.fixture
async def server() -> AsyncIterator[PostgresServer]:
    """A PostgreSQL server of the test's own, to stop and start."""
    pg = await asyncio.to_thread(PostgresServer().start)
    try:
        yield pg
    finally:
        await asyncio.to_thread(pg.stop)


async def new_key(client: httpx.AsyncClient, team: str, budget_usd: float) -> tuple[str, str]:
    created = await client.post("/admin/keys", headers=MASTER, json={
        "team": team, "name": f"load-{budget_usd}", "budgets": {"hourly": {"hard": budget_usd}}})
    assert created.status_code == 201, created.text
    return str(created.json()["key"]), str(created.json()["id"])


async def load(client: httpx.AsyncClient, key: str, until: float, replies: list[Reply]) -> None:
    while time.monotonic() < until:
        started = time.monotonic()
        response = await client.post("/v1/chat/completions", headers={"authorization": f"Bearer {key}"}, json={
            "model": "gpt", "max_tokens": 40, "messages": [{"role": "user", "content": f"hello {len(replies)}"}]})
        replies.append(Reply(started, time.monotonic(), response.status_code, key, response.headers.get("x-request-id"),
                             response.json(), response.headers.get("retry-after")))
        await asyncio.sleep(0.01)


async def test_a_database_outage_fails_closed_and_the_gateway_recovers(server: PostgresServer,
                                                                       fake: FakeProviderServer) -> None:
    await httpx.AsyncClient().post(f"{fake.base_url}/_fake/reset")
    config = parse_gateway_config({"models": {"gpt": {"targets": [{
        "provider": "openai", "model": "gpt-4o", "api_base": f"{fake.base_url}/v1", "api_key_env": "UNIT_OPENAI_KEY",
        "prices": {"input": 2.5, "output": 10}}]}}})
    db = await open_database(server.url())
    writer = AuditWriter(db, hmac_key=HMAC_KEY)
    governance = Governance(db, config)
    gateway = Gateway(config, {ProviderKind.OPENAI: InProcessBackend(ProviderProxy(config, {ProviderKind.OPENAI}))},
                      MASTER_KEY, books=Bookkeeping(governance=governance, audit=writer))
    replies: list[Reply] = []
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_api(gateway)), base_url="http://gw",
                                     timeout=60) as client:
            await client.post("/admin/orgs", headers=MASTER, json={"name": "acme"})
            await client.post("/admin/teams", headers=MASTER, json={"org": "acme", "name": "ml"})
            roomy, _ = await new_key(client, "acme/ml", 100.0)
            tight, tight_id = await new_key(client, "acme/ml", TIGHT_BUDGET_USD)

            t0 = time.monotonic()
            until = t0 + 3 + OUTAGE_S + 6
            clients = [asyncio.create_task(load(client, key, until, replies)) for key in (roomy, roomy, tight, tight)]
            await asyncio.sleep(3)
            await asyncio.to_thread(server.pause)
            down = time.monotonic()
            await asyncio.sleep(OUTAGE_S)
            up_start = time.monotonic()
            await asyncio.to_thread(server.resume)
            up = time.monotonic()
            await asyncio.gather(*clients)
            await gateway.drain()

        statuses = {r.status for r in replies}
        assert statuses <= {200, 429, 503}, statuses  # never a 500
        during = [r for r in replies if r.started > down + 0.5 and r.ended < up_start]
        assert during and all(r.status == 503 for r in during), {r.status for r in during}
        assert all(r.body["error"]["code"] in ("state_store_unavailable", "audit_unavailable") and r.retry_after
                   for r in during)
        recovered = [r for r in replies if r.key == roomy and r.started > up + 2]
        assert recovered and all(r.status == 200 for r in recovered), {r.status for r in recovered}
        assert any(r.status == 200 for r in replies if r.started < down)

        # No budget overspent: what the tight key spent and still holds stays within its hourly budget.
        ledger = governance.ledger
        used, reserved = await ledger.counter(f"key:{tight_id}", Kind.USD, Window.HOURLY)
        assert used + reserved <= TIGHT_BUDGET_USD * 1e9
        assert any(r.status == 429 and r.key == tight for r in replies)  # the budget did cut the key off

        # Every answered request has its audit record, and the chain verifies.
        recorded = await audit_request_ids(db)
        answered = [r.request_id for r in replies if r.status == 200]
        assert answered and set(answered) <= recorded
        report = await verify_chain(db, HMAC_KEY)
        assert report.ok, report.message
    finally:
        await writer.close()
        await db.close()


async def audit_request_ids(db: Database) -> set[str]:
    import json

    rows = await db.fetchall("SELECT record FROM audit_log")
    return {json.loads(r["record"]).get("client_request_id") for r in rows}
