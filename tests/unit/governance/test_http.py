"""Governance through the HTTP API without Ray: admin routes, virtual keys, budgets, the spend ledger."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from deployments.providers.proxy import ProviderProxy
from fake_providers.server import FakeProviderServer
from serve_app.governance.enforcer import Governance
from serve_app.governance.ledger import Kind
from serve_app.http.api import create_api
from serve_app.http.protocol import ChatCompletionRequest
from serve_app.pipeline.gateway import Bookkeeping, Gateway
from tests.unit._gateway_helpers import InProcessBackend
from tests.unit.governance.conftest import Clock
from tollgate_core.config import ProviderKind, parse_gateway_config
from tollgate_core.store import Database
from tollgate_core.windows import Window

MASTER = {"Authorization": "Bearer unit-master"}
# $1 per 1K tokens: the fake's one-word answers cost measurable amounts.
PRICES = {"input": 1000.0, "output": 1000.0}


@pytest.fixture
def gateway(fake: FakeProviderServer, db: Database, clock: Clock) -> Gateway:
    httpx.post(f"{fake.base_url}/_fake/reset")
    target = {"provider": "openai", "api_base": f"{fake.base_url}/v1", "api_key_env": "UNIT_OPENAI_KEY",
              "prices": PRICES}
    config = parse_gateway_config({"models": {
        "gpt-4o": {"targets": [{**target, "model": "gpt-4o"}]},
        "cheap": {"targets": [{**target, "model": "cheap", "prices": {"input": 0.1, "output": 0.1}}]},
    }})
    backend = InProcessBackend(ProviderProxy(config, {ProviderKind.OPENAI}))
    return Gateway(config, {ProviderKind.OPENAI: backend}, "unit-master",
                   books=Bookkeeping(governance=Governance(db, config, clock=clock)))


@pytest.fixture
async def api(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_api(gateway))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


async def _key(api: httpx.AsyncClient, **key: Any) -> dict[str, Any]:
    if (await api.get("/admin/orgs", headers=MASTER)).json()["data"] == []:
        assert (await api.post("/admin/orgs", headers=MASTER, json={"name": "acme"})).status_code == 201
        assert (await api.post("/admin/teams", headers=MASTER, json={"org": "acme", "name": "ml"})).status_code == 201
    response = await api.post("/admin/keys", headers=MASTER, json={"team": "acme/ml", "name": "svc", **key})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _chat(model: str = "gpt-4o", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "hello there"}], "max_tokens": 20, **extra}


async def test_a_virtual_key_calls_a_model_and_is_charged_its_usage(api: httpx.AsyncClient, db: Database) -> None:
    key = await _key(api)
    response = await api.post("/v1/chat/completions", json=_chat(), headers={
        "Authorization": f"Bearer {key['key']}", "x-request-id": "client-1"})
    assert response.status_code == 200, response.text
    usage = response.json()["usage"]
    rows = await db.fetchall("SELECT * FROM spend_ledger")
    assert len(rows) == 1
    row = rows[0]
    assert (row["key_id"], row["client_request_id"], row["outcome"]) == (key["id"], "client-1", "ok")
    assert (row["prompt_tokens"], row["completion_tokens"]) == (usage["prompt_tokens"], usage["completion_tokens"])
    assert row["cost_nano"] == (usage["prompt_tokens"] + usage["completion_tokens"]) * 1_000_000  # $0.001 a token
    report = (await api.get("/admin/spend?by=key&window=day", headers=MASTER)).json()
    assert report["data"] == [{"key": key["id"], "requests": 1, "prompt_tokens": usage["prompt_tokens"],
                               "completion_tokens": usage["completion_tokens"], "cached_tokens": 0,
                               "cache_write_tokens": 0, "spend_usd": pytest.approx(row["cost_nano"] / 1e9),
                               "saved_usd": 0.0}]


async def test_azure_style_api_key_header_is_accepted(api: httpx.AsyncClient) -> None:
    key = await _key(api)
    response = await api.post("/v1/chat/completions", json=_chat(), headers={"api-key": key["key"]})
    assert response.status_code == 200


async def test_a_streamed_answer_is_charged_once_with_the_providers_usage(api: httpx.AsyncClient,
                                                                        db: Database) -> None:
    key = await _key(api)
    async with api.stream("POST", "/v1/chat/completions", json=_chat(stream=True),
                          headers={"Authorization": f"Bearer {key['key']}"}) as response:
        assert response.status_code == 200
        lines = [line async for line in response.aiter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    assert not any("usage" in json.loads(line[6:]) for line in lines[:-1])  # the client did not ask for it
    rows = await db.fetchall("SELECT completion_tokens, outcome FROM spend_ledger")
    assert len(rows) == 1 and rows[0]["outcome"] == "ok" and rows[0]["completion_tokens"] > 0


async def test_the_budget_refusal_is_openai_shaped_with_retry_after(api: httpx.AsyncClient) -> None:
    key = await _key(api, budgets={"hourly": {"hard": 0.05}})
    auth = {"Authorization": f"Bearer {key['key']}"}
    statuses = []
    for _ in range(20):
        response = await api.post("/v1/chat/completions", json=_chat(), headers=auth)
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    assert statuses[-1] == 429 and statuses.count(200) >= 1
    error = response.json()["error"]
    assert error["type"] == "budget_exceeded" and error["code"] == "key_hourly_budget_exceeded"
    assert "hourly budget of $0.05" in error["message"]
    assert 1 <= int(response.headers["retry-after"]) <= 3600
    shown = (await api.get(f"/admin/keys/{key['id']}", headers=MASTER)).json()
    assert shown["usage"]["hourly"]["limit_usd"] == 0.05
    assert shown["usage"]["hourly"]["spent_usd"] <= 0.05


async def test_revocation_takes_effect_on_the_next_request(api: httpx.AsyncClient) -> None:
    key = await _key(api)
    auth = {"Authorization": f"Bearer {key['key']}"}
    assert (await api.post("/v1/chat/completions", json=_chat(), headers=auth)).status_code == 200
    assert (await api.post(f"/admin/keys/{key['id']}/revoke", headers=MASTER)).status_code == 200
    refused = await api.post("/v1/chat/completions", json=_chat(), headers=auth)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "key_revoked"


async def test_rotation_through_the_api(api: httpx.AsyncClient) -> None:
    key = await _key(api)
    rotated = (await api.post(f"/admin/keys/{key['id']}/rotate", headers=MASTER)).json()
    old = await api.post("/v1/chat/completions", json=_chat(), headers={"Authorization": f"Bearer {key['key']}"})
    new = await api.post("/v1/chat/completions", json=_chat(), headers={"Authorization": f"Bearer {rotated['key']}"})
    assert (old.status_code, new.status_code) == (401, 200)


async def test_allowed_models_limit_calls_and_the_model_list(api: httpx.AsyncClient) -> None:
    key = await _key(api, models=["cheap"])
    auth = {"Authorization": f"Bearer {key['key']}"}
    refused = await api.post("/v1/chat/completions", json=_chat("gpt-4o"), headers=auth)
    assert refused.status_code == 403
    assert refused.json()["error"] | {"message": None} == {
        "type": "permission_error", "code": "model_not_allowed", "param": "model", "message": None}
    assert (await api.post("/v1/chat/completions", json=_chat("cheap"), headers=auth)).status_code == 200
    listed = (await api.get("/v1/models", headers=auth)).json()["data"]
    assert [m["id"] for m in listed] == ["cheap"]


async def test_rate_limit_refusal(api: httpx.AsyncClient) -> None:
    key = await _key(api, limits={"rpm": 2})
    auth = {"Authorization": f"Bearer {key['key']}"}
    codes = [(await api.post("/v1/chat/completions", json=_chat(), headers=auth)).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "param"),
    [
        ("post", "/admin/orgs", {"name": ""}, 400, "name"),
        ("post", "/admin/orgs", {"name": "x", "budgets": {"daily": {"hard": -1}}}, 400, "budgets.daily.hard"),
        ("post", "/admin/orgs", {"name": "x", "colour": "red"}, 400, "colour"),
        ("post", "/admin/teams", {"org": "nope", "name": "x"}, 404, "org"),
        ("post", "/admin/keys", {"team": "nope/x", "name": "k"}, 404, "team"),
        ("post", "/admin/keys/key_missing/revoke", None, 404, None),
    ],
    ids=["empty-name", "negative-budget", "unknown-field", "unknown-org", "unknown-team", "unknown-key"],
)
async def test_bad_admin_input_gets_openai_shaped_errors(api: httpx.AsyncClient, method: str, path: str,
                                                         body: Any, status: int, param: str | None) -> None:
    response = await getattr(api, method)(path, headers=MASTER, **({"json": body} if body is not None else {}))
    assert response.status_code == status
    assert response.json()["error"]["param"] == param


async def test_the_admin_api_needs_the_master_key(api: httpx.AsyncClient) -> None:
    key = await _key(api)
    assert (await api.get("/admin/keys")).status_code == 401
    assert (await api.get("/admin/keys", headers={"Authorization": "Bearer wrong"})).status_code == 401
    forbidden = await api.get("/admin/keys", headers={"Authorization": f"Bearer {key['key']}"})
    assert forbidden.status_code == 403 and forbidden.json()["error"]["type"] == "permission_error"


async def test_a_client_that_leaves_mid_stream_is_charged_for_what_was_produced(
    api: httpx.AsyncClient, gateway: Gateway, db: Database
) -> None:
    key = await _key(api, budgets={"daily": {"hard": 100}})
    principal = await gateway.authenticate(f"Bearer {key['key']}", None)
    request = ChatCompletionRequest.model_validate(_chat(stream=True))
    stream = await gateway.chat_stream(request, time.perf_counter(), time.time() + 30, principal=principal)
    received = ""
    while not received.strip():  # up to the first chunk with text
        event = json.loads((await anext(stream.body))[6:])
        received += event["choices"][0]["delta"].get("content") or ""
    await stream.body.aclose()  # what Starlette does when the client disconnects
    stream.release()
    rows = await db.fetchall("SELECT completion_tokens, prompt_tokens, outcome, cost_nano FROM spend_ledger")
    assert len(rows) == 1
    assert rows[0]["outcome"] == "client_disconnected"
    assert rows[0]["completion_tokens"] >= 1 and rows[0]["cost_nano"] > 0
    used, reserved = await gateway.governance.ledger.counter(  # type: ignore[union-attr]
        f"key:{key['id']}", Kind.USD, Window.DAILY)
    assert (used, reserved) == (rows[0]["cost_nano"], 0)


async def test_a_stream_whose_body_never_ran_is_still_settled(
    api: httpx.AsyncClient, gateway: Gateway, db: Database
) -> None:
    key = await _key(api)
    principal = await gateway.authenticate(f"Bearer {key['key']}", None)
    request = ChatCompletionRequest.model_validate(_chat(stream=True))
    stream = await gateway.chat_stream(request, time.perf_counter(), time.time() + 30, principal=principal)
    stream.release()  # the HTTP layer's finally, when the response was never sent
    await asyncio.sleep(0.05)
    rows = await db.fetchall("SELECT outcome FROM spend_ledger")
    assert [r["outcome"] for r in rows] == ["client_disconnected"]
