"""Malformed, oversized and unexpected input to every endpoint gets a 4xx in the endpoint's own error shape: never a
5xx, never an answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from deployments.providers.proxy import ProviderProxy
from fake_providers.server import FakeProviderServer
from serve_app.http.api import create_api
from serve_app.pipeline.gateway import Gateway
from tests.unit._gateway_helpers import InProcessBackend
from tollgate_core.config import ProviderKind, parse_gateway_config

KEY = "unit-master"
LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def http(fake: FakeProviderServer) -> Iterator[TestClient]:
    target = {"provider": "openai", "api_base": f"{fake.base_url}/v1", "api_key_env": "UNIT_OPENAI_KEY"}
    config = parse_gateway_config({"server": {"max_request_bytes": LIMIT}, "models": {
        "m": {"targets": [{**target, "model": "gpt-4o"}]},
        "e": {"type": "embedding", "targets": [{**target, "model": "text-embedding-3-small"}]}}})
    gateway = Gateway(config, {ProviderKind.OPENAI: InProcessBackend(ProviderProxy(config, {ProviderKind.OPENAI}))},
                      KEY)
    with TestClient(create_api(gateway), raise_server_exceptions=False) as client:
        yield client


def valid(path: str, **extra: Any) -> dict[str, Any]:
    """A body the endpoint answers, to spoil one field at a time."""
    return {
        "/v1/chat/completions": {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        "/v1/messages": {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]},
        "/v1/responses": {"model": "m", "input": "hi"},
        "/v1/completions": {"model": "m", "prompt": "hi"},
        "/v1/embeddings": {"model": "e", "input": "hi"},
    }[path] | extra


PATHS = ["/v1/chat/completions", "/v1/messages", "/v1/responses", "/v1/completions", "/v1/embeddings"]
RAW = {
    "not-json": b"{model: m",
    "not-an-object": b"[1, 2, 3]",
    "not-utf8": b'{"model": "m\xff"}',
    "deep-nesting": b'{"model": "m", "x": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",  # within the size limit
    "oversized": b'{"model": "m", "pad": "' + b"x" * (LIMIT + 10) + b'"}',
    "nan": b'{"model": "m", "temperature": NaN, "messages": [], "input": "x", "prompt": "x"}',
}


def error_of(path: str, response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    if path == "/v1/messages":
        assert body["type"] == "error" and set(body["error"]) == {"type", "message"}
    else:
        assert set(body["error"]) == {"message", "type", "param", "code"}
    return dict(body["error"])


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", sorted(RAW))
def test_a_malformed_body_is_a_4xx_in_the_endpoints_shape(http: TestClient, path: str, case: str) -> None:
    response = http.post(path, content=RAW[case], headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == (413 if case == "oversized" else 400), response.text[:300]
    assert error_of(path, response)["message"]


SPOILED = {
    "huge-max-tokens": {"max_tokens": 10**12, "max_output_tokens": 10**12},
    "negative-max-tokens": {"max_tokens": -5, "max_output_tokens": -5},
    "string-model": {"model": 42},
}


@pytest.mark.parametrize(("path", "case"), [(p, c) for p in PATHS for c in sorted(SPOILED)
                                             if p != "/v1/embeddings" or c == "string-model"])  # no output tokens
def test_an_unexpected_value_is_a_400(http: TestClient, path: str, case: str) -> None:
    spoiled = dict(SPOILED[case])
    spoiled.pop("max_tokens" if path == "/v1/responses" else "max_output_tokens", None)
    body = valid(path, **spoiled)
    response = http.post(path, content=json.dumps(body), headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 400, response.text[:300]
    error_of(path, response)


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
@pytest.mark.parametrize("message", [{"role": "wizard", "content": "hi"},
                                     {"role": "user", "content": [{"type": "video", "url": "x"}]}],
                         ids=["unknown-role", "unknown-part"])
def test_unknown_roles_and_content_types_are_a_400(http: TestClient, path: str, message: dict[str, Any]) -> None:
    response = http.post(path, json=valid(path, messages=[message]), headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 400, response.text[:300]
    error_of(path, response)


# A field of the wrong type is refused, not coerced ("0.5" is no number, "yes" no boolean) or ignored.
WRONG_TYPES = {
    "/v1/chat/completions": ("top_p", "0.5"),
    "/v1/messages": ("stream", "yes"),
    "/v1/responses": ("store", "no"),
    "/v1/completions": ("echo", 0),
    "/v1/embeddings": ("user", {"id": 1}),
}


@pytest.mark.parametrize("path", PATHS)
def test_a_field_of_the_wrong_type_is_a_400_naming_it(http: TestClient, path: str) -> None:
    field, value = WRONG_TYPES[path]
    response = http.post(path, json=valid(path, **{field: value}), headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 400, response.text[:300]
    error = error_of(path, response)
    assert error.get("param", field) == field and field in error["message"]


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
def test_instructions_alone_or_blank_turns_are_a_400(http: TestClient, path: str) -> None:
    for messages in ([{"role": "system", "content": "Be brief."}], [{"role": "user", "content": " \n"}]):
        response = http.post(path, json=valid(path, messages=messages), headers={"Authorization": f"Bearer {KEY}"})
        assert response.status_code == 400, response.text[:300]
        error_of(path, response)


def test_two_different_keys_in_one_request_are_refused(http: TestClient) -> None:
    response = http.post("/v1/chat/completions", json=valid("/v1/chat/completions"),
                         headers={"Authorization": f"Bearer {KEY}", "api-key": "tg-someone-else"})
    assert response.status_code == 401
    assert error_of("/v1/chat/completions", response)["code"] == "conflicting_api_keys"


def test_a_wrong_method_is_a_405_with_allow(http: TestClient) -> None:
    response = http.get("/v1/chat/completions", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    error_of("/v1/chat/completions", response)
