"""``response_format: json_schema`` on Anthropic and Bedrock targets: a forced tool whose call comes back as JSON text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from deployments.providers.schema_tool import SchemaCallStream, schema_as_tool, unwrap_schema_call
from fake_providers.server import FakeProviderServer
from tests.unit._gateway_helpers import MASTER_KEY, gateway_over_fakes, provider_credentials, recorded_requests

KEY = MASTER_KEY
SCHEMA = {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}
FORMAT = {"type": "json_schema", "json_schema": {"name": "lookup", "schema": SCHEMA, "strict": True}}
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


@pytest.fixture
def client(fake: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[openai.OpenAI]:
    provider_credentials(monkeypatch)
    models = {
        "claude": {"targets": [{"provider": "anthropic", "model": "claude-x", "api_base": fake.base_url,
                                "api_key_env": "UNIT_ANTHROPIC_KEY"}]},
        "bedrock": {"targets": [{"provider": "bedrock", "model": "anthropic.claude-3-haiku-20240307-v1:0",
                                 "region": "us-east-1", "api_base": fake.base_url}]},
    }
    with gateway_over_fakes(fake, models) as http:
        yield openai.OpenAI(base_url="http://testserver/v1", api_key=KEY, http_client=http, max_retries=0)


def last_upstream(fake: FakeProviderServer) -> dict[str, Any]:
    return dict(recorded_requests(fake)[-1]["body"])


@pytest.mark.parametrize("model", ["claude", "bedrock"])
def test_a_json_schema_answer_is_the_json_text(client: openai.OpenAI, fake: FakeProviderServer, model: str) -> None:
    reply = client.chat.completions.create(model=model, response_format=FORMAT,  # type: ignore[arg-type]
                                           messages=[{"role": "user", "content": "weather in Rome"}])
    choice = reply.choices[0]
    assert json.loads(choice.message.content or "") == {"query": "weather in Rome"}
    assert choice.finish_reason == "stop" and not choice.message.tool_calls
    sent = last_upstream(fake)
    if model == "claude":
        assert sent["tools"] == [{"name": "lookup", "input_schema": SCHEMA,
                                  "description": "Give the answer as this JSON object."}]
        assert sent["tool_choice"] == {"type": "tool", "name": "lookup"}
    else:
        assert sent["toolConfig"]["toolChoice"] == {"tool": {"name": "lookup"}}
        assert sent["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"] == {"json": SCHEMA}


@pytest.mark.parametrize("model", ["claude", "bedrock"])
def test_a_streamed_json_schema_answer_arrives_as_content(client: openai.OpenAI, model: str) -> None:
    chunks = list(client.chat.completions.create(model=model, response_format=FORMAT, stream=True,  # type: ignore
                                                 messages=[{"role": "user", "content": "weather in Oslo today"}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert json.loads(text) == {"query": "weather in Oslo today"}
    assert not any(c.choices and c.choices[0].delta.tool_calls for c in chunks)
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]


def test_with_client_tools_one_of_them_or_the_schema_is_required() -> None:
    request = {"model": "m", "messages": [], "tools": [WEATHER], "response_format": FORMAT}
    rewritten, name = schema_as_tool(request)
    assert name == "lookup" and rewritten["tool_choice"] == "required" and "response_format" not in rewritten
    assert [t["function"]["name"] for t in rewritten["tools"]] == ["get_weather", "lookup"]


def test_a_schema_name_that_is_taken_or_invalid_becomes_json_response() -> None:
    taken = {"type": "function", "function": {"name": "lookup"}}
    assert schema_as_tool({"tools": [taken], "response_format": FORMAT})[1] == "json_response"
    odd = {"type": "json_schema", "json_schema": {"name": "a name with spaces", "schema": SCHEMA}}
    assert schema_as_tool({"response_format": odd})[1] == "json_response"
    assert schema_as_tool({"response_format": {"type": "json_object"}}) == ({"response_format": {"type": "json_object"}},
                                                                           None)


def test_a_client_tool_call_beside_the_schema_stays_a_tool_call() -> None:
    completion = {"choices": [{"finish_reason": "tool_calls", "message": {"content": None, "tool_calls": [
        {"id": "1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]}}]}
    assert unwrap_schema_call(completion, "lookup")["choices"][0]["finish_reason"] == "tool_calls"
    stream = SchemaCallStream("lookup")
    first = stream.feed({"choices": [{"delta": {"tool_calls": [
        {"index": 0, "id": "1", "function": {"name": "get_weather", "arguments": ""}}]}, "finish_reason": None}]})
    assert first["choices"][0]["delta"]["tool_calls"][0]["index"] == 0
    last = stream.feed({"choices": [{"delta": {}, "finish_reason": "tool_calls"}]})
    assert last["choices"][0]["finish_reason"] == "tool_calls"
