"""OpenAI <-> Anthropic Messages translation (deployments.providers.anthropic_wire)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from deployments.providers.anthropic_wire import (
    AnthropicStreamTranslator,
    anthropic_error,
    from_anthropic_response,
    to_anthropic_request,
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
from tollgate_core.errors import BadRequestError, UpstreamStatusError

MODEL = "claude-sonnet-4-5"


# ---------------------------------------------------------------------------- request


def test_minimal_request_has_model_default_max_tokens_and_one_user_turn() -> None:
    body = to_anthropic_request(chat_request([{"role": "user", "content": "Hi"}]), MODEL)
    assert body == {
        "model": MODEL,
        "max_tokens": 4096,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
    }


def test_system_and_developer_messages_become_top_level_system_blocks() -> None:
    body = to_anthropic_request(
        chat_request([
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
            {"role": "user", "content": "Hi"},
            {"role": "system", "content": "Late rule."},
        ]),
        MODEL,
    )
    assert body["system"] == [
        {"type": "text", "text": "Be brief."},
        {"type": "text", "text": "Answer in French."},
        {"type": "text", "text": "Late rule."},
    ]
    assert [m["role"] for m in body["messages"]] == ["user"]


def test_consecutive_same_role_messages_are_merged() -> None:
    body = to_anthropic_request(
        chat_request([
            {"role": "user", "content": "one"},
            {"role": "user", "content": [{"type": "text", "text": "two"}]},
            {"role": "assistant", "content": "three"},
            {"role": "assistant", "content": "four"},
            {"role": "user", "content": "five"},
        ]),
        MODEL,
    )
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "three"}, {"type": "text", "text": "four"}]},
        {"role": "user", "content": [{"type": "text", "text": "five"}]},
    ]


def test_blank_text_is_dropped_and_empty_messages_vanish_before_merging() -> None:
    body = to_anthropic_request(
        chat_request([
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "  "},
            {"role": "user", "content": "b"},
        ]),
        MODEL,
    )
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
    ]


def test_only_system_messages_is_refused() -> None:
    with pytest.raises(BadRequestError) as info:
        to_anthropic_request(chat_request([{"role": "system", "content": "x"}]), MODEL)
    assert info.value.param == "messages"


@pytest.mark.parametrize(
    ("url", "source"),
    [
        (f"data:image/png;base64,{PNG_B64}", {"type": "base64", "media_type": "image/png", "data": PNG_B64}),
        ("data:image/webp;base64,AAAA", {"type": "base64", "media_type": "image/webp", "data": "AAAA"}),
        ("https://example.com/cat.jpg", {"type": "url", "url": "https://example.com/cat.jpg"}),
    ],
    ids=["png-data-url", "webp-data-url", "https-url"],
)
def test_images_become_image_blocks(url: str, source: dict[str, Any]) -> None:
    body = to_anthropic_request(
        chat_request([{"role": "user", "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": url, "detail": "high"}},
        ]}]),
        MODEL,
    )
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "What is this?"},
        {"type": "image", "source": source},
    ]


@pytest.mark.parametrize(
    "url",
    ["data:image/bmp;base64,AAAA", "data:image/png,rawbytes", "ftp://example.com/a.png", ""],
    ids=["unsupported-type", "not-base64", "ftp-scheme", "empty"],
)
def test_bad_image_urls_name_the_part(url: str) -> None:
    with pytest.raises(BadRequestError) as info:
        to_anthropic_request(chat_request(bad_image_messages(url)), MODEL)
    assert info.value.param == "messages[3].content[1]"
    assert info.value.status_code == 400


def test_image_outside_user_message_is_refused() -> None:
    messages = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]},
    ]
    with pytest.raises(BadRequestError) as info:
        to_anthropic_request(chat_request(messages), MODEL)
    assert info.value.param == "messages[1].content[0]"


def test_unknown_part_type_is_refused() -> None:
    messages = [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}}]}]
    with pytest.raises(BadRequestError) as info:
        to_anthropic_request(chat_request(messages), MODEL)
    assert info.value.param == "messages[0].content[0]"


@pytest.mark.parametrize("role", ["function", "critic", None], ids=["legacy-function", "made-up", "missing"])
def test_unknown_role_names_the_role(role: str | None) -> None:
    with pytest.raises(BadRequestError) as info:
        to_anthropic_request(chat_request([{"role": "user", "content": "a"}, {"role": role, "content": "x"}]), MODEL)
    assert info.value.param == "messages[1].role"
    assert "tool" in info.value.message


def test_tool_round_trip_in_history() -> None:
    messages = [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Paris"}'}},
            {"id": "call_2", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Rome"}'}},
        ]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
        {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "24C"}]},
        {"role": "user", "content": "Thanks, which is warmer?"},
    ]
    body = to_anthropic_request(chat_request(messages), MODEL)
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Weather in Paris and Rome?"}]},
        {"role": "assistant", "content": [
            {"type": "tool_use", "id": "call_1", "name": "weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "call_2", "name": "weather", "input": {"city": "Rome"}},
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "call_1", "content": "18C"},
            {"type": "tool_result", "tool_use_id": "call_2", "content": [{"type": "text", "text": "24C"}]},
            {"type": "text", "text": "Thanks, which is warmer?"},
        ]},
    ]


def test_tool_results_go_before_text_in_a_merged_user_turn() -> None:
    messages = [
        {"role": "assistant", "content": "Let me check.", "tool_calls": [
            {"id": "t1", "type": "function", "function": {"name": "f", "arguments": ""}},
        ]},
        {"role": "user", "content": "hurry"},
        {"role": "tool", "tool_call_id": "t1", "content": "done"},
    ]
    body = to_anthropic_request(chat_request(messages), MODEL)
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "t1", "name": "f", "input": {}},
    ]
    assert [b["type"] for b in body["messages"][1]["content"]] == ["tool_result", "text"]


@pytest.mark.parametrize(
    "arguments", ["{not json", "[1, 2]", "42"], ids=["invalid-json", "array", "scalar"]
)
def test_bad_tool_call_arguments_name_the_path(arguments: str) -> None:
    messages = [
        {"role": "user", "content": "x"},
        {"role": "assistant", "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}},
            {"id": "b", "type": "function", "function": {"name": "f", "arguments": arguments}},
        ]},
    ]
    with pytest.raises(BadRequestError) as info:
        to_anthropic_request(chat_request(messages), MODEL)
    assert info.value.param == "messages[1].tool_calls[1].function.arguments"


def test_tool_message_without_call_id_is_refused() -> None:
    with pytest.raises(BadRequestError) as info:
        to_anthropic_request(chat_request([{"role": "user", "content": "x"}, {"role": "tool", "content": "r"}]), MODEL)
    assert info.value.param == "messages[1].tool_call_id"


@pytest.mark.parametrize(
    ("tool_choice", "expected"),
    [
        ("auto", {"type": "auto"}),
        ("required", {"type": "any"}),
        ("none", {"type": "none"}),
        ({"type": "function", "function": {"name": "weather"}}, {"type": "tool", "name": "weather"}),
        (None, None),
    ],
    ids=["auto", "required", "none", "named", "absent"],
)
def test_tools_and_tool_choice(tool_choice: Any, expected: dict[str, Any] | None) -> None:
    req = chat_request([{"role": "user", "content": "x"}], tools=[WEATHER_TOOL])
    if tool_choice is not None:
        req["tool_choice"] = tool_choice
    body = to_anthropic_request(req, MODEL)
    assert body["tools"] == [{
        "name": "weather",
        "description": "Current weather",
        "input_schema": WEATHER_TOOL["function"]["parameters"],
    }]
    assert body.get("tool_choice") == expected


def test_tool_without_parameters_gets_an_empty_object_schema() -> None:
    req = chat_request([{"role": "user", "content": "x"}], tools=[{"type": "function", "function": {"name": "now"}}])
    assert to_anthropic_request(req, MODEL)["tools"] == [
        {"name": "now", "input_schema": {"type": "object", "properties": {}}}
    ]


def test_parallel_tool_calls_false_disables_parallel_use() -> None:
    req = chat_request([{"role": "user", "content": "x"}], tools=[WEATHER_TOOL], parallel_tool_calls=False)
    assert to_anthropic_request(req, MODEL)["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}


def test_tool_choice_without_tools_is_left_out() -> None:
    body = to_anthropic_request(chat_request([{"role": "user", "content": "x"}], tool_choice="none"), MODEL)
    assert "tool_choice" not in body and "tools" not in body


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"tools": [{"type": "code_interpreter"}]}, "tools[0].type"),
        ({"tools": [{"type": "function", "function": {}}]}, "tools[0].function.name"),
        ({"tools": [WEATHER_TOOL], "tool_choice": "sometimes"}, "tool_choice"),
        ({"n": 2}, "n"),
        ({"logprobs": True}, "logprobs"),
        # The client turns json_schema into a forced tool before this translation (test_schema_tool.py).
        ({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}},
         "response_format.type"),
        ({"response_format": {"type": "yaml"}}, "response_format.type"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_completion_tokens": "10"}, "max_completion_tokens"),
        ({"temperature": "hot"}, "temperature"),
        ({"stop": [1, 2]}, "stop"),
        ({"messages": []}, "messages"),
    ],
    ids=["non-function-tool", "nameless-tool", "bad-tool-choice", "n-2", "logprobs", "json-schema",
         "unknown-format", "zero-max-tokens", "string-max-tokens", "string-temperature", "non-string-stop",
         "no-messages"],
)
def test_untranslatable_requests_name_the_parameter(extra: dict[str, Any], param: str) -> None:
    with pytest.raises(BadRequestError) as info:
        to_anthropic_request({**chat_request([{"role": "user", "content": "x"}]), **extra}, MODEL)
    assert info.value.param == param


def test_sampling_stop_user_stream_and_max_tokens() -> None:
    req = chat_request(
        [{"role": "user", "content": "x"}],
        temperature=1.7, top_p=0.9, stop="END", user="u-42", stream=True,
        max_tokens=50, max_completion_tokens=100, seed=7, response_format={"type": "json_object"},
    )
    body = to_anthropic_request(req, MODEL, default_max_tokens=10)
    assert body["max_tokens"] == 100  # max_completion_tokens wins over the legacy field
    assert body["temperature"] == 1.0  # clamped into Anthropic's 0-1
    assert body["top_p"] == 0.9
    assert body["stop_sequences"] == ["END"]
    assert body["metadata"] == {"user_id": "u-42"}
    assert body["stream"] is True
    assert "seed" not in body and "response_format" not in body


def test_default_max_tokens_is_used_when_none_given() -> None:
    req = chat_request([{"role": "user", "content": "x"}], stop=["a", "b"])
    body = to_anthropic_request(req, MODEL, default_max_tokens=77)
    assert body["max_tokens"] == 77
    assert body["stop_sequences"] == ["a", "b"]


# --------------------------------------------------------------------------- response


def test_text_response() -> None:
    body = {
        "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-x",
        "content": [{"type": "text", "text": "Hello "}, {"type": "text", "text": "world"}],
        "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5},
    }
    out = from_anthropic_response(body, model="claude")
    assert out["object"] == "chat.completion"
    assert out["id"] == "msg_01"
    assert out["model"] == "claude"
    assert isinstance(out["created"], int)
    assert out["choices"] == assistant_choice("Hello world", "stop")
    assert out["usage"] == openai_usage(10, 5, 15)


def test_tool_use_response() -> None:
    body = {
        "id": "msg_02",
        "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "sig"},
            {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}},
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 3, "output_tokens": 4},
    }
    choice = from_anthropic_response(body, model="claude")["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    assert choice["message"]["tool_calls"] == [
        {"id": "toolu_1", "type": "function", "function": {"name": "weather", "arguments": '{"city":"Paris"}'}}
    ]
    assert json.loads(choice["message"]["tool_calls"][0]["function"]["arguments"]) == {"city": "Paris"}


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"), ("tool_use", "tool_calls"),
     ("refusal", "content_filter"), (None, "stop"), ("something_new", "stop")],
    ids=["end_turn", "stop_sequence", "max_tokens", "tool_use", "refusal", "null", "unknown"],
)
def test_stop_reasons(stop_reason: str | None, finish: str) -> None:
    body: dict[str, Any] = {"content": [{"type": "text", "text": "x"}], "stop_reason": stop_reason, "usage": {}}
    assert from_anthropic_response(body, model="m")["choices"][0]["finish_reason"] == finish


def test_usage_counts_cache_tokens_into_prompt_tokens() -> None:
    body = {
        "content": [],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 20, "cache_read_input_tokens": 1000, "cache_creation_input_tokens": 300,
                  "output_tokens": 7},
    }
    out = from_anthropic_response(body, model="m")
    assert out["usage"] == openai_usage(1320, 7, 1327, cached=1000, cache_write=300)
    assert out["choices"][0]["message"]["content"] == ""


# ----------------------------------------------------------------------------- stream

TEXT_STREAM: list[tuple[str, dict[str, Any]]] = [
    ("message_start", {"type": "message_start", "message": {
        "id": "msg_s1", "type": "message", "role": "assistant", "content": [], "model": "claude-x",
        "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": 25, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 0,
                  "output_tokens": 1}}}),
    ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    ("ping", {"type": "ping"}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "lo!"}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                       "usage": {"output_tokens": 15}}),
    ("message_stop", {"type": "message_stop"}),
]

TOOL_STREAM: list[tuple[str, dict[str, Any]]] = [
    ("message_start", {"type": "message_start", "message": {
        "id": "msg_s2", "type": "message", "role": "assistant", "content": [], "model": "claude-x",
        "usage": {"input_tokens": 400, "output_tokens": 1}}}),
    ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0,
                             "delta": {"type": "text_delta", "text": "Checking."}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {
        "type": "tool_use", "id": "toolu_A", "name": "weather", "input": {}}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 1,
                             "delta": {"type": "input_json_delta", "partial_json": ""}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 1,
                             "delta": {"type": "input_json_delta", "partial_json": '{"city": "Pa'}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 1,
                             "delta": {"type": "input_json_delta", "partial_json": 'ris"}'}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 1}),
    ("content_block_start", {"type": "content_block_start", "index": 2, "content_block": {
        "type": "tool_use", "id": "toolu_B", "name": "time", "input": {}}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 2,
                             "delta": {"type": "input_json_delta", "partial_json": "{}"}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 2}),
    ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                       "usage": {"output_tokens": 89}}),
    ("message_stop", {"type": "message_stop"}),
]


def _run(events: list[tuple[str, dict[str, Any]]], *, include_usage: bool) -> list[dict[str, Any]]:
    return run_stream(AnthropicStreamTranslator(model="claude", include_usage=include_usage), events)


def test_text_stream_without_usage() -> None:
    chunks = _run(TEXT_STREAM, include_usage=False)
    assert [c["choices"][0]["delta"] for c in chunks] == TEXT_STREAM_DELTAS
    assert [c["choices"][0]["finish_reason"] for c in chunks] == TEXT_STREAM_FINISH_REASONS
    for chunk in chunks:
        assert chunk["object"] == "chat.completion.chunk"
        assert chunk["id"] == "msg_s1"
        assert chunk["model"] == "claude"
        assert chunk["choices"][0]["index"] == 0 and chunk["choices"][0]["logprobs"] is None
        assert "usage" not in chunk
    assert len({c["created"] for c in chunks}) == 1


def test_text_stream_with_usage_ends_with_a_usage_chunk() -> None:
    chunks = _run(TEXT_STREAM, include_usage=True)
    assert all(c["usage"] is None for c in chunks[:-1])
    last = chunks[-1]
    assert last["choices"] == []
    assert last["usage"] == openai_usage(125, 15, 140, cached=100)
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"


def test_tool_call_stream_follows_openai_deltas() -> None:
    chunks = _run(TOOL_STREAM, include_usage=True)
    emitted = deltas(chunks)
    assert emitted == tool_call_stream_deltas("toolu_A", "toolu_B")
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["usage"]["prompt_tokens"] == 400
    assert chunks[-1]["usage"]["completion_tokens"] == 89
    arguments = "".join(
        d["tool_calls"][0]["function"]["arguments"]
        for d in emitted
        if d.get("tool_calls") and d["tool_calls"][0]["index"] == 0
    )
    assert json.loads(arguments) == {"city": "Paris"}


def test_message_delta_with_input_counts_updates_usage() -> None:
    translator = AnthropicStreamTranslator(model="claude", include_usage=True)
    translator.feed("message_start", {"message": {"id": "m", "usage": {"input_tokens": 0, "output_tokens": 0}}})
    translator.feed("message_delta", {"delta": {"stop_reason": "max_tokens"},
                                      "usage": {"input_tokens": 9, "cache_creation_input_tokens": 4,
                                                "output_tokens": 2}})
    usage = translator.feed("message_stop", {})[-1]["usage"]
    assert usage["prompt_tokens"] == 13
    assert usage["prompt_tokens_details"] == {"cached_tokens": 0, "cache_write_tokens": 4}


def test_thinking_deltas_and_unknown_events_emit_nothing() -> None:
    translator = AnthropicStreamTranslator(model="claude", include_usage=False)
    translator.feed("message_start", {"message": {"id": "m", "usage": {}}})
    assert translator.feed("content_block_start", {"index": 0, "content_block": {"type": "thinking", "thinking": ""}}) == []
    assert translator.feed("content_block_delta", {"index": 0, "delta": {"type": "thinking_delta", "thinking": "hm"}}) == []
    assert translator.feed("content_block_delta", {"index": 0, "delta": {"type": "signature_delta", "signature": "s"}}) == []
    assert translator.feed("brand_new_event", {}) == []


def test_message_stop_without_message_delta_still_finishes_once() -> None:
    translator = AnthropicStreamTranslator(model="claude", include_usage=False)
    first = translator.feed("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "x"}})
    assert first[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    stop = translator.feed("message_stop", {})
    assert [c["choices"][0]["finish_reason"] for c in stop] == ["stop"]


@pytest.mark.parametrize(
    ("error_type", "upstream_status", "status_code"),
    [("overloaded_error", 503, 502), ("rate_limit_error", 429, 429), ("api_error", 500, 502)],
    ids=["overloaded", "rate-limited", "api-error"],
)
def test_error_event_raises(error_type: str, upstream_status: int, status_code: int) -> None:
    translator = AnthropicStreamTranslator(model="claude", include_usage=True)
    translator.feed(*TEXT_STREAM[0])
    with pytest.raises(UpstreamStatusError) as info:
        translator.feed("error", {"type": "error", "error": {"type": error_type, "message": "Overloaded"}})
    assert info.value.upstream_status == upstream_status
    assert info.value.status_code == status_code
    assert "Overloaded" in info.value.message


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("status", "error_type", "upstream_status", "status_code"),
    [
        (529, "overloaded_error", 503, 502),
        (429, "rate_limit_error", 429, 429),
        (400, "invalid_request_error", 400, 400),
        (401, "authentication_error", 401, 502),
        (413, "request_too_large", 413, 413),
        (500, "api_error", 500, 502),
    ],
    ids=["529-overloaded", "429", "400", "401-our-key", "413", "500"],
)
def test_anthropic_error_maps_status(status: int, error_type: str, upstream_status: int, status_code: int) -> None:
    err = anthropic_error(status, {"type": "error", "error": {"type": error_type, "message": "boom"}}, 2.5)
    assert isinstance(err, UpstreamStatusError)
    assert err.upstream_status == upstream_status
    assert err.status_code == status_code
    assert err.retry_after == 2.5
    if upstream_status == 401:
        # The provider's text may echo the gateway's key: the client gets none of it.
        assert "boom" not in err.message and "credentials" in err.message
    else:
        assert "boom" in err.message and error_type in err.message


def test_anthropic_error_tolerates_a_non_json_body() -> None:
    err = anthropic_error(502, "<html>bad gateway</html>", None)
    assert isinstance(err, UpstreamStatusError)
    assert err.upstream_status == 502
    assert err.message.startswith("upstream returned 502")


def test_cache_control_on_text_parts_is_kept() -> None:
    req = {
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": "rules", "cache_control": {"type": "ephemeral"}}]},
            {"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]},
        ]
    }
    body = to_anthropic_request(req, "claude")
    assert body["system"] == [{"type": "text", "text": "rules", "cache_control": {"type": "ephemeral"}}]
    assert body["messages"][0]["content"] == [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]
