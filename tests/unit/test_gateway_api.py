"""The ingress's HTTP API without Ray: Gateway + ProviderProxy in process, against the fake providers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from deployments.providers.proxy import ProviderProxy
from deployments.router.board import Outcome
from deployments.router.failover import classify
from fake_providers.server import FakeProviderServer
from serve_app.http.api import create_api
from serve_app.pipeline.auth import resolve_master_key
from serve_app.pipeline.gateway import Gateway
from tests.unit._gateway_helpers import InProcessBackend
from tollgate_core.config import GatewayConfig, ProviderKind, parse_gateway_config
from tollgate_core.errors import ConfigError, TollgateError, UpstreamStatusError, UpstreamTimeoutError

KEY = "unit-master"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def client(fake: FakeProviderServer) -> Iterator[TestClient]:
    httpx.post(f"{fake.base_url}/_fake/reset")
    target = {"provider": "openai", "api_base": f"{fake.base_url}/v1", "api_key_env": "UNIT_OPENAI_KEY"}
    config = parse_gateway_config({
        "server": {"max_request_bytes": 2048},
        "models": {
            "primary": {"targets": [{**target, "model": "p1"}]},
            "chain": {"targets": [{**target, "model": "c1"}, {**target, "model": "c2"}], "policy": "priority"},
        },
    })
    backend = InProcessBackend(ProviderProxy(config, {ProviderKind.OPENAI}))
    gateway = Gateway(config, {ProviderKind.OPENAI: backend}, KEY)
    with TestClient(create_api(gateway)) as test_client:
        yield test_client


def _fault(fake: FakeProviderServer, **rule: Any) -> None:
    httpx.post(f"{fake.base_url}/_fake/faults", json=[rule]).raise_for_status()


def test_completion_has_gateway_headers(client: TestClient) -> None:
    response = client.post("/v1/chat/completions", headers={**AUTH, "x-request-id": "abc"},
                           json={"model": "primary", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "abc"
    assert response.headers["x-tollgate-model"] == "openai/p1"
    assert response.json()["choices"][0]["message"]["content"].endswith("hi")


def test_overhead_excludes_the_upstreams_time(client: TestClient, fake: FakeProviderServer) -> None:
    # The upstream holds its answer 2 s; the gateway's own share of the request is what the header reports.
    _fault(fake, match={"model": "p1"}, fault="slow_first_token", delay=2.0)
    response = client.post("/v1/chat/completions", headers=AUTH,
                           json={"model": "primary", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 200
    overhead_ms = float(response.headers["x-tollgate-overhead-ms"])
    assert 0 < overhead_ms < 2000


def test_failover_skips_a_failing_target(client: TestClient, fake: FakeProviderServer) -> None:
    _fault(fake, match={"model": "c1"}, fault="503")
    response = client.post("/v1/chat/completions", headers=AUTH,
                           json={"model": "chain", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 200
    assert response.headers["x-tollgate-model"] == "openai/c2"
    assert response.headers["x-tollgate-attempts"] == "3", "two tries on c1 (retry with backoff), then c2"


def test_client_errors_are_not_failed_over(client: TestClient, fake: FakeProviderServer) -> None:
    # The fake rejects an Azure call without api-version with 400; here: a 400 from a bad request body
    # forwarded as is. A 400 on the first target must not be retried on the second.
    response = client.post("/v1/chat/completions", headers=AUTH,
                           json={"model": "chain", "messages": [{"role": "user", "content": "hi"}], "n": 3})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "n"
    assert json.loads(httpx.get(f"{fake.base_url}/_fake/requests").text) == []


def test_stream_usage_is_dropped_unless_asked(client: TestClient) -> None:
    body = {"model": "primary", "messages": [{"role": "user", "content": "a b"}], "stream": True}
    plain = client.post("/v1/chat/completions", headers=AUTH, json=body).text
    with_usage = client.post("/v1/chat/completions", headers=AUTH,
                             json={**body, "stream_options": {"include_usage": True}}).text
    assert plain.rstrip().endswith("data: [DONE]")
    assert '"usage":{' not in plain
    assert '"usage":{' in with_usage


def test_body_limit_is_413(client: TestClient) -> None:
    body = {"model": "primary", "messages": [{"role": "user", "content": "x" * 4000}]}
    response = client.post("/v1/chat/completions", headers=AUTH, json=body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


def test_non_bearer_authorization_is_401(client: TestClient) -> None:
    response = client.get("/v1/models", headers={"Authorization": "Basic x"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_api_key"


class _BrokenBackend(InProcessBackend):
    async def complete(self, model: str, index: int, request: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("secret internals")


def test_unexpected_exception_is_500_without_internals() -> None:
    config = parse_gateway_config(
        {"models": {"m": {"targets": [{"provider": "openai", "model": "x", "api_key_env": "UNIT_OPENAI_KEY"}]}}}
    )
    backend = _BrokenBackend(ProviderProxy(config, {ProviderKind.OPENAI}))
    app = create_api(Gateway(config, {ProviderKind.OPENAI: backend}, KEY))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        response = test_client.post("/v1/chat/completions", headers=AUTH,
                                    json={"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 500
    assert "secret internals" not in response.text
    assert response.json()["error"]["type"] == "api_error"


@pytest.mark.parametrize(
    ("err", "outcome"),
    [
        (UpstreamStatusError("x", upstream_status=500), Outcome.ERROR),
        (UpstreamStatusError("x", upstream_status=429), Outcome.RATE_LIMITED),
        (UpstreamStatusError("x", upstream_status=400), Outcome.CLIENT_ERROR),
        (UpstreamTimeoutError("x"), Outcome.TIMEOUT),
        (TollgateError("x"), Outcome.CLIENT_ERROR),
    ],
    ids=["500", "429", "400", "timeout", "internal"],
)
def test_classify(err: TollgateError, outcome: Outcome) -> None:
    assert classify(err) is outcome


def test_generated_master_key_is_created_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TG_UNIT_MK", raising=False)
    monkeypatch.delenv("TOLLGATE_DATA_DIR", raising=False)
    config = GatewayConfig.model_validate({
        "server": {"data_dir": str(tmp_path)},
        "auth": {"master_key_env": "TG_UNIT_MK", "generate_master_key": True},
        "models": {"m": {"targets": [{"provider": "openai", "model": "x", "api_key_env": "K"}]}},
    })
    first = resolve_master_key(config, announce=False)
    assert first.startswith("tg-master-") and len(first) > 30
    assert resolve_master_key(config) == first
    assert (tmp_path / "master_key").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("TG_UNIT_MK", "from-env")
    assert resolve_master_key(config) == "from-env"


def test_master_key_required_without_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TG_UNIT_MK", raising=False)
    config = GatewayConfig.model_validate({
        "profile": "prod", "auth": {"master_key_env": "TG_UNIT_MK"},
        "models": {"m": {"targets": [{"provider": "openai", "model": "x", "api_key_env": "K"}]}},
    })
    with pytest.raises(ConfigError, match="TG_UNIT_MK is not set"):
        resolve_master_key(config)


@pytest.fixture
def continuing_client(fake: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("UNIT_ANTHROPIC_KEY", "sk-ant-unit")
    httpx.post(f"{fake.base_url}/_fake/reset")
    openai_t = {"provider": "openai", "model": "cut-me", "api_base": f"{fake.base_url}/v1",
                "api_key_env": "UNIT_OPENAI_KEY"}
    claude_t = {"provider": "anthropic", "model": "claude-cont", "api_base": fake.base_url,
                "api_key_env": "UNIT_ANTHROPIC_KEY"}
    config = parse_gateway_config({"models": {"m": {"targets": [openai_t, claude_t], "policy": "priority"}}})
    proxy = ProviderProxy(config, {ProviderKind.OPENAI, ProviderKind.ANTHROPIC})
    backends = {ProviderKind.OPENAI: InProcessBackend(proxy), ProviderKind.ANTHROPIC: InProcessBackend(proxy)}
    with TestClient(create_api(Gateway(config, backends, KEY))) as test_client:
        yield test_client


def _events(text: str) -> list[str]:
    return [line[len("data: "):] for line in text.splitlines() if line.startswith("data: ")]


def test_stream_cut_without_opt_in_ends_with_an_error(continuing_client: TestClient, fake: FakeProviderServer) -> None:
    _fault(fake, match={"model": "cut-me"}, fault="cut_stream", after_chunks=3)
    body = {"model": "m", "messages": [{"role": "user", "content": "one two three four five six"}], "stream": True}
    events = _events(continuing_client.post("/v1/chat/completions", headers=AUTH, json=body).text)
    assert '"error"' in events[-1] and "[DONE]" not in events


def test_opt_in_continuation_finishes_on_a_prefill_target(
    continuing_client: TestClient, fake: FakeProviderServer
) -> None:
    _fault(fake, match={"model": "cut-me"}, fault="cut_stream", after_chunks=3)
    body = {"model": "m", "messages": [{"role": "user", "content": "one two three four five six"}], "stream": True}
    response = continuing_client.post(
        "/v1/chat/completions", headers={**AUTH, "x-tollgate-stream-continuation": "on"}, json=body
    )
    events = _events(response.text)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    markers = [c for c in chunks if "tollgate_continuation" in c]
    assert len(markers) == 1
    assert markers[0]["tollgate_continuation"]["from"] == "openai/cut-me"
    assert markers[0]["tollgate_continuation"]["to"] == "anthropic/claude-cont"
    assert len({c["id"] for c in chunks}) == 1, "one stream id throughout"
    roles = [c["choices"][0]["delta"].get("role") for c in chunks if c["choices"]]
    assert roles.count("assistant") == 1
    # The continuation target got the partial answer as a trailing assistant message (the prefill).
    anthropic_req = [r for r in httpx.get(f"{fake.base_url}/_fake/requests").json() if r["path"] == "/v1/messages"]
    assert anthropic_req, "the prefill target was asked"
    last = anthropic_req[-1]["body"]["messages"][-1]
    assert last["role"] == "assistant"
    prefill = "".join(b.get("text", "") for b in last["content"])
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert prefill and text.startswith(prefill)


def test_a_target_may_wait_longer_for_its_first_token_than_the_routing_default(fake: FakeProviderServer) -> None:
    httpx.post(f"{fake.base_url}/_fake/reset")
    target = {"provider": "openai", "api_base": f"{fake.base_url}/v1", "api_key_env": "UNIT_OPENAI_KEY"}
    config = parse_gateway_config({
        "routing": {"first_token_timeout_s": 1.0, "retry": {"attempts_per_target": 1}},
        "models": {
            "default-wait": {"targets": [{**target, "model": "slow-a"}, {**target, "model": "quick"}],
                             "policy": "priority"},
            "patient": {"targets": [{**target, "model": "slow-b", "first_token_timeout_s": 10},
                                    {**target, "model": "quick"}], "policy": "priority"},
        },
    })
    backend = InProcessBackend(ProviderProxy(config, {ProviderKind.OPENAI}))
    _fault(fake, match={"model": "slow-a"}, fault="slow_first_token", delay=2.5)
    _fault(fake, match={"model": "slow-b"}, fault="slow_first_token", delay=2.5)
    # Wide margins for a loaded machine: the quick target has 1 s for its first token, the slow ones answer
    # after 2.5 s, and the patient target may wait 10 s.
    body = {"messages": [{"role": "user", "content": "hi"}], "stream": True}
    with TestClient(create_api(Gateway(config, {ProviderKind.OPENAI: backend}, KEY))) as client:
        assert client.post("/v1/chat/completions", headers=AUTH, json={**body, "model": "default-wait"}
                           ).headers["x-tollgate-model"] == "openai/quick"
        assert client.post("/v1/chat/completions", headers=AUTH, json={**body, "model": "patient"}
                           ).headers["x-tollgate-model"] == "openai/slow-b"
