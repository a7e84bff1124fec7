"""``/v1/embeddings`` with the official ``openai`` SDK: proxied to OpenAI, Azure and Bedrock fakes, and local."""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import openai
import pytest
from starlette.testclient import TestClient

from fake_providers.embeddings import fake_vector
from fake_providers.server import FakeProviderServer
from tests.unit._gateway_helpers import MASTER_KEY, gateway_over_fakes, provider_credentials, recorded_requests
from tollgate_core.config import parse_gateway_config
from tollgate_core.errors import ConfigError

KEY = MASTER_KEY
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def http(fake: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    provider_credentials(monkeypatch)
    openai_t = {"provider": "openai", "api_base": f"{fake.base_url}/v1", "api_key_env": "UNIT_OPENAI_KEY"}
    azure_t = {"provider": "azure", "model": "embed-deploy", "api_base": fake.base_url, "api_version": "2024-10-21",
               "api_key_env": "UNIT_OPENAI_KEY"}
    bedrock_t = {"provider": "bedrock", "region": "us-east-1", "api_base": fake.base_url}
    models = {
        "small": {"type": "embedding", "targets": [{**openai_t, "model": "text-embedding-3-small"}]},
        "pair": {"type": "embedding", "policy": "priority", "targets": [
            {**openai_t, "model": "first-embed"}, {**openai_t, "model": "second-embed"}]},
        "azure-embed": {"type": "embedding", "targets": [azure_t]},
        "titan": {"type": "embedding", "targets": [{**bedrock_t, "model": "amazon.titan-embed-text-v2:0"}]},
        "cohere": {"type": "embedding", "targets": [{**bedrock_t, "model": "cohere.embed-english-v3"}]},
        "minilm": {"type": "embedding", "targets": [{"provider": "local", "model": "all-MiniLM-L6-v2"}]},
        "gpt": {"targets": [{**openai_t, "model": "gpt-x"}]},
    }
    with gateway_over_fakes(fake, models) as test_client:
        yield test_client


@pytest.fixture
def client(http: TestClient) -> openai.OpenAI:
    return openai.OpenAI(base_url="http://testserver/v1", api_key=KEY, http_client=http, max_retries=0)


def upstream(fake: FakeProviderServer) -> list[dict[str, Any]]:
    return recorded_requests(fake)


def close(a: list[float], b: list[float]) -> bool:
    return bool(np.allclose(np.asarray(a), np.asarray(b), atol=1e-6))


@pytest.mark.parametrize("model", ["small", "azure-embed", "titan"])
def test_a_proxied_model_embeds_each_input(client: openai.OpenAI, model: str) -> None:
    texts = ["the first text", "a second, longer text to embed"]
    result = client.embeddings.create(model=model, input=texts, encoding_format="float")
    assert result.model == model and [d.index for d in result.data] == [0, 1]
    for text, item in zip(texts, result.data, strict=True):
        assert close(item.embedding, fake_vector(text))
    assert result.usage.prompt_tokens == 3 + 6 and result.usage.total_tokens == 9  # the fake counts words


def test_the_sdks_default_base64_encoding_decodes_to_the_same_vector(client: openai.OpenAI, http: TestClient) -> None:
    assert close(client.embeddings.create(model="small", input="hello vectors").data[0].embedding,
                 fake_vector("hello vectors"))
    raw = http.post("/v1/embeddings", headers=AUTH, json={"model": "small", "input": "hello vectors",
                                                          "encoding_format": "base64"}).json()
    packed = base64.b64decode(raw["data"][0]["embedding"])
    assert close(list(struct.unpack(f"<{len(packed) // 4}f", packed)), fake_vector("hello vectors"))


def test_each_provider_gets_its_own_wire_format(client: openai.OpenAI, fake: FakeProviderServer) -> None:
    client.embeddings.create(model="small", input=["a b"], dimensions=8, encoding_format="base64")
    client.embeddings.create(model="azure-embed", input="c")
    client.embeddings.create(model="titan", input=["d", "e f"])
    client.embeddings.create(model="cohere", input=["g", "h"])
    sent = upstream(fake)
    titan = sorted(sent[2:4], key=lambda r: r["body"]["inputText"])  # Titan's calls run concurrently
    assert [(r["path"], r["body"]) for r in [*sent[:2], *titan, sent[4]]] == [
        ("/v1/embeddings", {"input": ["a b"], "dimensions": 8, "encoding_format": "float",
                            "model": "text-embedding-3-small"}),
        ("/openai/deployments/embed-deploy/embeddings", {"input": ["c"], "encoding_format": "float"}),
        ("/model/amazon.titan-embed-text-v2:0/invoke", {"inputText": "d"}),
        ("/model/amazon.titan-embed-text-v2:0/invoke", {"inputText": "e f"}),
        ("/model/cohere.embed-english-v3/invoke", {"texts": ["g", "h"], "input_type": "search_document",
                                                   "embedding_types": ["float"]}),
    ]
    assert len(sent) == 5
    assert sent[1]["query"] == {"api-version": "2024-10-21"}
    assert titan[0]["headers"]["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDUNIT/")


def test_cohere_reports_no_tokens_so_the_gateway_counts_them(client: openai.OpenAI) -> None:
    result = client.embeddings.create(model="cohere", input=["one two three"], encoding_format="float")
    assert close(result.data[0].embedding, fake_vector("one two three"))
    assert result.usage.prompt_tokens == 3  # cl100k: "one", " two", " three"


def test_the_local_model_is_the_caches_minilm(client: openai.OpenAI) -> None:
    result = client.embeddings.create(model="minilm", encoding_format="float", input=[
        "How do I reset my password?", "I forgot my password, how can I change it?", "The weather in Lisbon"])
    vectors = np.asarray([d.embedding for d in result.data])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3
    assert result.usage.prompt_tokens > 10


def test_a_failing_target_fails_over(http: TestClient, fake: FakeProviderServer) -> None:
    httpx.post(f"{fake.base_url}/_fake/faults", json=[{"match": {"model": "first-embed"}, "fault": "500"}])
    response = http.post("/v1/embeddings", headers=AUTH, json={"model": "pair", "input": "x",
                                                               "encoding_format": "float"})
    assert response.status_code == 200, response.text
    assert response.headers["x-tollgate-model"] == "openai/second-embed"
    assert int(response.headers["x-tollgate-attempts"]) >= 2


def test_models_list_says_which_are_embedding_models(client: openai.OpenAI, http: TestClient) -> None:
    types = {m["id"]: m["type"] for m in http.get("/v1/models", headers=AUTH).json()["data"]}
    assert types["minilm"] == types["small"] == "embedding" and types["gpt"] == "chat"


@pytest.mark.parametrize(("body", "status", "param"), [
    ({"model": "gpt", "input": "x"}, 400, "model"),
    ({"model": "no-such", "input": "x"}, 404, "model"),
    ({"model": "small", "input": [[1, 2, 3]]}, 400, "input"),
    ({"model": "small", "input": []}, 400, "input"),
    ({"model": "small", "input": ["ok", ""]}, 400, "input"),
    ({"model": "small", "input": "x", "encoding_format": "int8"}, 400, "encoding_format"),
    ({"model": "minilm", "input": "x", "dimensions": 64}, 400, "dimensions"),
])
def test_bad_embedding_requests_are_openai_errors(http: TestClient, body: dict[str, Any], status: int,
                                                  param: str) -> None:
    response = http.post("/v1/embeddings", headers=AUTH, json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["param"] == param


def test_an_embedding_model_is_refused_on_the_chat_endpoint(http: TestClient) -> None:
    response = http.post("/v1/chat/completions", headers=AUTH,
                         json={"model": "small", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 400 and "embedding model" in response.json()["error"]["message"]


@pytest.mark.parametrize(("target", "problem"), [
    ({"provider": "anthropic", "model": "claude", "api_key_env": "K"}, "serves no embeddings"),
    ({"provider": "local", "model": "bge-small"}, "all-MiniLM-L6-v2"),
])
def test_the_config_refuses_targets_that_cannot_embed(target: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        parse_gateway_config({"models": {"e": {"type": "embedding", "targets": [target]}}})


def test_cohere_inputs_go_in_batches_of_96_and_come_back_in_order(client: openai.OpenAI,
                                                                 fake: FakeProviderServer) -> None:
    texts = [f"text {i}" for i in range(200)]
    result = client.embeddings.create(model="cohere", input=texts, encoding_format="float")
    # The batches are sent concurrently, so they may arrive in any order.
    batches = sorted((r["body"]["texts"] for r in upstream(fake)), key=lambda batch: texts.index(batch[0]))
    assert batches == [texts[:96], texts[96:192], texts[192:]]
    assert all(close(item.embedding, fake_vector(text)) for item, text in zip(result.data, texts, strict=True))


def test_a_failing_titan_call_fails_the_request_as_the_providers_error(http: TestClient,
                                                                       fake: FakeProviderServer) -> None:
    httpx.post(f"{fake.base_url}/_fake/faults",
               json=[{"match": {"model": "amazon.titan-embed-text-v2:0"}, "fault": "429"}])
    response = http.post("/v1/embeddings", headers=AUTH, json={"model": "titan", "input": ["a", "b", "c"]})
    assert response.status_code == 429, response.text
