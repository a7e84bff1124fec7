"""Tiering on the request path through the HTTP API, in process: gateway + provider proxy against the fake
providers, and the real classifier (shipped weights, the real embedding model) behind the TierLink."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from deployments.cache.decision import Decision
from deployments.cache.embedder import shared_embedder
from deployments.cache.service import SemanticCacheService
from deployments.providers.proxy import ProviderProxy
from deployments.tiering.service import TierVerdict
from deployments.tiering.step import InProcessTierLink
from fake_providers.server import FakeProviderServer
from serve_app.audit.writer import AuditWriter
from serve_app.governance.directory import Directory
from serve_app.governance.enforcer import Governance
from serve_app.pipeline.gateway import Bookkeeping, Deployments, Gateway
from tests.unit._gateway_helpers import GatewayClient, InProcessBackend, serve_in_process, upstream_requests
from tollgate_core.config import ProviderKind, parse_gateway_config
from tollgate_core.entities import KeyCreate, OrgCreate, TeamCreate
from tollgate_core.store import Database, open_database

AUTH = {"Authorization": "Bearer unit-master"}
AUDIT_KEY = b"unit-tiering-audit-key"

SIMPLE = "What is the sentiment of this review: 'The pizza was great and the staff were friendly.'"
HARD = ("Write a Python function that parses an ISO-8601 duration string such as 'P3DT4H12M' and returns the "
        "number of seconds. Handle weeks, fractional seconds and invalid input, and include pytest unit tests.")


async def _embed(texts: list[str]) -> np.ndarray:
    return shared_embedder().embed(texts)


class LocalTierLink(InProcessTierLink):
    """The classifier in process (``tiering.placement: ingress``), keeping every verdict for the assertions
    (whether it had to embed: it must not when the cache lookup already did)."""

    def __init__(self) -> None:
        super().__init__(_embed)
        self.calls: list[dict[str, Any]] = []

    async def classify(self, request: dict[str, Any], vector: list[float] | None) -> TierVerdict:
        verdict = await super().classify(request, vector)
        self.calls.append(verdict.to_dict())
        return verdict


class BrokenTierLink:
    async def classify(self, request: dict[str, Any], vector: list[float] | None) -> TierVerdict:
        raise RuntimeError("classifier replica died")


def _config(fake: FakeProviderServer, tiering: dict[str, Any] | None = None, **extra: Any) -> Any:
    def target(model: str, prices: dict[str, float]) -> dict[str, Any]:
        return {"provider": "openai", "model": model, "api_base": f"{fake.base_url}/v1",
                "api_key_env": "UNIT_OPENAI_KEY", "prices": prices}

    policies = {
        "auto": {"tier1": "small", "tier2": "frontier", "threshold": 0.5},
        "auto-cheap": {"tier1": "small", "tier2": "frontier", "threshold": 1 - 1e-12},
        "auto-quality": {"tier1": "small", "tier2": "frontier", "threshold": 1e-12},
        "no-escalation": {"tier1": "small", "tier2": "frontier", "threshold": 1 - 1e-12, "escalate": False},
    }
    return parse_gateway_config({
        "models": {"small": {"targets": [target("gpt-4o-mini", {"input": 0.15, "output": 0.6})]},
                   "frontier": {"targets": [target("gpt-4o", {"input": 2.5, "output": 10.0})]}},
        "tiering": tiering or {"policies": policies},
        "cache": {"enabled": False},
        **extra,
    })


class _Gateway(GatewayClient):
    def __init__(self, gateway: Gateway, client: httpx.AsyncClient, link: Any) -> None:
        super().__init__(gateway, client, AUTH, model="auto")
        self.link = link


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(f"sqlite:///{tmp_path / 'state.db'}")
    yield database
    await database.close()


async def _open(fake: FakeProviderServer, config: Any, link: Any, cache: Any = None,
                books: Bookkeeping | None = None) -> AsyncIterator[_Gateway]:
    backend = InProcessBackend(ProviderProxy(config, {ProviderKind.OPENAI}))
    gateway = Gateway(config, {ProviderKind.OPENAI: backend}, "unit-master", Deployments(tiers=link, cache=cache),
                      books)
    async with serve_in_process(fake, gateway) as client:
        yield _Gateway(gateway, client, link)


@pytest.fixture
async def gw(fake: FakeProviderServer) -> AsyncIterator[_Gateway]:
    async for opened in _open(fake, _config(fake), LocalTierLink()):
        yield opened


async def _upstream_models(fake: FakeProviderServer) -> list[str]:
    return [r["body"]["model"] for r in await upstream_requests(fake)]


async def test_an_obvious_tier_1_prompt_goes_to_tier_1_and_a_hard_one_to_tier_2(
    gw: _Gateway, fake: FakeProviderServer
) -> None:
    simple = await gw.chat(SIMPLE)
    assert simple.status_code == 200, simple.text
    assert simple.headers["x-tollgate-tier"] == "1"
    assert simple.headers["x-tollgate-model"] == "openai/gpt-4o-mini"
    assert simple.headers["x-tollgate-tier-policy"] == "auto"
    assert float(simple.headers["x-tollgate-tier-score"]) < 0.5
    hard = await gw.chat(HARD)
    assert hard.status_code == 200, hard.text
    assert hard.headers["x-tollgate-tier"] == "2"
    assert hard.headers["x-tollgate-model"] == "openai/gpt-4o"
    assert float(hard.headers["x-tollgate-tier-score"]) >= 0.5
    assert await _upstream_models(fake) == ["gpt-4o-mini", "gpt-4o"]


async def test_the_policy_threshold_from_the_config_decides(gw: _Gateway, fake: FakeProviderServer) -> None:
    cheap = await gw.chat(HARD, model="auto-cheap")
    quality = await gw.chat(SIMPLE, model="auto-quality")
    assert cheap.headers["x-tollgate-tier"] == "1" and cheap.headers["x-tollgate-tier-policy"] == "auto-cheap"
    assert quality.headers["x-tollgate-tier"] == "2" and quality.headers["x-tollgate-tier-policy"] == "auto-quality"
    assert await _upstream_models(fake) == ["gpt-4o-mini", "gpt-4o"]


async def test_a_catalog_model_is_not_classified(gw: _Gateway) -> None:
    reply = await gw.chat(HARD, model="small")
    assert reply.status_code == 200
    assert reply.headers["x-tollgate-tier"] == "2"  # the served target is not the local tier
    assert "x-tollgate-tier-score" not in reply.headers
    assert gw.link.calls == []


async def test_streamed_requests_are_tiered_too(gw: _Gateway) -> None:
    reply = await gw.chat(SIMPLE, stream=True)
    assert reply.status_code == 200
    assert reply.headers["x-tollgate-tier"] == "1" and reply.headers["x-tollgate-model"] == "openai/gpt-4o-mini"
    assert reply.text.rstrip().endswith("data: [DONE]")


async def test_tools_and_a_json_schema_raise_the_score(gw: _Gateway) -> None:
    plain = await gw.chat("Look up the order status for order 1234.")
    tools = [{"type": "function", "function": {"name": "get_order", "parameters": {"type": "object"}}}]
    schema = {"type": "json_schema", "json_schema": {"name": "status", "schema": {"type": "object"}}}
    rich = await gw.chat("Look up the order status for order 1234.", tools=tools, response_format=schema)
    assert float(rich.headers["x-tollgate-tier-score"]) > float(plain.headers["x-tollgate-tier-score"])
    assert gw.link.calls[-1]["features"]["has_tools"] == 1.0


async def test_a_tier_1_target_that_is_down_escalates_to_tier_2(gw: _Gateway, fake: FakeProviderServer) -> None:
    async with httpx.AsyncClient() as admin:
        await admin.post(f"{fake.base_url}/_fake/faults", json=[{"fault": "503", "match": {"model": "gpt-4o-mini"}}])
    reply = await gw.chat(SIMPLE)
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-tollgate-model"] == "openai/gpt-4o"
    assert reply.headers["x-tollgate-tier"] == "2"  # what served; the decision (1) is in the score and the audit
    assert float(reply.headers["x-tollgate-tier-score"]) < 0.5
    models = await _upstream_models(fake)
    assert models[-1] == "gpt-4o" and set(models[:-1]) == {"gpt-4o-mini"} and len(models) >= 2


async def test_without_escalation_a_tier_1_outage_is_the_clients_503(gw: _Gateway, fake: FakeProviderServer) -> None:
    async with httpx.AsyncClient() as admin:
        await admin.post(f"{fake.base_url}/_fake/faults", json=[{"fault": "503", "match": {"model": "gpt-4o-mini"}}])
    reply = await gw.chat(SIMPLE, model="no-escalation")
    assert reply.status_code in (502, 503), reply.text
    assert reply.json()["error"]["message"]
    assert set(await _upstream_models(fake)) == {"gpt-4o-mini"}


async def test_a_failing_classifier_sends_the_request_to_tier_2(fake: FakeProviderServer) -> None:
    async for gw in _open(fake, _config(fake), BrokenTierLink()):
        reply = await gw.chat(SIMPLE)
        assert reply.status_code == 200
        assert reply.headers["x-tollgate-tier"] == "2" and reply.headers["x-tollgate-model"] == "openai/gpt-4o"
        assert "x-tollgate-tier-score" not in reply.headers


async def test_a_keys_or_teams_default_policy_is_what_auto_means(fake: FakeProviderServer, db: Database) -> None:
    policies = {"auto": {"tier1": "small", "tier2": "frontier", "threshold": 0.5},
                "auto-quality": {"tier1": "small", "tier2": "frontier", "threshold": 1e-12}}
    config = _config(fake, {"policies": policies, "teams": {"acme/research": "auto-quality"}})
    directory = Directory(db)
    await directory.create_org(OrgCreate(name="acme"))
    for team in ("research", "support"):
        await directory.create_team(TeamCreate(org="acme", name=team))
    research_key = (await directory.create_key(KeyCreate(team="acme/research", name="r")))["key"]
    support_key = (await directory.create_key(KeyCreate(team="acme/support", name="s")))["key"]
    audit = AuditWriter(db, hmac_key=AUDIT_KEY)
    async for gw in _open(fake, config, LocalTierLink(), books=Bookkeeping(governance=Governance(db, config), audit=audit)):
        research_reply = await gw.chat(SIMPLE, headers={"Authorization": f"Bearer {research_key}"})
        support_reply = await gw.chat(SIMPLE, headers={"Authorization": f"Bearer {support_key}"})
        assert research_reply.status_code == 200, research_reply.text
        assert research_reply.headers["x-tollgate-tier-policy"] == "auto-quality"
        assert research_reply.headers["x-tollgate-tier"] == "2"
        assert support_reply.headers["x-tollgate-tier-policy"] == "auto"
        assert support_reply.headers["x-tollgate-tier"] == "1"
        # Admission wrote the output cap into the request; the classifier saw what the client asked (nothing).
        assert gw.link.calls[-1]["features"]["max_tokens"] == 0.0
    await audit.close()
    rows = await db.fetchall("SELECT record FROM audit_log ORDER BY seq")
    records = [json.loads(r["record"]) for r in rows]
    assert [(r["model"], r["tier_policy"], r["tier_decided"], r["tier"]) for r in records] == [
        ("auto", "auto-quality", 2, 2), ("auto", "auto", 1, 1)]
    # The audit record keeps the score the response reported.
    assert [r["tier_score"] for r in records] == [float(research_reply.headers["x-tollgate-tier-score"]),
                                                  float(support_reply.headers["x-tollgate-tier-score"])]


async def test_the_cache_lookups_embedding_is_reused(fake: FakeProviderServer, db: Database) -> None:
    embedded: list[str] = []

    async def counting_embed(texts: list[str]) -> np.ndarray:
        embedded.extend(texts)
        return await _embed(texts)

    config = _config(fake, cache={"enabled": True})
    cache = SemanticCacheService(db, counting_embed, Decision())
    link = LocalTierLink()
    async for gw in _open(fake, config, link, cache=cache):
        reply = await gw.chat(SIMPLE, temperature=0)  # cacheable: the lookup embeds it
        assert reply.headers["x-tollgate-cache"] == "miss" and reply.headers["x-tollgate-tier"] == "1"
        assert link.calls[-1]["embedded"] is False
        bypass = await gw.chat(HARD, temperature=0.7)  # not cacheable: the classifier embeds it
        assert bypass.headers["x-tollgate-cache"] == "bypass" and link.calls[-1]["embedded"] is True
    assert embedded == [SIMPLE]  # once, by the cache lookup; the stored entry reused the lookup's vector


async def test_policies_are_listed_as_models(gw: _Gateway) -> None:
    listed = {m["id"]: m for m in (await gw.client.get("/v1/models", headers=AUTH)).json()["data"]}
    assert listed["auto"]["tiering"] == {"tier1": "small", "tier2": "frontier", "threshold": 0.5, "escalate": True}
    assert {"small", "frontier", "auto", "auto-cheap", "auto-quality"} <= set(listed)
