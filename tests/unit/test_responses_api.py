"""``/v1/responses`` with the official ``openai`` SDK as the client, bridged to chat-only targets."""

from __future__ import annotations

import json
from collections.abc import Iterator

import openai
import pytest
from starlette.testclient import TestClient

from fake_providers.server import FakeProviderServer
from tests.unit._gateway_helpers import MASTER_KEY, gateway_over_fakes, provider_credentials, recorded_requests

KEY = MASTER_KEY
WEATHER = {"type": "function", "name": "get_weather", "description": "The weather in a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


@pytest.fixture
def http(fake: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    provider_credentials(monkeypatch)
    openai_t = {"provider": "openai", "model": "gpt-x", "api_base": f"{fake.base_url}/v1", "api_key_env": "UNIT_OPENAI_KEY"}
    claude_t = {"provider": "anthropic", "model": "claude-x", "api_base": fake.base_url,
                "api_key_env": "UNIT_ANTHROPIC_KEY"}
    with gateway_over_fakes(fake, {"gpt": {"targets": [openai_t]}, "claude": {"targets": [claude_t]}}) as test_client:
        yield test_client


@pytest.fixture
def client(http: TestClient) -> openai.OpenAI:
    return openai.OpenAI(base_url="http://testserver/v1", api_key=KEY, http_client=http, max_retries=0)


def upstream_bodies(fake: FakeProviderServer) -> list[dict[str, object]]:
    return [r["body"] for r in recorded_requests(fake)]


@pytest.mark.parametrize("model", ["gpt", "claude"])
def test_a_plain_response_has_output_text_and_usage(client: openai.OpenAI, model: str) -> None:
    response = client.responses.create(model=model, input="hello through the bridge", instructions="Be brief.")
    assert response.id.startswith("resp_") and response.object == "response" and response.status == "completed"
    assert response.output_text.endswith("hello through the bridge")
    assert response.output[0].type == "message" and response.output[0].content[0].type == "output_text"
    assert response.usage.input_tokens > 0 and response.usage.output_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens


def test_instructions_and_items_reach_the_target_as_chat_messages(client: openai.OpenAI,
                                                                 fake: FakeProviderServer) -> None:
    client.responses.create(model="gpt", instructions="Answer in French.", max_output_tokens=64, input=[
        {"role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
        {"role": "assistant", "content": [{"type": "output_text", "text": "Bonjour"}]},
        {"role": "user", "content": "How are you?"},
    ])
    body = upstream_bodies(fake)[-1]
    assert body["messages"] == [
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
        {"role": "assistant", "content": "Bonjour"},
        {"role": "user", "content": "How are you?"},
    ]
    assert body["max_tokens"] == 64


def test_a_streamed_response_sends_the_responses_events(client: openai.OpenAI) -> None:
    stream = client.responses.create(model="gpt", input="one two three four", stream=True)
    events = list(stream)
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"] and kinds[-1] == "response.completed"
    assert "response.output_item.added" in kinds and "response.output_text.done" in kinds
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas.endswith("one two three four")
    assert events[-1].response.output_text == deltas
    assert events[-1].response.usage.output_tokens > 0
    assert [e.sequence_number for e in events] == list(range(len(events)))


@pytest.mark.parametrize("model", ["gpt", "claude"])
def test_a_function_tool_call_and_its_output(client: openai.OpenAI, model: str) -> None:
    first = client.responses.create(model=model, input="weather in Paris", tools=[WEATHER],
                                    tool_choice={"type": "function", "name": "get_weather"})
    [call] = [item for item in first.output if item.type == "function_call"]
    assert call.name == "get_weather" and isinstance(json.loads(call.arguments), dict) and call.call_id

    second = client.responses.create(model=model, previous_response_id=first.id, tools=[WEATHER], input=[
        {"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 21 C"}])
    assert second.output_text == "Tool said: sunny, 21 C"


def test_a_streamed_function_call_sends_argument_deltas(client: openai.OpenAI) -> None:
    events = list(client.responses.create(model="gpt", input="weather in Oslo", tools=[WEATHER], stream=True))
    kinds = [e.type for e in events]
    assert "response.function_call_arguments.delta" in kinds and "response.function_call_arguments.done" in kinds
    [call] = [item for item in events[-1].response.output if item.type == "function_call"]
    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    assert call.arguments == done.arguments and isinstance(json.loads(call.arguments), dict)


def test_previous_response_id_continues_the_stored_conversation(client: openai.OpenAI,
                                                               fake: FakeProviderServer) -> None:
    first = client.responses.create(model="gpt", input="my name is Ada", instructions="Be brief.")
    client.responses.create(model="gpt", input="what is my name?", previous_response_id=first.id)
    body = upstream_bodies(fake)[-1]
    assert body["messages"] == [
        {"role": "user", "content": "my name is Ada"},
        {"role": "assistant", "content": first.output_text},
        {"role": "user", "content": "what is my name?"},
    ]  # the first request's instructions are not carried over


def test_a_stored_response_can_be_read_and_deleted(client: openai.OpenAI) -> None:
    created = client.responses.create(model="gpt", input="keep this")
    fetched = client.responses.retrieve(created.id)
    assert (fetched.id, fetched.output_text) == (created.id, created.output_text)
    client.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(created.id)


def test_store_false_keeps_nothing(client: openai.OpenAI) -> None:
    created = client.responses.create(model="gpt", input="forget this", store=False)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError) as missing:
        client.responses.create(model="gpt", input="and?", previous_response_id=created.id)
    assert missing.value.code == "previous_response_not_found"


def test_built_in_tools_are_left_out_for_a_chat_target(client: openai.OpenAI, fake: FakeProviderServer) -> None:
    client.responses.create(model="gpt", input="hi", tool_choice="auto", tools=[
        {"type": "web_search"}, WEATHER, {"type": "namespace", "name": "agents", "tools": []}])
    body = upstream_bodies(fake)[-1]
    assert [t["function"]["name"] for t in body["tools"]] == ["get_weather"] and body["tool_choice"] == "auto"
    client.responses.create(model="gpt", input="hi", tool_choice="auto", tools=[{"type": "web_search"}])
    assert "tools" not in upstream_bodies(fake)[-1] and "tool_choice" not in upstream_bodies(fake)[-1]


def test_a_json_schema_format_becomes_response_format(client: openai.OpenAI, fake: FakeProviderServer) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"],
              "additionalProperties": False}
    client.responses.create(model="gpt", input="answer as JSON",
                            text={"format": {"type": "json_schema", "name": "answer", "schema": schema, "strict": True}})
    assert upstream_bodies(fake)[-1]["response_format"] == {
        "type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}}


@pytest.mark.parametrize(("body", "param"), [
    ({"model": "gpt"}, "input"),
    ({"model": "gpt", "input": []}, "input"),
    ({"model": "gpt", "input": "hi", "tools": [{"name": "x"}]}, "tools[0].type"),
    ({"model": "gpt", "input": [{"type": "file_search_call"}]}, "input[0].type"),
    ({"model": "gpt", "input": "hi", "text": {"format": {"type": "xml"}}}, "text.format.type"),
])
def test_bad_input_is_a_400_naming_the_field(http: TestClient, body: dict[str, object], param: str) -> None:
    response = http.post("/v1/responses", headers={"Authorization": f"Bearer {KEY}"}, json=body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param and response.json()["error"]["type"] == "invalid_request_error"


def test_an_unknown_model_and_a_bad_key_are_typed_errors(client: openai.OpenAI, http: TestClient) -> None:
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="no-such-model", input="hi")
    bad = openai.OpenAI(base_url="http://testserver/v1", api_key="sk-wrong", http_client=http, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.responses.create(model="gpt", input="hi")
