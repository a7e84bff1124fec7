"""Load shedding: past ``server.max_in_flight`` API requests a replica answers 503 with Retry-After at once, in the
endpoint's own error shape, and a streamed answer holds its place until its last byte."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from deployments.providers.proxy import ProviderProxy
from fake_providers.server import FakeProviderServer
from serve_app.http.api import create_api
from serve_app.pipeline.gateway import Gateway
from tests.unit._gateway_helpers import MASTER_KEY, InProcessBackend, serve_http
from tollgate_core.config import ProviderKind, parse_gateway_config

AUTH = {"authorization": f"Bearer {MASTER_KEY}"}
LIMIT = 2


@pytest.fixture
def url(fake: FakeProviderServer) -> Iterator[str]:
    httpx.post(f"{fake.base_url}/_fake/reset")
    target = {"provider": "openai", "api_base": f"{fake.base_url}/v1", "api_key_env": "UNIT_OPENAI_KEY"}
    httpx.post(f"{fake.base_url}/_fake/faults", json=[
        {"match": {"model": "stuck"}, "fault": "hang"},
        {"match": {"model": "paced"}, "fault": "slow_stream", "delay": 0.3},
    ])
    config = parse_gateway_config({
        "server": {"max_in_flight": LIMIT},
        "models": {name: {"targets": [{**target, "model": name}]} for name in ("stuck", "paced", "quick")},
    })
    gateway = Gateway(config, {ProviderKind.OPENAI: InProcessBackend(ProviderProxy(config, {ProviderKind.OPENAI}))},
                      MASTER_KEY)
    with serve_http(create_api(gateway)) as base:
        yield base


def chat(model: str, **fields: object) -> dict[str, object]:
    return {"model": model, "messages": [{"role": "user", "content": "hello"}], **fields}


async def wait_until_upstream_sees(fake: FakeProviderServer, count: int) -> None:
    async with httpx.AsyncClient() as admin:
        for _ in range(200):
            if len((await admin.get(f"{fake.base_url}/_fake/requests")).json()) >= count:
                return
            await asyncio.sleep(0.02)
    raise AssertionError(f"the fake never saw {count} requests")


async def test_past_the_limit_requests_get_503_with_retry_after_in_their_apis_shape(
        url: str, fake: FakeProviderServer) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        # Upstream never answers; the requests' deadline ends them after 3 s.
        stuck = [asyncio.create_task(client.post("/v1/chat/completions", json=chat("stuck"),
                                                 headers={**AUTH, "x-tollgate-deadline-ms": "3000"}))
                 for _ in range(LIMIT)]
        await wait_until_upstream_sees(fake, LIMIT)

        refused = await client.post("/v1/chat/completions", headers=AUTH, json=chat("quick"))
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["error"]["code"] == "overloaded"

        anthropic = await client.post("/v1/messages", headers={"x-api-key": MASTER_KEY}, json={
            "model": "quick", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]})
        assert anthropic.status_code == 503
        assert anthropic.json()["type"] == "error"
        assert anthropic.json()["error"]["type"] == "overloaded_error"

        # An operator still reaches health and admin routes.
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/admin/routing", headers=AUTH)).status_code == 200

        assert [r.status_code for r in await asyncio.gather(*stuck)] == [504] * LIMIT
        answer = await client.post("/v1/chat/completions", headers=AUTH, json=chat("quick"))
        assert answer.status_code == 200, answer.text


async def test_a_stream_holds_its_place_until_its_last_byte(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        async with client.stream("POST", "/v1/chat/completions", headers=AUTH, json=chat("paced", stream=True)) as one, \
                client.stream("POST", "/v1/chat/completions", headers=AUTH, json=chat("paced", stream=True)) as two:
            assert one.status_code == two.status_code == 200
            third = await client.post("/v1/chat/completions", headers=AUTH, json=chat("quick"))
            assert third.status_code == 503
            [await r.aread() for r in (one, two)]
        after = await client.post("/v1/chat/completions", headers=AUTH, json=chat("quick"))
        assert after.status_code == 200, after.text
