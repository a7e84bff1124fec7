"""OpenAI <-> Bedrock Converse translation (deployments.providers.bedrock_wire)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from deployments.providers.bedrock_wire import (
    ConverseStreamTranslator,
    bedrock_error,
    from_converse_response,
    to_converse_request,
)
from tests.unit._wire_helpers import (
    PNG_B64,
    TEXT_STREAM_DELTAS,
    TEXT_STREAM_FINISH_REASONS,
    WEATHER_TOOL,
    assistant_choice,
    bad_image_messages,
    chat_request,
    deltas,
    openai_usage,
    run_stream,
    tool_call_stream_deltas,
)
from tollgate_core.errors import BadRequestError, UpstreamStatusError, UpstreamTimeoutError

WEATHER_SPEC = {
    "toolSpec": {
        "name": "weather",
        "description": "Current weather",
        "inputSchema": {"json": WEATHER_TOOL["function"]["parameters"]},
    }
}


# ---------------------------------------------------------------------------- request


def test_minimal_request() -> None:
    assert to_converse_request(chat_request([{"role": "user", "content": "Hi"}])) == {
        "messages": [{"role": "user", "content": [{"text": "Hi"}]}]
    }


def test_system_and_developer_messages_become_system_blocks() -> None:
    body = to_converse_request(chat_request([
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": [{"type": "text", "text": "French."}, {"type": "text", "text": " "}]},
        {"role": "user", "content": "Hi"},
    ]))
    assert body["system"] == [{"text": "Be brief."}, {"text": "French."}]
    assert body["messages"] == [{"role": "user", "content": [{"text": "Hi"}]}]


def test_consecutive_same_role_messages_are_merged() -> None:
    body = to_converse_request(chat_request([
        {"role": "user", "content": "one"},
        {"role": "user", "content": "two"},
        {"role": "assistant", "content": "three"},
        {"role": "assistant", "content": [{"type": "text", "text": "four"}]},
    ]))
    assert body["messages"] == [
        {"role": "user", "content": [{"text": "one"}, {"text": "two"}]},
        {"role": "assistant", "content": [{"text": "three"}, {"text": "four"}]},
    ]


def test_blank_text_is_dropped() -> None:
    body = to_converse_request(chat_request([
        {"role": "user", "content": "a"}, {"role": "assistant", "content": ""}, {"role": "user", "content": "b"},
    ]))
    assert body["messages"] == [{"role": "user", "content": [{"text": "a"}, {"text": "b"}]}]


@pytest.mark.parametrize(
    ("media_type", "fmt"),
    [("image/png", "png"), ("image/jpeg", "jpeg"), ("image/gif", "gif"), ("image/webp", "webp")],
    ids=["png", "jpeg", "gif", "webp"],
)
def test_data_url_images_become_image_blocks(media_type: str, fmt: str) -> None:
    body = to_converse_request(chat_request([{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": f"data:{media_type};base64,{PNG_B64}"}},
    ]}]))
    assert body["messages"][0]["content"] == [
        {"text": "What is this?"},
        {"image": {"format": fmt, "source": {"bytes": PNG_B64}}},
    ]


@pytest.mark.parametrize(
    "url",
    ["https://example.com/cat.png", "data:image/bmp;base64,AAAA", "data:image/png,raw", ""],
    ids=["https-url", "bmp", "not-base64", "empty"],
)
def test_unusable_images_name_the_part(url: str) -> None:
    with pytest.raises(BadRequestError) as info:
        to_converse_request(chat_request(bad_image_messages(url)))
    assert info.value.param == "messages[3].content[1]"


def test_https_image_error_states_the_remedy() -> None:
    messages = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]
    with pytest.raises(BadRequestError, match="base64 data URL"):
        to_converse_request(chat_request(messages))


@pytest.mark.parametrize("role", ["function", "bot"], ids=["legacy-function", "made-up"])
def test_unknown_role_names_the_role(role: str) -> None:
    with pytest.raises(BadRequestError) as info:
        to_converse_request(chat_request([{"role": "user", "content": "x"}, {"role": role, "content": "y"}]))
    assert info.value.param == "messages[1].role"


HISTORY = [
    {"role": "user", "content": "Weather in Paris and Rome?"},
    {"role": "assistant", "content": "Checking.", "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Paris"}'}},
        {"id": "call_2", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Rome"}'}},
    ]},
    {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
    {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "24C"}]},
    {"role": "user", "content": "Which is warmer?"},
]


def test_tool_calls_and_results_in_history() -> None:
    body = to_converse_request(chat_request(HISTORY, tools=[WEATHER_TOOL]))
    assert body["messages"] == [
        {"role": "user", "content": [{"text": "Weather in Paris and Rome?"}]},
        {"role": "assistant", "content": [
            {"text": "Checking."},
            {"toolUse": {"toolUseId": "call_1", "name": "weather", "input": {"city": "Paris"}}},
            {"toolUse": {"toolUseId": "call_2", "name": "weather", "input": {"city": "Rome"}}},
        ]},
        {"role": "user", "content": [
            {"toolResult": {"toolUseId": "call_1", "content": [{"text": "18C"}]}},
            {"toolResult": {"toolUseId": "call_2", "content": [{"text": "24C"}]}},
            {"text": "Which is warmer?"},
        ]},
    ]
    assert body["toolConfig"] == {"tools": [WEATHER_SPEC]}


def test_tool_results_go_before_text_in_a_merged_user_turn() -> None:
    messages = [
        {"role": "assistant", "tool_calls": [{"id": "t", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "user", "content": "hurry"},
        {"role": "tool", "tool_call_id": "t", "content": ""},
    ]
    body = to_converse_request(chat_request(messages, tools=[{"type": "function", "function": {"name": "f"}}]))
    assert body["messages"][1]["content"] == [
        {"toolResult": {"toolUseId": "t", "content": [{"text": ""}]}},
        {"text": "hurry"},
    ]


def test_tool_history_without_tools_is_refused() -> None:
    with pytest.raises(BadRequestError) as info:
        to_converse_request(chat_request(HISTORY))
    assert info.value.param == "tools"


@pytest.mark.parametrize(
    ("tool_choice", "expected"),
    [
        (None, {"tools": [WEATHER_SPEC]}),
        ("auto", {"tools": [WEATHER_SPEC], "toolChoice": {"auto": {}}}),
        ("required", {"tools": [WEATHER_SPEC], "toolChoice": {"any": {}}}),
        ({"type": "function", "function": {"name": "weather"}},
         {"tools": [WEATHER_SPEC], "toolChoice": {"tool": {"name": "weather"}}}),
        ("none", None),
    ],
    ids=["absent", "auto", "required", "named", "none"],
)
def test_tool_config(tool_choice: Any, expected: dict[str, Any] | None) -> None:
    req = chat_request([{"role": "user", "content": "x"}], tools=[WEATHER_TOOL])
    if tool_choice is not None:
        req["tool_choice"] = tool_choice
    assert to_converse_request(req).get("toolConfig") == expected


def test_tool_choice_none_with_tool_history_keeps_tools_without_choice() -> None:
    body = to_converse_request(chat_request(HISTORY, tools=[WEATHER_TOOL], tool_choice="none"))
    assert body["toolConfig"] == {"tools": [WEATHER_SPEC]}


def test_tool_without_parameters_gets_an_empty_object_schema() -> None:
    req = chat_request([{"role": "user", "content": "x"}], tools=[{"type": "function", "function": {"name": "now"}}])
    body = to_converse_request(req)
    assert body["toolConfig"]["tools"] == [
        {"toolSpec": {"name": "now", "inputSchema": {"json": {"type": "object", "properties": {}}}}}
    ]


def test_inference_config() -> None:
    req = chat_request([{"role": "user", "content": "x"}], max_tokens=64, max_completion_tokens=128, temperature=1.5,
               top_p=0.8, stop="END", user="u-1", stream=True, response_format={"type": "json_object"})
    body = to_converse_request(req)
    assert body["inferenceConfig"] == {"maxTokens": 128, "temperature": 1.0, "topP": 0.8, "stopSequences": ["END"]}
    assert set(body) == {"messages", "inferenceConfig"}  # stream and user have no Converse field


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"n": 3}, "n"),
        ({"logprobs": True}, "logprobs"),
        # The client turns json_schema into a forced tool before this translation (test_schema_tool.py).
        ({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}},
         "response_format.type"),
        ({"response_format": {"type": "xml"}}, "response_format.type"),
        ({"tools": [{"type": "file_search"}]}, "tools[0].type"),
        ({"tools": [WEATHER_TOOL], "tool_choice": {"type": "function"}}, "tool_choice"),
        ({"max_tokens": -1}, "max_tokens"),
        ({"top_p": [0.5]}, "top_p"),
        ({"stop": {"a": 1}}, "stop"),
        ({"messages": "hello"}, "messages"),
        ({"messages": [{"role": "user", "content": "x"}, "oops"]}, "messages[1]"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"messages": [{"role": "user", "content": "x"}, {"role": "tool", "content": "r"}]}, "messages[1].tool_call_id"),
        ({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "f", "arguments": "nope"}}]}]},
         "messages[1].tool_calls[0].function.arguments"),
        ({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [{"id": "a"}]}]},
         "messages[1].tool_calls[0]"),
    ],
    ids=["n-3", "logprobs", "json-schema", "unknown-format", "non-function-tool", "nameless-choice",
         "negative-max-tokens", "list-top-p", "dict-stop", "string-messages", "non-object-message",
         "numeric-content", "tool-without-id", "bad-arguments", "call-without-function"],
)
def test_untranslatable_requests_name_the_parameter(extra: dict[str, Any], param: str) -> None:
    with pytest.raises(BadRequestError) as info:
        to_converse_request({**chat_request([{"role": "user", "content": "x"}]), **extra})
    assert info.value.param == param
    assert info.value.status_code == 400


# --------------------------------------------------------------------------- response


def test_text_response() -> None:
    body = {
        "output": {"message": {"role": "assistant", "content": [{"text": "Hello "}, {"text": "world"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 12, "outputTokens": 3, "totalTokens": 15},
        "metrics": {"latencyMs": 321},
    }
    out = from_converse_response(body, model="nova")
    assert out["object"] == "chat.completion"
    assert out["id"].startswith("chatcmpl-")
    assert out["model"] == "nova"
    assert out["choices"] == assistant_choice("Hello world", "stop")
    assert out["usage"] == openai_usage(12, 3, 15)


def test_tool_use_response() -> None:
    body = {
        "output": {"message": {"role": "assistant", "content": [
            {"reasoningContent": {"reasoningText": {"text": "hmm"}}},
            {"toolUse": {"toolUseId": "tooluse_1", "name": "weather", "input": {"city": "Paris"}}},
        ]}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": 5, "outputTokens": 9, "totalTokens": 14},
    }
    choice = from_converse_response(body, model="m")["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    assert choice["message"]["tool_calls"] == [
        {"id": "tooluse_1", "type": "function", "function": {"name": "weather", "arguments": '{"city":"Paris"}'}}
    ]


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"), ("tool_use", "tool_calls"),
     ("content_filtered", "content_filter"), ("guardrail_intervened", "content_filter"), ("future_reason", "stop")],
    ids=["end_turn", "stop_sequence", "max_tokens", "tool_use", "content_filtered", "guardrail", "unknown"],
)
def test_stop_reasons(stop_reason: str, finish: str) -> None:
    body = {"output": {"message": {"content": [{"text": "x"}]}}, "stopReason": stop_reason, "usage": {}}
    assert from_converse_response(body, model="m")["choices"][0]["finish_reason"] == finish


def test_usage_counts_cache_tokens_into_prompt_tokens() -> None:
    body = {
        "output": {"message": {"content": []}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 20, "outputTokens": 5, "totalTokens": 1525,
                  "cacheReadInputTokens": 1200, "cacheWriteInputTokens": 300},
    }
    assert from_converse_response(body, model="m")["usage"] == openai_usage(1520, 5, 1525, cached=1200, cache_write=300)


# ----------------------------------------------------------------------------- stream

TEXT_STREAM: list[tuple[str, dict[str, Any]]] = [
    ("messageStart", {"role": "assistant", "p": "abcdefgh"}),
    ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hel"}, "p": "abc"}),
    ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "lo!"}}),
    ("contentBlockStop", {"contentBlockIndex": 0}),
    ("messageStop", {"stopReason": "end_turn"}),
    ("metadata", {"usage": {"inputTokens": 30, "outputTokens": 4, "totalTokens": 134, "cacheReadInputTokens": 100},
                  "metrics": {"latencyMs": 400}}),
]

TOOL_STREAM: list[tuple[str, dict[str, Any]]] = [
    ("messageStart", {"role": "assistant"}),
    ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Checking."}}),
    ("contentBlockStop", {"contentBlockIndex": 0}),
    ("contentBlockStart", {"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "tooluse_A", "name": "weather"}}}),
    ("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"toolUse": {"input": '{"city": "Pa'}}}),
    ("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"toolUse": {"input": 'ris"}'}}}),
    ("contentBlockStop", {"contentBlockIndex": 1}),
    ("contentBlockStart", {"contentBlockIndex": 2, "start": {"toolUse": {"toolUseId": "tooluse_B", "name": "time"}}}),
    ("contentBlockDelta", {"contentBlockIndex": 2, "delta": {"toolUse": {"input": ""}}}),
    ("contentBlockDelta", {"contentBlockIndex": 2, "delta": {"toolUse": {"input": "{}"}}}),
    ("contentBlockStop", {"contentBlockIndex": 2}),
    ("messageStop", {"stopReason": "tool_use"}),
    ("metadata", {"usage": {"inputTokens": 400, "outputTokens": 60, "totalTokens": 460}, "metrics": {"latencyMs": 9}}),
]


def _run(events: list[tuple[str, dict[str, Any]]], *, include_usage: bool) -> list[dict[str, Any]]:
    return run_stream(ConverseStreamTranslator(model="nova", include_usage=include_usage), events)


def test_text_stream_without_usage() -> None:
    chunks = _run(TEXT_STREAM, include_usage=False)
    assert [c["choices"][0]["delta"] for c in chunks] == TEXT_STREAM_DELTAS
    assert [c["choices"][0]["finish_reason"] for c in chunks] == TEXT_STREAM_FINISH_REASONS
    assert len({c["id"] for c in chunks}) == 1
    for chunk in chunks:
        assert chunk["object"] == "chat.completion.chunk"
        assert chunk["model"] == "nova"
        assert chunk["choices"][0]["logprobs"] is None
        assert "usage" not in chunk


def test_text_stream_with_usage_puts_usage_after_the_finish_chunk() -> None:
    chunks = _run(TEXT_STREAM, include_usage=True)
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == openai_usage(130, 4, 134, cached=100)


def test_tool_call_stream_follows_openai_deltas() -> None:
    chunks = _run(TOOL_STREAM, include_usage=True)
    emitted = deltas(chunks)
    assert emitted == tool_call_stream_deltas("tooluse_A", "tooluse_B")
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["usage"]["total_tokens"] == 460
    arguments = "".join(d["tool_calls"][0]["function"]["arguments"] for d in emitted[2:5])
    assert json.loads(arguments) == {"city": "Paris"}


def test_reasoning_deltas_and_unknown_events_emit_nothing() -> None:
    translator = ConverseStreamTranslator(model="m", include_usage=False)
    translator.feed("messageStart", {"role": "assistant"})
    assert translator.feed("contentBlockDelta", {"contentBlockIndex": 0,
                                                 "delta": {"reasoningContent": {"text": "hm"}}}) == []
    assert translator.feed("metadata", {"usage": {"inputTokens": 1}}) == []
    assert translator.feed("somethingNew", {}) == []


def test_first_event_without_message_start_still_opens_with_the_role() -> None:
    translator = ConverseStreamTranslator(model="m", include_usage=False)
    chunks = translator.feed("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "x"}})
    assert [c["choices"][0]["delta"] for c in chunks] == [{"role": "assistant", "content": ""}, {"content": "x"}]


@pytest.mark.parametrize(
    ("event_type", "upstream_status", "status_code"),
    [
        ("throttlingException", 429, 429),
        ("internalServerException", 500, 502),
        ("serviceUnavailableException", 503, 502),
        ("modelStreamErrorException", 500, 502),
        ("validationException", 400, 400),
    ],
    ids=["throttling", "internal", "unavailable", "model-stream-error", "validation"],
)
def test_exception_events_raise(event_type: str, upstream_status: int, status_code: int) -> None:
    translator = ConverseStreamTranslator(model="m", include_usage=True)
    translator.feed("messageStart", {"role": "assistant"})
    with pytest.raises(UpstreamStatusError) as info:
        translator.feed(event_type, {"message": "Too many tokens, please wait."})
    assert info.value.upstream_status == upstream_status
    assert info.value.status_code == status_code
    assert "please wait" in info.value.message


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("status", "header", "upstream_status", "status_code"),
    [
        (429, "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/", 429, 429),
        (400, "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/", 400, 400),
        (404, "ResourceNotFoundException", 404, 502),
        (403, "AccessDeniedException", 403, 502),
        (503, "ServiceUnavailableException", 503, 502),
        (429, "ModelNotReadyException", 503, 502),
        (424, "ModelErrorException", 500, 502),
        (500, None, 500, 502),
    ],
    ids=["throttling", "validation", "not-found", "access-denied", "unavailable", "model-not-ready",
         "model-error", "no-header"],
)
def test_bedrock_error_maps_type_header(status: int, header: str | None, upstream_status: int, status_code: int) -> None:
    err = bedrock_error(status, {"message": "it went wrong"}, header, 1.0)
    assert isinstance(err, UpstreamStatusError)
    assert err.upstream_status == upstream_status
    assert err.status_code == status_code
    assert err.retry_after == 1.0
    if upstream_status in (401, 403):
        # The provider's text may echo the gateway's credentials: the client gets none of it.
        assert "it went wrong" not in err.message and "credentials" in err.message
    else:
        assert "it went wrong" in err.message


def test_bedrock_error_model_timeout_is_a_timeout() -> None:
    err = bedrock_error(408, {"message": "Model has timed out"}, "ModelTimeoutException", None)
    assert isinstance(err, UpstreamTimeoutError)
    assert err.status_code == 504


def test_bedrock_error_reads_type_from_body_when_header_missing() -> None:
    body = {"__type": "com.amazon.coral.service#ThrottlingException", "Message": "slow down"}
    err = bedrock_error(400, body, None, None)
    assert isinstance(err, UpstreamStatusError)
    assert err.upstream_status == 429
    assert "slow down" in err.message


def test_unsupported_user_part_names_its_own_path() -> None:
    req = {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "input_audio"}]}]}
    with pytest.raises(BadRequestError) as info:
        to_converse_request(req)
    assert info.value.param == "messages[0].content[1]"
