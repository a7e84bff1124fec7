"""The fake provider server, over real HTTP: each wire format, streaming, auth and faults."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.eventstream import EventStreamBuffer

from fake_providers.reply import split_words
from fake_providers.server import FakeProviderServer, FaultRule
from fake_providers.wire import encode_event_frame

Json = dict[str, Any]

ACCESS_KEY = "AKIDFAKEPROVIDERS"
SECRET_KEY = "fake-secret-for-tests"
OPENAI_AUTH = {"Authorization": "Bearer sk-test"}
ANTHROPIC_AUTH = {"x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01"}
BEDROCK_MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeProviderServer]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        mp.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        mp.delenv("AWS_SESSION_TOKEN", raising=False)
        fake = FakeProviderServer()
    with fake:
        yield fake


@pytest.fixture
def client(server: FakeProviderServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=5.0) as http:
        http.post("/_fake/reset").raise_for_status()
        yield http


def faults(client: httpx.Client, *rules: Json) -> None:
    client.post("/_fake/faults", json=list(rules)).raise_for_status()


def chat(text: str = "hello there", **extra: Any) -> Json:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], **extra}


def anthropic_body(text: str = "hello there", **extra: Any) -> Json:
    return {"model": "claude-3-5-haiku", "max_tokens": 100, "messages": [{"role": "user", "content": text}], **extra}


def converse_body(text: str = "hello there", **extra: Any) -> Json:
    return {"messages": [{"role": "user", "content": [{"text": text}]}], **extra}


def sse_data(text: str) -> list[str]:
    return [line[len("data: ") :] for line in text.splitlines() if line.startswith("data: ")]


def sse_events(text: str) -> list[tuple[str, Json]]:
    names = [line[len("event: ") :] for line in text.splitlines() if line.startswith("event: ")]
    return list(zip(names, [json.loads(d) for d in sse_data(text)]))


def bedrock_post(
    client: httpx.Client,
    body: Json,
    *,
    stream: bool = False,
    model: str = BEDROCK_MODEL,
    secret: str = SECRET_KEY,
) -> httpx.Response:
    """Sign with botocore exactly as a Bedrock client would, then send with httpx."""
    url = f"{client.base_url}/model/{quote(model, safe='')}/{'converse-stream' if stream else 'converse'}"
    data = json.dumps(body).encode()
    request = AWSRequest(method="POST", url=url, data=data, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(ACCESS_KEY, secret), "bedrock", "us-east-1").add_auth(request)
    return client.post(url, content=data, headers=dict(request.headers.items()))


def decode_frames(raw: bytes) -> list[tuple[str, Json]]:
    buffer = EventStreamBuffer()
    buffer.add_data(raw)
    out = []
    for message in buffer:
        assert message.headers[":message-type"] == "event"
        assert message.headers[":content-type"] == "application/json"
        out.append((message.headers[":event-type"], json.loads(message.payload)))
    return out


# --- OpenAI ---------------------------------------------------------------------------------


def test_openai_completion_echoes_with_usage_and_ratelimit_headers(client: httpx.Client) -> None:
    resp = client.post("/v1/chat/completions", json=chat(), headers=OPENAI_AUTH)
    assert resp.status_code == 200
    assert resp.headers["x-ratelimit-remaining-requests"] == "999"
    assert resp.headers["x-ratelimit-remaining-tokens"] == "999999"
    body = resp.json()
    assert body["object"] == "chat.completion"
    assert body["model"] == "gpt-4o-mini"
    choice = body["choices"][0]
    assert choice["message"] == {
        "role": "assistant",
        "content": "Echo from openai gpt-4o-mini: hello there",
        "refusal": None,
    }
    assert choice["finish_reason"] == "stop"
    assert body["usage"]["prompt_tokens"] == 2
    assert body["usage"]["completion_tokens"] == 6
    assert body["usage"]["total_tokens"] == 8


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic c2s6dGVzdA=="}],
    ids=["missing", "empty", "not-bearer"],
)
def test_openai_requires_bearer_key(client: httpx.Client, headers: dict[str, str]) -> None:
    resp = client.post("/v1/chat/completions", json=chat(), headers=headers)
    assert resp.status_code == 401
    error = resp.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == "invalid_api_key"


def test_openai_stream_one_word_per_chunk_with_usage_chunk(client: httpx.Client) -> None:
    body = chat(stream=True, stream_options={"include_usage": True})
    resp = client.post("/v1/chat/completions", json=body, headers=OPENAI_AUTH)
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert resp.text.endswith("data: [DONE]\n\n")
    data = sse_data(resp.text)
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["completion_tokens"] == 6
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    words = [c["choices"][0]["delta"]["content"] for c in chunks[1:-2]]
    assert words == ["Echo", " from", " openai", " gpt-4o-mini:", " hello", " there"]


def test_openai_stream_without_include_usage_has_no_usage(client: httpx.Client) -> None:
    resp = client.post("/v1/chat/completions", json=chat(stream=True), headers=OPENAI_AUTH)
    chunks = [json.loads(d) for d in sse_data(resp.text)[:-1]]
    assert all("usage" not in c and c["choices"] for c in chunks)


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
def test_openai_token_limit_truncates_with_length(client: httpx.Client, field: str) -> None:
    resp = client.post("/v1/chat/completions", json=chat(**{field: 3}), headers=OPENAI_AUTH)
    choice = resp.json()["choices"][0]
    assert choice["message"]["content"] == "Echo from openai"
    assert choice["finish_reason"] == "length"
    assert resp.json()["usage"]["completion_tokens"] == 3


def test_openai_stop_sequence_cuts_before_stop(client: httpx.Client) -> None:
    resp = client.post("/v1/chat/completions", json=chat(stop=["there", "zzz"]), headers=OPENAI_AUTH)
    choice = resp.json()["choices"][0]
    assert choice["message"]["content"] == "Echo from openai gpt-4o-mini: hello "
    assert choice["finish_reason"] == "stop"


TOOLS = [
    {"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}},
    {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}},
]


def test_openai_tool_call_to_first_tool(client: httpx.Client) -> None:
    resp = client.post("/v1/chat/completions", json=chat("find cats", tools=TOOLS), headers=OPENAI_AUTH)
    choice = resp.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function"
    assert call["function"]["name"] == "search"
    assert json.loads(call["function"]["arguments"]) == {"query": "find cats"}


def test_openai_named_tool_and_tool_choice_none(client: httpx.Client) -> None:
    named = chat(tools=TOOLS, tool_choice={"type": "function", "function": {"name": "lookup"}})
    resp = client.post("/v1/chat/completions", json=named, headers=OPENAI_AUTH)
    assert resp.json()["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "lookup"
    none = chat(tools=TOOLS, tool_choice="none")
    resp = client.post("/v1/chat/completions", json=none, headers=OPENAI_AUTH)
    assert resp.json()["choices"][0]["message"]["content"].startswith("Echo from openai")


def test_openai_stream_tool_call_arguments_in_fragments(client: httpx.Client) -> None:
    body = chat("find cats", tools=TOOLS, stream=True)
    resp = client.post("/v1/chat/completions", json=body, headers=OPENAI_AUTH)
    chunks = [json.loads(d) for d in sse_data(resp.text)[:-1]]
    head = chunks[0]["choices"][0]["delta"]["tool_calls"][0]
    assert head["function"] == {"name": "search", "arguments": ""}
    assert head["id"].startswith("call_")
    fragments = [c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"] for c in chunks[1:-1]]
    assert len(fragments) >= 2
    assert json.loads("".join(fragments)) == {"query": "find cats"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_openai_tool_result_is_reported(client: httpx.Client) -> None:
    messages = [
        {"role": "user", "content": "find cats"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "search", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "three cats"},
    ]
    body = {"model": "gpt-4o", "messages": messages, "tools": TOOLS}
    resp = client.post("/v1/chat/completions", json=body, headers=OPENAI_AUTH)
    choice = resp.json()["choices"][0]
    assert choice["message"]["content"] == "Tool said: three cats"
    assert choice["finish_reason"] == "stop"


def test_openai_models_list(client: httpx.Client) -> None:
    resp = client.get("/v1/models", headers=OPENAI_AUTH)
    assert resp.json()["object"] == "list"
    assert "gpt-4o-mini" in [m["id"] for m in resp.json()["data"]]
    assert client.get("/v1/models").status_code == 401


# --- Azure OpenAI ---------------------------------------------------------------------------

AZURE_PATH = "/openai/deployments/prod-gpt4o/chat/completions"
AZURE_VERSION = {"api-version": "2024-10-21"}


def test_azure_uses_deployment_as_model(client: httpx.Client) -> None:
    resp = client.post(AZURE_PATH, params=AZURE_VERSION, json=chat(), headers={"api-key": "k"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["model"] == "prod-gpt4o"
    assert body["choices"][0]["message"]["content"] == "Echo from azure prod-gpt4o: hello there"
    assert resp.headers["x-ratelimit-remaining-requests"] == "999"


def test_azure_stream(client: httpx.Client) -> None:
    resp = client.post(AZURE_PATH, params=AZURE_VERSION, json=chat(stream=True), headers={"api-key": "k"})
    data = sse_data(resp.text)
    assert data[-1] == "[DONE]"
    text = "".join(json.loads(d)["choices"][0]["delta"].get("content") or "" for d in data[:-1])
    assert text == "Echo from azure prod-gpt4o: hello there"


def test_azure_requires_key_and_api_version(client: httpx.Client) -> None:
    no_key = client.post(AZURE_PATH, params=AZURE_VERSION, json=chat())
    assert no_key.status_code == 401
    assert no_key.json()["error"]["code"] == "401"
    no_version = client.post(AZURE_PATH, json=chat(), headers={"api-key": "k"})
    assert no_version.status_code == 400
    assert set(no_version.json()["error"]) == {"code", "message"}


# --- Anthropic ------------------------------------------------------------------------------


def test_anthropic_message(client: httpx.Client) -> None:
    resp = client.post("/v1/messages", json=anthropic_body(), headers=ANTHROPIC_AUTH)
    body = resp.json()
    assert body["type"] == "message"
    assert body["role"] == "assistant"
    assert body["content"] == [{"type": "text", "text": "Echo from anthropic claude-3-5-haiku: hello there"}]
    assert body["stop_reason"] == "end_turn"
    assert body["stop_sequence"] is None
    assert body["usage"] == {
        "input_tokens": 2,
        "output_tokens": 6,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


@pytest.mark.parametrize(
    ("headers", "status", "error_type"),
    [
        ({"anthropic-version": "2023-06-01"}, 401, "authentication_error"),
        ({"x-api-key": "k"}, 400, "invalid_request_error"),
    ],
    ids=["no-key", "no-version"],
)
def test_anthropic_requires_headers(
    client: httpx.Client, headers: dict[str, str], status: int, error_type: str
) -> None:
    resp = client.post("/v1/messages", json=anthropic_body(), headers=headers)
    assert resp.status_code == status
    assert resp.json()["type"] == "error"
    assert resp.json()["error"]["type"] == error_type


def test_anthropic_requires_max_tokens(client: httpx.Client) -> None:
    body = anthropic_body()
    del body["max_tokens"]
    resp = client.post("/v1/messages", json=body, headers=ANTHROPIC_AUTH)
    assert resp.status_code == 400
    assert resp.json() == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "max_tokens: Field required"},
    }


def test_anthropic_stream_event_sequence(client: httpx.Client) -> None:
    resp = client.post("/v1/messages", json=anthropic_body(stream=True), headers=ANTHROPIC_AUTH)
    events = sse_events(resp.text)
    names = [name for name, _ in events]
    assert names == ["message_start", "content_block_start", "ping"] + ["content_block_delta"] * 6 + [
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert all(data["type"] == name for name, data in events)
    start = events[0][1]["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert start["usage"]["input_tokens"] == 2
    text = "".join(d["delta"]["text"] for n, d in events if n == "content_block_delta")
    assert text == "Echo from anthropic claude-3-5-haiku: hello there"
    delta = events[-2][1]
    assert delta["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert delta["usage"] == {"output_tokens": 6}


def test_anthropic_stream_tool_use_json_fragments(client: httpx.Client) -> None:
    tools = [{"name": "search", "description": "s", "input_schema": {"type": "object"}}]
    body = anthropic_body("find cats", tools=tools, stream=True)
    resp = client.post("/v1/messages", json=body, headers=ANTHROPIC_AUTH)
    events = sse_events(resp.text)
    block = events[1][1]["content_block"]
    assert block["type"] == "tool_use" and block["name"] == "search" and block["input"] == {}
    deltas = [d["delta"] for n, d in events if n == "content_block_delta"]
    assert len(deltas) >= 2 and all(d["type"] == "input_json_delta" for d in deltas)
    assert json.loads("".join(d["partial_json"] for d in deltas)) == {"query": "find cats"}
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


def test_anthropic_tool_result_and_stop_sequence(client: httpx.Client) -> None:
    messages = [
        {"role": "user", "content": "find cats"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "search", "input": {}}]},
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [{"type": "text", "text": "three cats here"}],
                }
            ],
        },
    ]
    tools = [{"name": "search", "input_schema": {"type": "object"}}]
    body = {**anthropic_body(), "messages": messages, "tools": tools, "stop_sequences": ["here"]}
    resp = client.post("/v1/messages", json=body, headers=ANTHROPIC_AUTH).json()
    assert resp["content"] == [{"type": "text", "text": "Tool said: three cats "}]
    assert resp["stop_reason"] == "stop_sequence"
    assert resp["stop_sequence"] == "here"


def test_anthropic_max_tokens_truncates(client: httpx.Client) -> None:
    resp = client.post("/v1/messages", json=anthropic_body(max_tokens=2), headers=ANTHROPIC_AUTH).json()
    assert resp["content"][0]["text"] == "Echo from"
    assert resp["stop_reason"] == "max_tokens"
    assert resp["usage"]["output_tokens"] == 2


LONG = " ".join(f"rule{i}" for i in range(2100))  # over the 2,048-token minimum of Haiku models


def test_anthropic_prompt_cache_writes_then_reads(client: httpx.Client) -> None:
    system = [{"type": "text", "text": LONG, "cache_control": {"type": "ephemeral"}}]
    first_body, second_body = anthropic_body(system=system), anthropic_body("other question", system=system)
    first = client.post("/v1/messages", json=first_body, headers=ANTHROPIC_AUTH).json()["usage"]
    second = client.post("/v1/messages", json=second_body, headers=ANTHROPIC_AUTH).json()["usage"]
    assert first["cache_creation_input_tokens"] == 2100 and first["cache_read_input_tokens"] == 0
    assert second["cache_read_input_tokens"] == 2100 and second["cache_creation_input_tokens"] == 0
    assert first["input_tokens"] == 2 and second["input_tokens"] == 2


# --- Bedrock --------------------------------------------------------------------------------


def test_eventstream_frame_round_trips_through_botocore() -> None:
    frames = encode_event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "hé"}})
    frames += encode_event_frame("messageStop", {"stopReason": "end_turn"})
    assert decode_frames(frames) == [
        ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "hé"}}),
        ("messageStop", {"stopReason": "end_turn"}),
    ]


def test_bedrock_converse_with_valid_signature(client: httpx.Client) -> None:
    resp = bedrock_post(client, converse_body(inferenceConfig={"maxTokens": 50}))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["output"]["message"] == {
        "role": "assistant",
        "content": [{"text": f"Echo from bedrock {BEDROCK_MODEL}: hello there"}],
    }
    assert body["stopReason"] == "end_turn"
    assert body["usage"] == {
        "inputTokens": 2,
        "outputTokens": 6,
        "totalTokens": 8,
        "cacheReadInputTokens": 0,
        "cacheWriteInputTokens": 0,
    }
    assert isinstance(body["metrics"]["latencyMs"], int)


def test_bedrock_converse_stream_decodes_with_botocore(client: httpx.Client) -> None:
    resp = bedrock_post(client, converse_body(), stream=True)
    assert resp.headers["content-type"] == "application/vnd.amazon.eventstream"
    events = decode_frames(resp.content)
    names = [name for name, _ in events]
    assert names == ["messageStart"] + ["contentBlockDelta"] * 6 + ["contentBlockStop", "messageStop", "metadata"]
    assert "".join(p["delta"]["text"] for n, p in events if n == "contentBlockDelta") == (
        f"Echo from bedrock {BEDROCK_MODEL}: hello there"
    )
    assert events[-2][1] == {"stopReason": "end_turn"}
    assert events[-1][1]["usage"]["outputTokens"] == 6
    assert "latencyMs" in events[-1][1]["metrics"]


def test_bedrock_stream_tool_use(client: httpx.Client) -> None:
    tool_config = {"tools": [{"toolSpec": {"name": "search", "inputSchema": {"json": {"type": "object"}}}}]}
    resp = bedrock_post(client, converse_body("find cats", toolConfig=tool_config), stream=True)
    events = decode_frames(resp.content)
    name, start = events[1]
    assert name == "contentBlockStart"
    assert start["contentBlockIndex"] == 0
    assert start["start"]["toolUse"]["name"] == "search"
    assert start["start"]["toolUse"]["toolUseId"].startswith("tooluse_")
    fragments = [p["delta"]["toolUse"]["input"] for n, p in events if n == "contentBlockDelta"]
    assert len(fragments) >= 2
    assert json.loads("".join(fragments)) == {"query": "find cats"}
    assert ("messageStop", {"stopReason": "tool_use"}) in events


def test_bedrock_tool_result_and_cache_point(client: httpx.Client) -> None:
    system = [{"text": LONG}, {"cachePoint": {"type": "default"}}]
    messages = [
        {"role": "user", "content": [{"text": "find cats"}]},
        {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "search", "input": {}}}]},
        {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "two cats"}]}}]},
    ]
    first = bedrock_post(client, {"system": system, "messages": messages}).json()
    second = bedrock_post(client, {"system": system, "messages": messages}).json()
    assert first["output"]["message"]["content"] == [{"text": "Tool said: two cats"}]
    assert first["usage"]["cacheWriteInputTokens"] == 2100 and first["usage"]["cacheReadInputTokens"] == 0
    assert second["usage"]["cacheReadInputTokens"] == 2100 and second["usage"]["cacheWriteInputTokens"] == 0


def test_bedrock_max_tokens_and_stop_sequence(client: httpx.Client) -> None:
    limited = bedrock_post(client, converse_body(inferenceConfig={"maxTokens": 2})).json()
    assert limited["stopReason"] == "max_tokens"
    assert limited["output"]["message"]["content"] == [{"text": "Echo from"}]
    stopped = bedrock_post(client, converse_body(inferenceConfig={"stopSequences": ["hello"]})).json()
    assert stopped["stopReason"] == "stop_sequence"


def test_bedrock_model_arn_with_encoded_slash(client: httpx.Client) -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0"
    resp = bedrock_post(client, converse_body(), model=arn)
    assert resp.status_code == 200, resp.text
    assert resp.json()["output"]["message"]["content"] == [{"text": f"Echo from bedrock {arn}: hello there"}]


def test_bedrock_rejects_bad_signature_and_missing_auth(client: httpx.Client) -> None:
    bad = bedrock_post(client, converse_body(), secret="wrong-secret")
    assert bad.status_code == 403
    assert bad.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    assert "message" in bad.json()
    unsigned = client.post(f"/model/{BEDROCK_MODEL}/converse", json=converse_body())
    assert unsigned.status_code == 403
    assert unsigned.headers["x-amzn-ErrorType"] == "UnrecognizedClientException"


def test_bedrock_signature_covers_body(client: httpx.Client) -> None:
    url = f"{client.base_url}/model/{quote(BEDROCK_MODEL, safe='')}/converse"
    request = AWSRequest(method="POST", url=url, data=b'{"messages": []}', headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "bedrock", "us-east-1").add_auth(request)
    tampered = json.dumps(converse_body()).encode()
    resp = client.post(url, content=tampered, headers=dict(request.headers.items()))
    assert resp.status_code == 403
    assert resp.headers["x-amzn-ErrorType"] == "InvalidSignatureException"


# --- recording and control ------------------------------------------------------------------


def test_requests_are_recorded_and_cleared(client: httpx.Client) -> None:
    client.post("/v1/chat/completions", params={"trace": "1"}, json=chat(), headers=OPENAI_AUTH)
    client.post("/v1/messages", json=anthropic_body(), headers={})
    (first, second) = client.get("/_fake/requests").json()
    assert first["method"] == "POST" and first["path"] == "/v1/chat/completions"
    assert first["query"] == {"trace": "1"}
    assert first["headers"]["authorization"] == "Bearer sk-test"
    assert first["body"] == chat()
    assert second["path"] == "/v1/messages"
    client.delete("/_fake/requests")
    assert client.get("/_fake/requests").json() == []


def test_bad_fault_rule_is_rejected(client: httpx.Client) -> None:
    resp = client.post("/_fake/faults", json=[{"fault": "explode"}])
    assert resp.status_code == 400
    assert "explode" in resp.json()["error"]
    with pytest.raises(ValueError, match="after_chunks"):
        FaultRule.from_json({"fault": "cut_stream", "after_chunks": -1})


# --- faults ---------------------------------------------------------------------------------


def send(client: httpx.Client, provider: str, **extra: Any) -> httpx.Response:
    if provider == "openai":
        return client.post("/v1/chat/completions", json=chat(**extra), headers=OPENAI_AUTH)
    if provider == "azure":
        return client.post(AZURE_PATH, params=AZURE_VERSION, json=chat(**extra), headers={"api-key": "k"})
    if provider == "anthropic":
        return client.post("/v1/messages", json=anthropic_body(**extra), headers=ANTHROPIC_AUTH)
    return bedrock_post(client, converse_body(), stream=bool(extra.get("stream")))


PROVIDERS = ["openai", "azure", "anthropic", "bedrock"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_fault_429_uses_provider_shape_and_retry_after(client: httpx.Client, provider: str) -> None:
    faults(client, {"fault": "429", "retry_after": 7, "times": 1})
    resp = send(client, provider)
    assert resp.status_code == 429
    assert resp.headers["retry-after"] == "7"
    body = resp.json()
    if provider == "openai":
        assert body["error"]["code"] == "rate_limit_exceeded"
        assert resp.headers["x-ratelimit-remaining-requests"] == "0"
        assert resp.headers["x-ratelimit-remaining-tokens"] == "0"
    elif provider == "azure":
        assert body["error"]["code"] == "429"
    elif provider == "anthropic":
        assert body["error"]["type"] == "rate_limit_error"
    else:
        assert resp.headers["x-amzn-ErrorType"] == "ThrottlingException"
    assert send(client, provider).status_code == 200  # times=1 is spent


@pytest.mark.parametrize(
    ("provider", "fault", "status", "marker"),
    [
        ("openai", "500", 500, "server_error"),
        ("openai", "503", 503, "server_error"),
        ("azure", "500", 500, "InternalServerError"),
        ("azure", "503", 503, "ServiceUnavailable"),
        ("anthropic", "500", 500, "api_error"),
        ("anthropic", "503", 529, "overloaded_error"),
        ("bedrock", "500", 500, "InternalServerException"),
        ("bedrock", "503", 503, "ServiceUnavailableException"),
    ],
)
def test_fault_5xx_uses_provider_shape(
    client: httpx.Client, provider: str, fault: str, status: int, marker: str
) -> None:
    faults(client, {"fault": fault})
    resp = send(client, provider)
    assert resp.status_code == status
    assert marker in resp.text + resp.headers.get("x-amzn-ErrorType", "")


def test_fault_matches_model_and_path(client: httpx.Client) -> None:
    faults(
        client,
        {"match": {"model": "gpt-4o"}, "fault": "500"},
        {"match": {"path_contains": "/v1/messages"}, "fault": "429"},
    )
    assert send(client, "openai").status_code == 200  # gpt-4o-mini is not gpt-4o
    resp = client.post("/v1/chat/completions", json={**chat(), "model": "gpt-4o"}, headers=OPENAI_AUTH)
    assert resp.status_code == 500
    assert send(client, "anthropic").status_code == 429
    faults(client, {"match": {"model": BEDROCK_MODEL}, "fault": "503"})
    assert send(client, "bedrock").status_code == 503
    client.delete("/_fake/faults")
    assert send(client, "anthropic").status_code == 200


def test_fault_hang_until_client_gives_up(client: httpx.Client) -> None:
    faults(client, {"fault": "hang"})
    with pytest.raises(httpx.ReadTimeout):  # no answer while the client waits
        client.post("/v1/chat/completions", json=chat(), headers=OPENAI_AUTH, timeout=0.3)
    client.delete("/_fake/faults")
    assert client.post("/v1/chat/completions", json=chat(), headers=OPENAI_AUTH).status_code == 200


@pytest.mark.parametrize("provider", PROVIDERS)
def test_fault_drop_closes_without_response(client: httpx.Client, provider: str) -> None:
    faults(client, {"fault": "drop", "times": 1})
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        send(client, provider)
    assert send(client, provider).status_code == 200


def test_fault_cut_stream_openai_has_no_done(client: httpx.Client) -> None:
    faults(client, {"fault": "cut_stream", "after_chunks": 3})
    lines: list[str] = []
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        with client.stream("POST", "/v1/chat/completions", json=chat(stream=True), headers=OPENAI_AUTH) as resp:
            assert resp.status_code == 200
            for line in resp.iter_lines():
                lines.append(line)
    data = [line for line in lines if line.startswith("data: ")]
    assert len(data) == 3
    assert "data: [DONE]" not in lines


def test_fault_cut_stream_anthropic_has_no_message_stop(client: httpx.Client) -> None:
    faults(client, {"fault": "cut_stream"})
    received = b""
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        with client.stream("POST", "/v1/messages", json=anthropic_body(stream=True), headers=ANTHROPIC_AUTH) as resp:
            for chunk in resp.iter_bytes():
                received += chunk
    assert [name for name, _ in sse_events(received.decode())] == ["message_start", "content_block_start"]


def test_fault_cut_stream_bedrock_keeps_whole_frames(client: httpx.Client) -> None:
    faults(client, {"fault": "cut_stream", "after_chunks": 4})
    url = f"{client.base_url}/model/{quote(BEDROCK_MODEL, safe='')}/converse-stream"
    data = json.dumps(converse_body()).encode()
    request = AWSRequest(method="POST", url=url, data=data, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "bedrock", "us-east-1").add_auth(request)
    received = b""
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        with client.stream("POST", url, content=data, headers=dict(request.headers.items())) as resp:
            for chunk in resp.iter_bytes():
                received += chunk
    assert [name for name, _ in decode_frames(received)] == ["messageStart"] + ["contentBlockDelta"] * 3


def test_fault_slow_first_token_streaming(client: httpx.Client) -> None:
    faults(client, {"fault": "slow_first_token", "delay": 2.0})
    started = time.monotonic()
    with client.stream("POST", "/v1/chat/completions", json=chat(stream=True), headers=OPENAI_AUTH) as resp:
        headers_at = time.monotonic() - started
        lines = resp.iter_lines()
        first = next(lines)
        first_at = time.monotonic() - started
        rest = list(lines)
    assert first_at >= 2.0  # the server holds the first chunk for the delay: a lower bound, never flaky
    # The headers come at once, not with the first chunk: a 1 s margin on a 2 s delay.
    assert first_at - headers_at >= 1.0
    assert first.startswith("data: ")
    assert "data: [DONE]" in rest


def test_fault_slow_first_token_non_stream(client: httpx.Client) -> None:
    faults(client, {"fault": "slow_first_token", "delay": 0.3, "match": {"path_contains": "/v1/messages"}})
    started = time.monotonic()
    resp = send(client, "anthropic")
    assert resp.status_code == 200
    assert time.monotonic() - started >= 0.3


# --- the server itself ----------------------------------------------------------------------


def test_split_words_round_trips() -> None:
    assert split_words("a  b c ") == ["a", "  b", " c "]
    assert "".join(split_words(" x y")) == " x y"


def test_server_start_stop_and_free_port() -> None:
    with FakeProviderServer(verify_sigv4=False) as fake:
        url = fake.base_url
        assert fake.port > 0
        assert httpx.get(f"{url}/v1/models", headers=OPENAI_AUTH).status_code == 200
        assert httpx.get(f"{url}/nowhere").status_code == 404
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/v1/models", headers=OPENAI_AUTH, timeout=1)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_fault_429_without_retry_after(client: httpx.Client, provider: str) -> None:
    faults(client, {"fault": "429", "retry_after": None, "times": 1})
    resp = send(client, provider)
    assert resp.status_code == 429
    assert "retry-after" not in resp.headers
    assert "retry-after-ms" not in resp.headers


def test_fault_probability_hits_a_share_of_requests(client: httpx.Client) -> None:
    faults(client, {"fault": "500", "probability": 0.3})
    statuses = [send(client, "openai").status_code for _ in range(200)]
    failed = statuses.count(500)
    assert 30 <= failed <= 90, failed
    assert statuses.count(200) == 200 - failed


def test_fault_probability_is_validated(client: httpx.Client) -> None:
    resp = client.post("/_fake/faults", json=[{"fault": "500", "probability": 1.5}])
    assert resp.status_code == 400
    assert "probability" in resp.json()["error"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_fault_context_length(client: httpx.Client, provider: str) -> None:
    faults(client, {"fault": "context_length", "times": 1})
    resp = send(client, provider)
    assert resp.status_code == 400
    text = resp.text.lower()
    assert "context length" in text or "too long" in text
