"""``/v1/messages`` with the official ``anthropic`` SDK as the client, answered by OpenAI-wire and Anthropic targets."""

from __future__ import annotations

import json
from collections.abc import Iterator

import anthropic
import pytest
from starlette.testclient import TestClient

from fake_providers.server import FakeProviderServer
from tests.unit._gateway_helpers import MASTER_KEY, gateway_over_fakes, provider_credentials, recorded_requests

KEY = MASTER_KEY
WEATHER = {"name": "get_weather", "description": "The weather in a city",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


@pytest.fixture
def http(fake: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    provider_credentials(monkeypatch)
    openai_t = {"provider": "openai", "model": "gpt-x", "api_base": f"{fake.base_url}/v1", "api_key_env": "UNIT_OPENAI_KEY"}
    claude_t = {"provider": "anthropic", "model": "claude-x", "api_base": fake.base_url,
                "api_key_env": "UNIT_ANTHROPIC_KEY"}
    with gateway_over_fakes(fake, {"gpt": {"targets": [openai_t]}, "claude": {"targets": [claude_t]}}) as test_client:
        yield test_client


@pytest.fixture
def client(http: TestClient) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url="http://testserver", api_key=KEY, http_client=http, max_retries=0)


def last_upstream(fake: FakeProviderServer) -> dict[str, object]:
    return recorded_requests(fake)[-1]


@pytest.mark.parametrize("model", ["gpt", "claude"])
def test_a_message_gets_text_and_usage(client: anthropic.Anthropic, model: str) -> None:
    message = client.messages.create(model=model, max_tokens=100, system="Be brief.",
                                     messages=[{"role": "user", "content": "hello there gateway"}])
    assert message.type == "message" and message.role == "assistant" and message.model == model
    assert message.content[0].type == "text" and message.content[0].text.endswith("hello there gateway")
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0


def test_the_openai_target_gets_the_translated_request(client: anthropic.Anthropic, fake: FakeProviderServer) -> None:
    client.messages.create(model="gpt", max_tokens=77, system="Be brief.", stop_sequences=["END"], extra_body={"temperature": 0.5},
                           metadata={"user_id": "u-9"}, messages=[{"role": "user", "content": "hi"}])
    sent = last_upstream(fake)
    assert sent["path"] == "/v1/chat/completions"
    body = sent["body"]
    assert body["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    assert (body["max_tokens"], body["stop"], body["temperature"], body["user"]) == (77, ["END"], 0.5, "u-9")


@pytest.mark.parametrize("model", ["gpt", "claude"])
def test_a_streamed_message_arrives_as_anthropic_events(client: anthropic.Anthropic, model: str) -> None:
    with client.messages.stream(model=model, max_tokens=100,
                                messages=[{"role": "user", "content": "one two three four five"}]) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert {"content_block_start", "content_block_delta", "content_block_stop", "message_delta"} <= set(kinds)
    assert kinds.count("content_block_start") == kinds.count("content_block_stop") == 1
    assert final.content[0].text.endswith("one two three four five")
    assert final.stop_reason == "end_turn" and final.usage.output_tokens > 0


@pytest.mark.parametrize("model", ["gpt", "claude"])
def test_a_tool_use_block_carries_parsed_input(client: anthropic.Anthropic, model: str) -> None:
    message = client.messages.create(model=model, max_tokens=100, tools=[WEATHER],
                                     tool_choice={"type": "tool", "name": "get_weather"},
                                     messages=[{"role": "user", "content": "weather in Paris"}])
    [block] = [b for b in message.content if b.type == "tool_use"]
    assert block.name == "get_weather" and isinstance(block.input, dict) and block.id
    assert message.stop_reason == "tool_use"

    follow_up = client.messages.create(model=model, max_tokens=100, tools=[WEATHER], messages=[
        {"role": "user", "content": "weather in Paris"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": block.id, "name": block.name,
                                           "input": block.input}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": block.id, "content": "sunny, 21 C"}]},
    ])
    assert follow_up.content[0].text == "Tool said: sunny, 21 C"


def test_a_streamed_tool_call_arrives_as_input_json_deltas(client: anthropic.Anthropic) -> None:
    with client.messages.stream(model="gpt", max_tokens=100, tools=[WEATHER],
                                messages=[{"role": "user", "content": "weather in Oslo"}]) as stream:
        kinds = [(event.type, getattr(getattr(event, "delta", None), "type", None)) for event in stream]
        final = stream.get_final_message()
    assert ("content_block_delta", "input_json_delta") in kinds
    [block] = final.content
    assert block.type == "tool_use" and block.name == "get_weather" and isinstance(block.input, dict)
    assert final.stop_reason == "tool_use"


def test_the_openai_target_gets_tools_and_results_in_its_own_form(client: anthropic.Anthropic,
                                                                  fake: FakeProviderServer) -> None:
    client.messages.create(model="gpt", max_tokens=50, tools=[WEATHER], tool_choice={"type": "any"}, messages=[
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": [{"type": "text", "text": "Checking."},
                                          {"type": "tool_use", "id": "t1", "name": "get_weather",
                                           "input": {"city": "Rome"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "rain"},
                                     {"type": "text", "text": "and tomorrow?"}]},
    ])
    body = last_upstream(fake)["body"]
    assert body["tools"] == [{"type": "function", "function": {
        "name": "get_weather", "parameters": WEATHER["input_schema"], "description": "The weather in a city"}}]
    assert body["tool_choice"] == "required"
    assert body["messages"][1:] == [
        {"role": "assistant", "content": "Checking.", "tool_calls": [
            {"id": "t1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'}}]},
        {"role": "tool", "tool_call_id": "t1", "content": "rain"},
        {"role": "user", "content": [{"type": "text", "text": "and tomorrow?"}]},
    ]


def test_errors_are_typed_anthropic_errors(client: anthropic.Anthropic, http: TestClient) -> None:
    with pytest.raises(anthropic.NotFoundError) as unknown:
        client.messages.create(model="no-such-model", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert unknown.value.body["type"] == "error" and unknown.value.body["error"]["type"] == "not_found_error"

    bad_key = anthropic.Anthropic(base_url="http://testserver", api_key="sk-wrong", http_client=http, max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as denied:
        bad_key.messages.create(model="gpt", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert denied.value.body["error"]["type"] == "authentication_error"

    with pytest.raises(anthropic.BadRequestError) as missing:
        client.messages.create(model="gpt", max_tokens=0, messages=[{"role": "user", "content": "hi"}])
    assert "max_tokens" in missing.value.body["error"]["message"]


@pytest.mark.parametrize(("body", "param"), [
    ({"model": "gpt", "messages": [{"role": "user", "content": "hi"}]}, "max_tokens"),
    ({"model": "gpt", "max_tokens": 5, "messages": []}, "messages"),
    ({"model": "gpt", "max_tokens": 5, "messages": [{"role": "tool", "content": "x"}]}, "messages[0].role"),
    ({"model": "gpt", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "document"}]}]},
     "messages[0].content[0].type"),
    ({"model": "gpt", "max_tokens": 5, "tool_choice": {"type": "sometimes"},
      "messages": [{"role": "user", "content": "hi"}]}, "tool_choice.type"),
])
def test_bad_input_is_a_400_naming_the_field(http: TestClient, body: dict[str, object], param: str) -> None:
    response = http.post("/v1/messages", headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"}, json=body)
    assert response.status_code == 400
    error = response.json()
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    assert error["error"]["message"].startswith(param)


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens"])
@pytest.mark.parametrize("body", [b"{not json", b'{"model": "gpt\xff"}'], ids=["syntax", "not-utf8"])
def test_invalid_json_is_a_400(http: TestClient, path: str, body: bytes) -> None:
    response = http.post(path, headers={"x-api-key": KEY}, content=body)
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_request_error"


def test_bearer_auth_works_too(http: TestClient) -> None:
    response = http.post("/v1/messages", headers={"Authorization": f"Bearer {KEY}"},
                         json={"model": "gpt", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 200 and response.json()["type"] == "message"


def test_count_tokens_counts_the_prompt(client: anthropic.Anthropic) -> None:
    short = client.messages.count_tokens(model="gpt", messages=[{"role": "user", "content": "hi"}])
    long = client.messages.count_tokens(model="gpt", system="You are a careful assistant.", tools=[WEATHER],
                                        messages=[{"role": "user", "content": "hi " * 50}])
    assert 0 < short.input_tokens < long.input_tokens
    assert long.input_tokens - short.input_tokens >= 50
    with pytest.raises(anthropic.NotFoundError):
        client.messages.count_tokens(model="no-such-model", messages=[{"role": "user", "content": "hi"}])


def test_an_images_base64_source_becomes_a_data_url(client: anthropic.Anthropic, fake: FakeProviderServer) -> None:
    client.messages.create(model="gpt", max_tokens=20, messages=[{"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
        {"type": "text", "text": "what is this?"}]}])
    parts = last_upstream(fake)["body"]["messages"][0]["content"]
    assert parts[0] == {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    assert json.dumps(parts[1]) == json.dumps({"type": "text", "text": "what is this?"})
