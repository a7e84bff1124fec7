"""The cache on the request path through the HTTP API, in process: gateway + provider proxy against the fake
providers, the cache service on SQLite with the real embedding model and decision stage."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from deployments.cache.decision import Decision
from deployments.cache.service import CacheKey, Lookup, SemanticCacheService
from deployments.guardrail.service import GuardrailService
from deployments.guardrail.step import LocalGuardrailLink
from deployments.providers.proxy import ProviderProxy
from fake_providers.server import FakeProviderServer
from serve_app.audit.verify import verify_chain
from serve_app.audit.writer import AuditWriter
from serve_app.governance.enforcer import Governance
from serve_app.pipeline.gateway import Bookkeeping, Deployments, Gateway
from tests.unit._gateway_helpers import GatewayClient, InProcessBackend, serve_in_process, upstream_requests
from tests.unit.cache.conftest import Embed
from tollgate_core.config import ProviderKind, parse_gateway_config
from tollgate_core.store import Database, open_database

AUTH = {"Authorization": "Bearer unit-master"}
AUDIT_KEY = b"unit-cache-audit-key"
PRICES = {"input": 2.5, "output": 10.0}


class _Gateway(GatewayClient):
    def __init__(self, gateway: Gateway, client: httpx.AsyncClient, service: SemanticCacheService) -> None:
        super().__init__(gateway, client, AUTH, model="gpt-4o", temperature=0)
        self.service = service


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(f"sqlite:///{tmp_path / 'state.db'}")
    yield database
    await database.close()


def _config(fake: FakeProviderServer, **extra: Any) -> Any:
    target = {"provider": "openai", "api_base": f"{fake.base_url}/v1", "api_key_env": "UNIT_OPENAI_KEY",
              "prices": PRICES}
    return parse_gateway_config({"models": {"gpt-4o": {"targets": [{**target, "model": "gpt-4o"}]}}, **extra})


async def _open(fake: FakeProviderServer, db: Database, embed: Embed, *, audited: bool = False,
                **extra: Any) -> AsyncIterator[_Gateway]:
    config = _config(fake, **extra)
    service = SemanticCacheService(db, embed, Decision())
    deployments = Deployments(cache=service)
    if config.guardrails.enabled:
        rails = GuardrailService(config.guardrails.policy, config.guardrails.teams, config.guardrails.keys)
        deployments = Deployments(cache=service, guardrail=LocalGuardrailLink(rails), guards=rails)
    audit = AuditWriter(db, hmac_key=AUDIT_KEY) if audited else None
    books = Bookkeeping(audit=audit, governance=Governance(db, config)) if audited else None
    backend = InProcessBackend(ProviderProxy(config, {ProviderKind.OPENAI}))
    gateway = Gateway(config, {ProviderKind.OPENAI: backend}, "unit-master", deployments, books)
    async with serve_in_process(fake, gateway) as client:
        yield _Gateway(gateway, client, service)
    if audit is not None:
        await audit.close()


@pytest.fixture
async def gw(fake: FakeProviderServer, db: Database, embed: Embed) -> AsyncIterator[_Gateway]:
    async for opened in _open(fake, db, embed):
        yield opened


async def _upstream_calls(fake: FakeProviderServer) -> int:
    return len(await upstream_requests(fake))


async def test_a_miss_is_stored_and_the_same_and_a_paraphrased_question_hit(
    gw: _Gateway, fake: FakeProviderServer
) -> None:
    first = await gw.chat("How can I improve my English speaking skills?")
    assert first.status_code == 200 and first.headers["x-tollgate-cache"] == "miss"
    answer = first.json()["choices"][0]["message"]["content"]
    exact = await gw.chat("how can I improve my ENGLISH speaking   skills?")
    assert exact.headers["x-tollgate-cache"] == "hit" and exact.headers["x-tollgate-cache-kind"] == "exact"
    paraphrase = await gw.chat("How do I get better at speaking English?")
    assert paraphrase.headers["x-tollgate-cache"] == "hit", paraphrase.headers
    assert paraphrase.headers["x-tollgate-cache-kind"] == "semantic"
    assert 0.5 < float(paraphrase.headers["x-tollgate-cache-similarity"]) < 1.0
    for hit in (exact, paraphrase):
        body = hit.json()
        assert body["object"] == "chat.completion" and body["choices"][0]["message"]["content"] == answer
        assert body["choices"][0]["finish_reason"] == "stop"
        assert body["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        assert float(hit.headers["x-tollgate-cache-saved-usd"]) > 0
    assert await _upstream_calls(fake) == 1


async def test_a_near_miss_goes_upstream(gw: _Gateway, fake: FakeProviderServer) -> None:
    await gw.chat("What is our corporate policy on remote work?")
    near = await gw.chat("What is our corporate policy on remote work for contractors?")
    assert near.headers["x-tollgate-cache"] == "miss"
    assert await _upstream_calls(fake) == 2


async def test_a_hit_is_replayed_as_sse_when_streaming(gw: _Gateway, fake: FakeProviderServer) -> None:
    first = await gw.chat("Name three primary colours, please.", stream=True,
                          stream_options={"include_usage": True})
    streamed = [line[6:] for line in first.text.splitlines() if line.startswith("data: ")]
    assert first.headers["x-tollgate-cache"] == "miss" and streamed[-1] == "[DONE]"
    text = "".join((json.loads(e)["choices"] or [{}])[0].get("delta", {}).get("content") or ""
                   for e in streamed[:-1])
    # Stored from the stream: the non-streamed request hits it, and the streamed one replays it.
    whole = await gw.chat("Name three primary colours, please.")
    assert whole.headers["x-tollgate-cache"] == "hit" and whole.json()["choices"][0]["message"]["content"] == text
    replay = await gw.chat("Name three primary colours, please.", stream=True, stream_options={"include_usage": True})
    assert replay.headers["x-tollgate-cache"] == "hit"
    assert replay.headers["content-type"].startswith("text/event-stream")
    events = [line[6:] for line in replay.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]) == text
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    assert chunks[-1]["usage"]["total_tokens"] == 0
    assert await _upstream_calls(fake) == 1


async def test_sampling_and_cache_control_bypass(gw: _Gateway, fake: FakeProviderServer) -> None:
    for _ in range(2):
        sampled = await gw.chat("Tell me a joke about penguins.", temperature=0.9)
        assert sampled.headers["x-tollgate-cache"] == "bypass"
    no_store = await gw.chat("Tell me a joke about penguins.", headers={"cache-control": "no-store"})
    assert no_store.headers["x-tollgate-cache"] == "miss"
    stored = await gw.chat("Tell me a joke about penguins.")
    assert stored.headers["x-tollgate-cache"] == "miss"  # no-store above kept nothing
    no_cache = await gw.chat("Tell me a joke about penguins.", headers={"cache-control": "no-cache"})
    assert no_cache.headers["x-tollgate-cache"] == "bypass"
    assert (await gw.chat("Tell me a joke about penguins.")).headers["x-tollgate-cache"] == "hit"
    forced = await gw.chat("Tell me a joke about walruses.", temperature=0.9, headers={"x-tollgate-cache": "force"})
    assert forced.headers["x-tollgate-cache"] == "miss"
    again = await gw.chat("Tell me a joke about walruses.", temperature=0.9, headers={"x-tollgate-cache": "force"})
    assert again.headers["x-tollgate-cache"] == "hit"
    assert await _upstream_calls(fake) == 6


async def test_requests_with_guardrail_findings_are_not_cached(fake: FakeProviderServer, db: Database,
                                                               embed: Embed) -> None:
    async for gw in _open(fake, db, embed):
        text = "Write a short thank-you note to jane.doe@example.com for the meeting."
        for _ in range(2):
            response = await gw.chat(text)
            assert response.status_code == 200 and response.headers["x-tollgate-cache"] == "bypass"
        assert (await gw.service.stats())["entries"] == 0


async def test_a_failing_cache_is_a_miss_not_an_error(fake: FakeProviderServer, db: Database, embed: Embed) -> None:
    class Broken:
        async def lookup(self, key: CacheKey, semantic: bool) -> Lookup:
            raise RuntimeError("the cache replica is gone")

        async def store(self, *args: Any) -> None:
            raise RuntimeError("the cache replica is gone")

    async for gw in _open(fake, db, embed):
        gw.gateway.cache.link = Broken()  # type: ignore[assignment]
        for _ in range(2):
            response = await gw.chat("How can I improve my English speaking skills?")
            assert response.status_code == 200 and response.headers["x-tollgate-cache"] == "miss"


async def test_admin_purge_and_stats(gw: _Gateway) -> None:
    await gw.chat("How can I improve my English speaking skills?")
    stats = (await gw.client.get("/admin/cache", headers=AUTH)).json()
    assert stats["entries"] == 1 and stats["by_tenant"] == {"master": 1}
    refused = await gw.client.post("/admin/cache/purge", headers=AUTH, json={})
    assert refused.status_code == 400 and refused.json()["error"]["type"] == "invalid_request_error"
    purged = await gw.client.post("/admin/cache/purge", headers=AUTH, json={"tenant": "master"})
    assert purged.json() == {"object": "cache_purge", "deleted": 1}
    assert (await gw.chat("How can I improve my English speaking skills?")).headers["x-tollgate-cache"] == "miss"


async def test_each_request_leaves_one_audit_record_and_hits_are_charged_nothing(
    fake: FakeProviderServer, db: Database, embed: Embed
) -> None:
    async for gw in _open(fake, db, embed, audited=True):
        await gw.chat("How can I improve my English speaking skills?")
        await gw.chat("How can I improve my English speaking skills?")
        await gw.chat("How can I improve my English speaking skills?", stream=True)
        await gw.chat("How can I improve my English speaking skills?", temperature=0.5)
    records = [json.loads(r["record"]) for r in await db.fetchall("SELECT record FROM audit_log ORDER BY seq")]
    assert [(r["cache"], r["outcome"], r["status"]) for r in records] == [
        ("miss", "ok", 200), ("hit", "ok", 200), ("hit", "ok", 200), ("bypass", "ok", 200)]
    assert records[0]["cost_usd"] > 0 and records[0]["target"] == "openai/gpt-4o"
    assert all(r["cost_usd"] == 0 and r.get("target") is None for r in records[1:3])
    ledger = await db.fetchall("SELECT outcome, cost_nano FROM spend_ledger ORDER BY created_at")
    assert [(row["outcome"], row["cost_nano"] == 0) for row in ledger] == [
        ("ok", False), ("cache_hit", True), ("cache_hit", True), ("ok", False)]
    assert (await verify_chain(db, AUDIT_KEY)).ok
