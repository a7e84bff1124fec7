"""Every error a client can meet, in OpenAI's shape with the right status, never a stack trace."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from fake_providers.server import FakeProviderServer
from tests.integration.conftest import MASTER_KEY, add_fault, recorded

pytestmark = pytest.mark.integration

AUTH = {"Authorization": f"Bearer {MASTER_KEY}"}
HELLO = [{"role": "user", "content": "hello"}]


def _assert_openai_error(response: httpx.Response, status: int, *, param: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"] and "Traceback" not in error["message"]
    if param is not None:
        assert error["param"] == param
    return dict(error)


def _post(gateway_url: str, body: Any, headers: dict[str, str] | None = None, **kw: Any) -> httpx.Response:
    return httpx.post(f"{gateway_url}/v1/chat/completions", json=body, headers=AUTH if headers is None else headers, timeout=30, **kw)


def test_missing_key_is_401(gateway_url: str) -> None:
    error = _assert_openai_error(_post(gateway_url, {"model": "fake-openai", "messages": HELLO}, headers={}), 401)
    assert error["type"] == "authentication_error"


def test_wrong_key_is_401_for_the_sdk_too(base_url: str) -> None:
    client = openai.OpenAI(base_url=base_url, api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.models.list()


def test_azure_style_api_key_header_is_accepted(gateway_url: str, fake: FakeProviderServer) -> None:
    response = _post(gateway_url, {"model": "fake-openai", "messages": HELLO}, headers={"api-key": MASTER_KEY})
    assert response.status_code == 200


def test_malformed_json_is_400(gateway_url: str) -> None:
    response = httpx.post(f"{gateway_url}/v1/chat/completions", content=b"{not json", headers=AUTH)
    error = _assert_openai_error(response, 400)
    assert "JSON" in error["message"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": HELLO}, "model"),
        ({"model": "fake-openai"}, "messages"),
        ({"model": "fake-openai", "messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
        ({"model": "fake-openai", "messages": HELLO, "temperature": 7}, "temperature"),
        ({"model": "fake-openai", "messages": HELLO, "n": 2}, "n"),
        ({"model": "fake-openai", "messages": HELLO, "max_tokens": 0}, "max_tokens"),
    ],
    ids=["no-model", "no-messages", "bad-role", "temperature", "n", "max-tokens"],
)
def test_schema_errors_name_the_field(gateway_url: str, body: dict[str, Any], param: str) -> None:
    error = _assert_openai_error(_post(gateway_url, body), 400, param=param)
    assert error["type"] == "invalid_request_error"


def test_unknown_model_is_404_model_not_found(base_url: str) -> None:
    client = openai.OpenAI(base_url=base_url, api_key=MASTER_KEY, max_retries=0)
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="gpt-17", messages=HELLO)  # type: ignore[arg-type]
    assert info.value.code == "model_not_found"


def test_body_over_the_limit_is_413(gateway_url: str) -> None:
    huge = [{"role": "user", "content": "x" * 70_000}]
    _assert_openai_error(_post(gateway_url, {"model": "fake-openai", "messages": huge}), 413)


def test_target_without_key_is_listed_unavailable_and_refused_with_503(gateway_url: str) -> None:
    models = httpx.get(f"{gateway_url}/v1/models", headers=AUTH).json()["data"]
    no_key = next(m for m in models if m["id"] == "no-key")
    assert no_key["available"] is False
    assert "TG_TEST_UNSET_KEY" in no_key["targets"][0]["unavailable_reason"]
    error = _assert_openai_error(_post(gateway_url, {"model": "no-key", "messages": HELLO}), 503)
    assert "TG_TEST_UNSET_KEY" in error["message"]


def test_models_list_through_the_sdk(base_url: str) -> None:
    client = openai.OpenAI(base_url=base_url, api_key=MASTER_KEY)
    ids = {m.id for m in client.models.list()}
    assert {"llama-3-8b", "fake-openai", "fake-anthropic", "fake-bedrock", "fake-azure"} <= ids


def test_unknown_route_is_openai_shaped_404(gateway_url: str) -> None:
    _assert_openai_error(httpx.get(f"{gateway_url}/v1/nothing-here", headers=AUTH), 404)


def test_health_and_readiness(gateway_url: str) -> None:
    assert httpx.get(f"{gateway_url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{gateway_url}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    assert ready.json()["components"]["local"]["ready"] is True


@pytest.mark.parametrize("fault", ["500", "503", "drop"], ids=["upstream-500", "upstream-503", "dropped-connection"])
def test_upstream_failures_after_retries_are_503(gateway_url: str, fake: FakeProviderServer, fault: str) -> None:
    add_fault(fake, match={"model": "single-flaky"}, fault=fault)
    response = _post(gateway_url, {"model": "single-flaky", "messages": HELLO})
    error = _assert_openai_error(response, 503)
    assert error["code"] == "no_available_target"
    assert int(response.headers["retry-after"]) >= 1
    assert len(recorded(fake)) == 2, "retried once on the only target"


def test_upstream_429_passes_through_with_retry_after(gateway_url: str, fake: FakeProviderServer) -> None:
    add_fault(fake, match={"model": "single-flaky"}, fault="429", retry_after=7)
    response = _post(gateway_url, {"model": "single-flaky", "messages": HELLO})
    _assert_openai_error(response, 429)
    assert response.headers["retry-after"] == "7"


def test_upstream_hang_is_504(gateway_url: str, fake: FakeProviderServer) -> None:
    add_fault(fake, match={"model": "slow-model"}, fault="hang")
    error = _assert_openai_error(_post(gateway_url, {"model": "slow", "messages": HELLO}), 504)
    assert error["type"] == "timeout"


def test_failover_to_the_next_target(base_url: str, fake: FakeProviderServer) -> None:
    add_fault(fake, match={"model": "flaky-primary"}, fault="500")
    client = openai.OpenAI(base_url=base_url, api_key=MASTER_KEY, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(model="failover", messages=HELLO)
    assert raw.headers["x-tollgate-model"] == "anthropic/claude-fake"
    assert raw.headers["x-tollgate-attempts"] == "3"
    assert "hello" in (raw.parse().choices[0].message.content or "")
    paths = [r["path"] for r in recorded(fake)]
    assert paths == ["/v1/chat/completions", "/v1/chat/completions", "/v1/messages"], "two tries, then failover"


def test_stream_failover_before_the_first_byte(base_url: str, fake: FakeProviderServer) -> None:
    add_fault(fake, match={"model": "flaky-primary"}, fault="503")
    client = openai.OpenAI(base_url=base_url, api_key=MASTER_KEY, max_retries=0)
    chunks = list(client.chat.completions.create(model="failover", messages=HELLO, stream=True))
    assert "hello" in "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_stream_cut_mid_way_ends_with_an_error_event_not_done(gateway_url: str, fake: FakeProviderServer) -> None:
    add_fault(fake, match={"model": "single-flaky"}, fault="cut_stream", after_chunks=2)
    body = {"model": "single-flaky", "messages": [{"role": "user", "content": "a b c d e f"}], "stream": True}
    with httpx.stream("POST", f"{gateway_url}/v1/chat/completions", json=body, headers=AUTH, timeout=30) as r:
        assert r.status_code == 200
        events = [line for line in r.iter_lines() if line.startswith("data:")]
    assert events[-1] != "data: [DONE]"
    assert '"error"' in events[-1]
    assert all(e != "data: [DONE]" for e in events)


def test_stream_cut_raises_in_the_sdk(base_url: str, fake: FakeProviderServer) -> None:
    add_fault(fake, match={"model": "single-flaky"}, fault="cut_stream", after_chunks=2)
    client = openai.OpenAI(base_url=base_url, api_key=MASTER_KEY, max_retries=0)
    with pytest.raises(openai.APIError):
        list(client.chat.completions.create(
            model="single-flaky", messages=[{"role": "user", "content": "a b c d e f"}], stream=True
        ))


def test_stream_error_before_first_byte_gets_a_status(gateway_url: str, fake: FakeProviderServer) -> None:
    add_fault(fake, match={"model": "single-flaky"}, fault="500")
    body = {"model": "single-flaky", "messages": HELLO, "stream": True}
    _assert_openai_error(_post(gateway_url, body), 503)


def test_request_id_is_the_clients_or_generated(gateway_url: str, fake: FakeProviderServer) -> None:
    body = {"model": "fake-openai", "messages": HELLO}
    mine = _post(gateway_url, body, headers={**AUTH, "x-request-id": "client-req-42"})
    assert mine.headers.get_list("x-request-id") == ["client-req-42"]
    generated = _post(gateway_url, body)
    assert len(generated.headers.get_list("x-request-id")) == 1 and generated.headers["x-request-id"]
    refused = _post(gateway_url, body, headers={"x-request-id": "client-req-43"})
    assert refused.status_code == 401 and refused.headers["x-request-id"] == "client-req-43"
