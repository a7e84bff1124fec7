"""Each provider kind through the fake provider server: translation both ways, streamed and not."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from fake_providers.server import FakeProviderServer
from tests.integration.conftest import MASTER_KEY, recorded

pytestmark = pytest.mark.integration

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
    },
}

PROVIDER_MODELS = ["fake-openai", "fake-azure", "fake-anthropic", "fake-bedrock"]


@pytest.fixture
def client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key=MASTER_KEY, max_retries=0)


def _last(fake: FakeProviderServer) -> dict[str, Any]:
    requests = recorded(fake)
    assert requests, "the fake provider received no request"
    return requests[-1]


@pytest.mark.parametrize("model", PROVIDER_MODELS)
def test_text_completion(client: openai.OpenAI, fake: FakeProviderServer, model: str) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model=model,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello there"}],
        max_tokens=50,
    )
    completion = raw.parse()
    assert "hello there" in (completion.choices[0].message.content or "")
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens > 0
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    assert raw.headers["x-tollgate-attempts"] == "1"
    assert "x-tollgate-overhead-ms" in raw.headers  # its value: tests/unit/test_gateway_api.py


def test_openai_request_is_forwarded_with_key_and_upstream_model(client: openai.OpenAI, fake: FakeProviderServer) -> None:
    client.chat.completions.create(model="fake-openai", messages=[{"role": "user", "content": "hi"}], user="u-1")
    req = _last(fake)
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["authorization"] == "Bearer sk-test-openai"
    assert req["body"]["model"] == "gpt-4o-fake"
    assert req["body"]["user"] == "u-1"


def test_azure_uses_deployment_url_api_version_and_api_key(client: openai.OpenAI, fake: FakeProviderServer) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="fake-azure", messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.headers["x-tollgate-model"] == "azure/gpt4o-deployment@eastus"
    req = _last(fake)
    assert req["path"] == "/openai/deployments/gpt4o-deployment/chat/completions"
    assert req["query"] == {"api-version": "2024-10-21"}
    assert req["headers"]["api-key"] == "azure-test-key"


def test_anthropic_translation_of_system_and_max_tokens(client: openai.OpenAI, fake: FakeProviderServer) -> None:
    client.chat.completions.create(
        model="fake-anthropic",
        messages=[{"role": "system", "content": "You are terse."}, {"role": "user", "content": "hi"}],
        stop=["END"],
    )
    req = _last(fake)
    assert req["path"] == "/v1/messages"
    assert req["headers"]["anthropic-version"] == "2023-06-01"
    assert req["headers"]["x-api-key"] == "sk-ant-test"
    body = req["body"]
    assert body["system"][0]["text"] == "You are terse."
    assert all(m["role"] != "system" for m in body["messages"])
    assert body["max_tokens"] > 0
    assert body["stop_sequences"] == ["END"]


def test_bedrock_request_is_sigv4_signed(client: openai.OpenAI, fake: FakeProviderServer) -> None:
    client.chat.completions.create(model="fake-bedrock", messages=[{"role": "user", "content": "hi"}], max_tokens=20)
    req = _last(fake)
    assert req["path"].startswith("/model/anthropic.claude-3-5-sonnet-20241022-v2")
    assert req["path"].endswith("/converse")
    assert req["headers"]["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDTOLLGATETEST/")
    assert req["body"]["inferenceConfig"]["maxTokens"] == 20


@pytest.mark.parametrize("model", PROVIDER_MODELS)
def test_tool_call_round_trip(client: openai.OpenAI, fake: FakeProviderServer, model: str) -> None:
    messages: list[Any] = [{"role": "user", "content": "weather in Paris"}]
    first = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"query": "weather in Paris"}

    messages += [
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21C"},
    ]
    second = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL])
    assert "sunny, 21C" in (second.choices[0].message.content or "")
    assert second.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("model", PROVIDER_MODELS)
def test_streamed_text_with_usage(client: openai.OpenAI, fake: FakeProviderServer, model: str) -> None:
    chunks = list(client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "one two three"}], stream=True,
        stream_options={"include_usage": True},
    ))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "one two three" in text
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage is not None
    assert usage.completion_tokens == len(text.split())


@pytest.mark.parametrize("model", PROVIDER_MODELS)
def test_streamed_tool_call_deltas(client: openai.OpenAI, fake: FakeProviderServer, model: str) -> None:
    chunks = list(client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "weather in Oslo"}], tools=[WEATHER_TOOL], stream=True,
    ))
    deltas = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert len(deltas) >= 2, "arguments arrive in fragments"
    assert deltas[0].id and deltas[0].function.name == "get_weather"
    arguments = "".join(d.function.arguments or "" for d in deltas)
    assert json.loads(arguments) == {"query": "weather in Oslo"}
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["tool_calls"]


@pytest.mark.parametrize("model", ["fake-openai", "fake-anthropic", "fake-bedrock"])
def test_max_tokens_gives_length(client: openai.OpenAI, fake: FakeProviderServer, model: str) -> None:
    completion = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "a b c d e f g h"}], max_tokens=3
    )
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None and completion.usage.completion_tokens == 3


def test_anthropic_prompt_cache_tokens_are_reported(client: openai.OpenAI, fake: FakeProviderServer) -> None:
    # Over the 1,024-token minimum a provider caches (the fake counts words).
    system = [{"type": "text", "text": "Policy handbook. " * 600, "cache_control": {"type": "ephemeral"}}]
    messages: Any = [{"role": "system", "content": system}, {"role": "user", "content": "hi"}]
    first = client.chat.completions.create(model="fake-anthropic", messages=messages)
    second = client.chat.completions.create(model="fake-anthropic", messages=messages)
    assert first.usage is not None and second.usage is not None
    assert first.usage.prompt_tokens_details.cache_write_tokens > 0  # type: ignore[union-attr]
    assert second.usage.prompt_tokens_details.cached_tokens > 0  # type: ignore[union-attr]
    assert second.usage.prompt_tokens == first.usage.prompt_tokens


async def test_async_client_against_provider(base_url: str, fake: FakeProviderServer) -> None:
    client = openai.AsyncOpenAI(base_url=base_url, api_key=MASTER_KEY)
    completion = await client.chat.completions.create(
        model="fake-anthropic", messages=[{"role": "user", "content": "async hello"}]
    )
    assert "async hello" in (completion.choices[0].message.content or "")
    await client.close()
