"""Prompt-cache reads and writes charged at their prices, and the savings reported, to the token and the cent."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from deployments.providers.proxy import ProviderProxy
from fake_providers.server import FakeProviderServer
from serve_app.governance.costing import actual_cost_nano, cache_saving_nano
from serve_app.governance.enforcer import Governance
from serve_app.http.api import create_api
from serve_app.pipeline.gateway import Bookkeeping, Gateway
from tests.unit._gateway_helpers import InProcessBackend
from tests.unit.governance.conftest import Clock
from tollgate_core.config import Prices, parse_gateway_config
from tollgate_core.store import Database

MASTER = {"Authorization": "Bearer unit-master"}
SYSTEM = " ".join(f"rule{i}" for i in range(10_000))
# $3 per 1M input tokens, $15 output: Anthropic's published cache prices follow (0.30 read, 3.75 write).
CLAUDE_PRICES = {"input": 3.0, "output": 15.0}


def test_cache_prices_default_to_each_providers_published_shares() -> None:
    anthropic = Prices(input=3.0, output=15.0).for_provider("anthropic")
    assert (anthropic.cached_input, anthropic.cache_write, anthropic.cache_write_1h) == pytest.approx((0.3, 3.75, 6.0))
    openai = Prices(input=2.5, output=10.0).for_provider("openai")
    assert (openai.cached_input, openai.cache_write) == pytest.approx((1.25, 2.5))
    assert Prices(input=1.0, cache_read=0.05).for_provider("bedrock").cached_input == 0.05  # the config's own wins


def test_reads_writes_and_one_hour_writes_are_charged_at_their_prices() -> None:
    prices = Prices(input=3.0, output=15.0).for_provider("anthropic")
    # 10,003 input tokens: 3 uncached, 10,000 written (4,000 of them for an hour); 20 output tokens.
    cost = actual_cost_nano(prices, 10_003, 20, cached=0, cache_write=10_000, write_1h=4_000)
    assert cost == round((3 * 3.0 + 6_000 * 3.75 + 4_000 * 6.0 + 20 * 15.0) * 1000)
    assert cache_saving_nano(prices, 10_003, cache_write=10_000, write_1h=4_000) == round(
        (6_000 * (3.0 - 3.75) + 4_000 * (3.0 - 6.0)) * 1000)
    assert cache_saving_nano(prices, 10_003, cached=10_000) == round(10_000 * (3.0 - 0.3) * 1000)


@asynccontextmanager
async def governed_key(db: Database, clock: Clock, models: dict[str, Any],
                       **key: Any) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """The gateway in process with governance on ``db``, and the auth header of a new key of team acme/ml."""
    config = parse_gateway_config({"models": models})
    kinds = config.provider_kinds()
    backend = InProcessBackend(ProviderProxy(config, kinds))
    gateway = Gateway(config, dict.fromkeys(kinds, backend), "unit-master",
                      books=Bookkeeping(governance=Governance(db, config, clock=clock)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_api(gateway)),
                                 base_url="http://gateway") as api:
        await api.post("/admin/orgs", headers=MASTER, json={"name": "acme"})
        await api.post("/admin/teams", headers=MASTER, json={"org": "acme", "name": "ml"})
        created = (await api.post("/admin/keys", headers=MASTER, json={"team": "acme/ml", "name": "svc", **key})).json()
        yield api, {"Authorization": f"Bearer {created['key']}"}


async def test_the_ledger_and_the_report_agree_with_the_fakes_usage(
        fake: FakeProviderServer, db: Database, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNIT_ANTHROPIC_KEY", "sk-ant-unit")
    httpx.post(f"{fake.base_url}/_fake/reset")
    models = {"claude": {"targets": [{"provider": "anthropic", "model": "claude-sonnet-x", "api_base": fake.base_url,
                                      "api_key_env": "UNIT_ANTHROPIC_KEY", "prices": CLAUDE_PRICES}]}}
    async with governed_key(db, clock, models) as (api, auth):
        usages = []
        for i in range(10):
            body = {"model": "claude", "max_tokens": 30, "messages": [
                {"role": "system", "content": SYSTEM}, {"role": "user", "content": f"question {i}"}]}
            response = await api.post("/v1/chat/completions", json=body, headers=auth)
            assert response.status_code == 200, response.text
            usages.append(response.json()["usage"])
        report = (await api.get("/admin/spend?by=model&window=day", headers=MASTER)).json()["data"]

    upstream = [r["body"] for r in httpx.get(f"{fake.base_url}/_fake/requests").json()]
    assert all(json.dumps(b["system"]).count("cache_control") == 1 for b in upstream)
    rows = await db.fetchall("SELECT * FROM spend_ledger ORDER BY created_at, request_id")
    prices = Prices(**CLAUDE_PRICES).for_provider("anthropic")
    expected_cost = expected_saved = 0
    for usage, row in zip(usages, sorted(rows, key=lambda r: r["cached_tokens"]), strict=True):
        details = usage["prompt_tokens_details"]
        assert (row["prompt_tokens"], row["cached_tokens"], row["cache_write_tokens"], row["completion_tokens"]) == (
            usage["prompt_tokens"], details["cached_tokens"], details["cache_write_tokens"],
            usage["completion_tokens"])
        expected_cost += actual_cost_nano(prices, usage["prompt_tokens"], usage["completion_tokens"],
                                          details["cached_tokens"], details["cache_write_tokens"])
        expected_saved += cache_saving_nano(prices, usage["prompt_tokens"], details["cached_tokens"],
                                            details["cache_write_tokens"])
    assert [u["prompt_tokens_details"]["cached_tokens"] for u in usages] == [0] + [10_000] * 9
    assert usages[0]["prompt_tokens_details"]["cache_write_tokens"] == 10_000
    [line] = report
    assert (line["cached_tokens"], line["cache_write_tokens"]) == (90_000, 10_000)
    assert line["spend_usd"] == pytest.approx(expected_cost / 1e9, abs=1e-9)
    assert line["saved_usd"] == pytest.approx(expected_saved / 1e9, abs=1e-9)
    # Ten requests: the first writes 10,000 tokens at 1.25x, nine read them at 0.1x.
    uncached_input = 10 * 10_002 * 3.0 / 1e6
    assert line["saved_usd"] == pytest.approx(uncached_input - (10 * 2 * 3.0 + 10_000 * 3.75 + 90_000 * 0.3) / 1e6)
    assert line["saved_usd"] / uncached_input > 0.75


async def test_a_bad_prompt_cache_header_reserves_nothing(fake: FakeProviderServer, db: Database,
                                                          clock: Clock) -> None:
    models = {"m": {"targets": [{"provider": "openai", "model": "x", "api_base": f"{fake.base_url}/v1",
                                 "api_key_env": "UNIT_OPENAI_KEY", "prices": {"input": 1.0, "output": 1.0}}]}}
    async with governed_key(db, clock, models, budgets={"daily": {"hard": 5.0}}) as (api, auth):
        response = await api.post("/v1/chat/completions", json={"model": "m", "messages": [
            {"role": "user", "content": "hi"}]}, headers={**auth, "x-tollgate-prompt-cache": "yes"})
    assert response.status_code == 400
    assert await db.fetchall("SELECT * FROM reservations") == []
    assert await db.fetchall("SELECT * FROM spend_ledger") == []
