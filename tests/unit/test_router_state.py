"""A gateway replica starts with the routing state the others built: no call to a target inside its cooldown."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from deployments.providers.proxy import ProviderProxy
from deployments.router.board import BoardSnapshot, Observation, TargetBoard
from fake_providers.server import FakeProviderServer
from serve_app.http.api import create_api
from serve_app.pipeline.gateway import Deployments, Gateway
from tests.unit._gateway_helpers import InProcessBackend
from tollgate_core.config import ProviderKind, parse_gateway_config


class SharedRouter:
    """The Router deployment's logic in process: every replica's observations meet on one board."""

    def __init__(self, config: Any) -> None:
        self.board = TargetBoard(config.routing.circuit)

    async def exchange(self, observations: list[Observation]) -> BoardSnapshot:
        for obs in observations:
            self.board.record(obs)
        return self.board.snapshot()

    async def reset(self) -> None:
        self.board.reset()


def calls_to(fake: FakeProviderServer, model: str) -> int:
    return sum(1 for r in httpx.get(f"{fake.base_url}/_fake/requests").json() if r["body"].get("model") == model)


@pytest.fixture
def cooling(fake: FakeProviderServer) -> FakeProviderServer:
    """The fake with target ``first`` answering 429 with Retry-After: 30."""
    httpx.post(f"{fake.base_url}/_fake/reset")
    httpx.post(f"{fake.base_url}/_fake/faults",
               json=[{"match": {"model": "first"}, "fault": "429", "retry_after": 30}]).raise_for_status()
    return fake


async def test_a_replica_that_starts_during_a_cooldown_does_not_call_the_target(cooling: FakeProviderServer) -> None:
    fake = cooling
    target = {"provider": "openai", "api_base": f"{fake.base_url}/v1", "api_key_env": "UNIT_OPENAI_KEY"}
    config = parse_gateway_config({
        "routing": {"sync_interval_s": 0.05, "retry": {"attempts_per_target": 1}},
        "models": {"pair": {"policy": "priority", "targets": [{**target, "model": "first"},
                                                              {**target, "model": "second"}]}}})
    router = SharedRouter(config)

    def replica() -> Gateway:
        backend = InProcessBackend(ProviderProxy(config, {ProviderKind.OPENAI}))
        return Gateway(config, {ProviderKind.OPENAI: backend}, "unit-master", Deployments(router=router))

    async def ask(gateway: Gateway) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_api(gateway)),
                                     base_url="http://gateway") as client:
            return await client.post("/v1/chat/completions", headers={"Authorization": "Bearer unit-master"},
                                     json={"model": "pair", "messages": [{"role": "user", "content": "hi"}]})

    first_replica = replica()
    await first_replica.start()
    answered = await ask(first_replica)
    assert answered.status_code == 200 and answered.headers["x-tollgate-model"] == "openai/second"
    assert calls_to(fake, "first") == 1
    for _ in range(200):  # until the first replica's observation has reached the shared router
        if router.board.snapshot() != TargetBoard(config.routing.circuit).snapshot():
            break
        await asyncio.sleep(0.01)

    late_replica = replica()
    await late_replica.start()
    answered = await ask(late_replica)
    assert answered.status_code == 200 and answered.headers["x-tollgate-model"] == "openai/second"
    assert calls_to(fake, "first") == 1  # the late replica knew about the cooldown before its first request


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNIT_OPENAI_KEY", "sk-unit")
