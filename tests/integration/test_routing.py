"""Routing and resilience scenarios, each its own test, with faults injected in the fake providers.

Every test asserts on what the client got and on what the fake received.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import httpx
import openai
import pytest

from fake_providers.server import FakeProviderServer
from tests.integration.conftest import MASTER_KEY, add_fault, recorded

pytestmark = pytest.mark.integration

AUTH = {"Authorization": f"Bearer {MASTER_KEY}"}
HELLO = [{"role": "user", "content": "hello"}]


def _models_called(fake: FakeProviderServer) -> list[str]:
    return [str(r["body"].get("model", r["path"])) for r in recorded(fake)]


def _post(gateway_url: str, model: str, **extra: Any) -> httpx.Response:
    headers = {**AUTH, **extra.pop("headers", {})}
    return httpx.post(f"{gateway_url}/v1/chat/completions", headers=headers,
                      json={"model": model, "messages": HELLO, **extra}, timeout=60)


def test_429_with_short_retry_after_is_waited_out_on_the_same_target(gateway_url: str, fake: FakeProviderServer) -> None:
    add_fault(fake, match={"model": "ra-1"}, fault="429", retry_after=1, times=1)
    response = _post(gateway_url, "retry-after")
    assert response.status_code == 200, response.text
    assert response.headers["x-tollgate-model"] == "openai/ra-1"
    assert response.headers["x-tollgate-attempts"] == "2"
    assert _models_called(fake) == ["ra-1", "ra-1"]


def test_429_without_retry_after_cools_down_and_fails_over_at_once(gateway_url: str, fake: FakeProviderServer) -> None:
    add_fault(fake, match={"model": "ra-1"}, fault="429", retry_after=None)
    first = _post(gateway_url, "retry-after")
    assert first.status_code == 200, first.text
    assert first.headers["x-tollgate-model"] == "openai/ra-2"
    assert _models_called(fake) == ["ra-1", "ra-2"]
    second = _post(gateway_url, "retry-after")
    assert second.headers["x-tollgate-model"] == "openai/ra-2"
    assert _models_called(fake) == ["ra-1", "ra-2", "ra-2"], "ra-1 is cooling down: not called again"


def test_500_then_success_on_the_same_target(gateway_url: str, fake: FakeProviderServer) -> None:
    add_fault(fake, match={"model": "single-flaky"}, fault="500", times=1)
    response = _post(gateway_url, "single-flaky")
    assert response.status_code == 200, response.text
    assert response.headers["x-tollgate-attempts"] == "2"
    assert _models_called(fake) == ["single-flaky", "single-flaky"]


def test_all_regions_failing_falls_back_to_the_comparable_model(base_url: str, fake: FakeProviderServer) -> None:
    add_fault(fake, match={"model": "r-east"}, fault="503")
    add_fault(fake, match={"model": "r-west"}, fault="500")
    client = openai.OpenAI(base_url=base_url, api_key=MASTER_KEY, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(model="regions", messages=HELLO)  # type: ignore[arg-type]
    assert raw.headers["x-tollgate-model"] == "anthropic/claude-backup"
    assert raw.headers["x-tollgate-attempts"] == "5"
    assert "hello" in (raw.parse().choices[0].message.content or "")
    assert _models_called(fake) == ["r-east", "r-east", "r-west", "r-west", "claude-backup"]


def test_timeout_before_the_first_token_fails_over(base_url: str, fake: FakeProviderServer) -> None:
    add_fault(fake, match={"model": "ft-slow"}, fault="slow_first_token", delay=5)
    client = openai.OpenAI(base_url=base_url, api_key=MASTER_KEY, max_retries=0)
    stream = client.chat.completions.with_raw_response.create(
        model="first-token", messages=HELLO, stream=True  # type: ignore[arg-type]
    )
    assert stream.headers["x-tollgate-model"] == "openai/ft-ok"
    text = "".join(c.choices[0].delta.content or "" for c in stream.parse() if c.choices)
    assert "hello" in text
    assert _models_called(fake) == ["ft-slow", "ft-slow", "ft-ok"]


def test_connection_refused_fails_over(gateway_url: str, fake: FakeProviderServer) -> None:
    response = _post(gateway_url, "refused")
    assert response.status_code == 200, response.text
    assert response.headers["x-tollgate-model"] == "openai/somebody"
    assert response.headers["x-tollgate-attempts"] == "3"
    assert _models_called(fake) == ["somebody"]


def test_a_slow_target_gets_less_traffic_than_a_fast_one(gateway_url: str, fake: FakeProviderServer) -> None:
    add_fault(fake, match={"model": "bal-slow"}, fault="slow_first_token", delay=0.15)
    for _ in range(100):
        assert _post(gateway_url, "balance").status_code == 200
    calls = Counter(_models_called(fake))
    assert calls["bal-slow"] + calls["bal-fast"] == 100
    assert calls["bal-fast"] > 4 * calls["bal-slow"], calls


def test_circuit_opens_on_a_failing_target_and_closes_after_it_recovers(
    gateway_url: str, fake: FakeProviderServer
) -> None:
    add_fault(fake, match={"model": "brk-1"}, fault="500")
    for _ in range(2):  # 2 tries each on brk-1: 4 consecutive failures ≥ 3 opens the circuit
        response = _post(gateway_url, "breaker")
        assert response.headers["x-tollgate-model"] == "openai/brk-2"
    before = Counter(_models_called(fake))
    assert before["brk-1"] >= 3
    for _ in range(5):
        response = _post(gateway_url, "breaker")
        assert response.headers["x-tollgate-model"] == "openai/brk-2"
        assert response.headers["x-tollgate-attempts"] == "1"
    assert Counter(_models_called(fake))["brk-1"] == before["brk-1"], "no traffic while the circuit is open"

    state = httpx.get(f"{gateway_url}/admin/routing", headers=AUTH).json()["targets"]
    assert state["breaker#0"]["availability"] == "circuit_open"

    httpx.delete(f"{fake.base_url}/_fake/faults")  # the target recovers
    # open_s in the test config is 1.5 s; after it a request is sent to brk-1 as a probe. Wait for that state
    # change by asking, not by sleeping a fixed time: until then brk-2 answers.
    deadline = time.monotonic() + 15
    while True:
        probe = _post(gateway_url, "breaker")
        assert probe.status_code == 200
        if probe.headers["x-tollgate-model"] == "openai/brk-1" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert probe.headers["x-tollgate-model"] == "openai/brk-1", "the circuit half-opens after open_s"
    after = _post(gateway_url, "breaker")
    assert after.headers["x-tollgate-model"] == "openai/brk-1", "traffic returns once the probe succeeded"


def test_all_targets_down_gives_503_with_retry_after(gateway_url: str, fake: FakeProviderServer) -> None:
    add_fault(fake, match={"model": "down-1"}, fault="500")
    add_fault(fake, match={"model": "down-2"}, fault="503")
    response = _post(gateway_url, "down")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "no_available_target"
    assert int(response.headers["retry-after"]) >= 1
    assert Counter(_models_called(fake)) == Counter({"down-1": 2, "down-2": 2})


def test_every_target_rate_limited_gives_429_with_the_earliest_retry_after(
    gateway_url: str, fake: FakeProviderServer
) -> None:
    add_fault(fake, match={"model": "ra-1"}, fault="429", retry_after=20)
    add_fault(fake, match={"model": "ra-2"}, fault="429", retry_after=9)
    response = _post(gateway_url, "retry-after")
    assert response.status_code == 429
    assert 8 <= int(response.headers["retry-after"]) <= 9
    assert _models_called(fake) == ["ra-1", "ra-2"]
    again = _post(gateway_url, "retry-after")
    assert again.status_code == 429, "both cooling down: refused without calling them"
    assert len(recorded(fake)) == 2


def test_client_deadline_header_bounds_a_hanging_upstream(gateway_url: str, fake: FakeProviderServer) -> None:
    add_fault(fake, match={"model": "down-1"}, fault="hang")
    add_fault(fake, match={"model": "down-2"}, fault="hang")
    started = time.monotonic()
    response = _post(gateway_url, "down", headers={"x-tollgate-deadline-ms": "1000"})
    assert response.status_code == 504
    # The test config's own deadline is 20 s: an answer within 10 s is the header's 1 s deadline at work, with a
    # margin of nine seconds for a loaded machine.
    assert time.monotonic() - started < 10, "the client's deadline, not the config's 20 s, ended the request"


def test_bad_deadline_header_is_400(gateway_url: str) -> None:
    response = _post(gateway_url, "fake-openai", headers={"x-tollgate-deadline-ms": "soon"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "x-tollgate-deadline-ms"


def test_client_error_is_not_retried_or_failed_over(gateway_url: str, fake: FakeProviderServer) -> None:
    add_fault(fake, match={"model": "r-east"}, fault="context_length")
    response = _post(gateway_url, "regions")
    assert response.status_code == 400
    assert _models_called(fake) == ["r-east"]


def test_context_overflow_moves_to_the_larger_context_model(gateway_url: str, fake: FakeProviderServer) -> None:
    add_fault(fake, match={"model": "ctx-small"}, fault="context_length")
    response = _post(gateway_url, "ctx")
    assert response.status_code == 200, response.text
    assert response.headers["x-tollgate-model"] == "anthropic/claude-fake"
    assert _models_called(fake) == ["ctx-small", "claude-fake"]


def test_opt_in_continuation_on_the_local_tier(gateway_url: str, fake: FakeProviderServer) -> None:
    add_fault(fake, match={"model": "cut-local"}, fault="cut_stream", after_chunks=3)
    body = {"model": "continue-local", "messages": [{"role": "user", "content": "Name the planets of the solar system"}],
            "stream": True, "max_tokens": 24}
    headers = {**AUTH, "x-tollgate-stream-continuation": "on"}
    with httpx.stream("POST", f"{gateway_url}/v1/chat/completions", json=body, headers=headers, timeout=60) as r:
        assert r.status_code == 200
        events = [line[len("data: "):] for line in r.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    markers = [e for e in events if "tollgate_continuation" in e]
    assert len(markers) == 1 and '"to":"local/smollm2"' in markers[0]
    after = events[events.index(markers[0]) + 1:-1]
    assert any('"content":"' in e and '"content":""' not in e for e in after), "the local model wrote more text"
