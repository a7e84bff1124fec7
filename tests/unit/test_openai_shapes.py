"""The OpenAI side shared by the provider translations (deployments.providers.openai_shapes)."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest

from deployments.providers import openai_shapes as shapes
from tests.unit._wire_helpers import (
    TEXT_STREAM_DELTAS,
    TEXT_STREAM_FINISH_REASONS,
    WEATHER_TOOL,
    assistant_choice,
    chat_request,
    deltas,
    tool_call_stream_deltas,
)
from tests.unit._wire_helpers import openai_usage as expected_usage
from tollgate_core.errors import BadRequestError


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name for name, value in vars(shapes).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == shapes.__name__
    }
    assert set(shapes.__all__) == public | {"Block"}
    for name in shapes.__all__:
        value = getattr(shapes, name)
        if inspect.isfunction(value) or inspect.isclass(value):
            assert inspect.getdoc(value), f"{name} has no docstring"


# ---------------------------------------------------------------------- parameters


def _refuse(req: dict[str, Any]) -> None:
    shapes.refuse_unsupported(req, provider="Acme", n_message="one choice only", logprobs_message="no logprobs")


@pytest.mark.parametrize(
    ("extra", "param", "message"),
    [
        ({"n": 2}, "n", "one choice only"),
        ({"logprobs": True}, "logprobs", "no logprobs"),
        ({"top_logprobs": 3}, "logprobs", "no logprobs"),
        ({"response_format": {"type": "json_schema"}}, "response_format.type",
         "response_format type 'json_schema' is not supported"),
        ({"response_format": "json_schema"}, "response_format.type", "response_format type 'json_schema' is not supported"),
        ({"response_format": {"type": "yaml"}}, "response_format.type", "response_format type 'yaml' is not supported"),
    ],
    ids=["n-2", "logprobs", "top-logprobs", "json-schema", "json-schema-string", "unknown-format"],
)
def test_refuse_unsupported_names_the_parameter(extra: dict[str, Any], param: str, message: str) -> None:
    with pytest.raises(BadRequestError) as info:
        _refuse(chat_request([], **extra))
    assert info.value.param == param
    assert info.value.message.startswith(message)


@pytest.mark.parametrize(
    "extra",
    [{}, {"n": 1}, {"n": None}, {"logprobs": False}, {"response_format": {"type": "json_object"}},
     {"response_format": {"type": "text"}}, {"response_format": "text"}],
    ids=["nothing", "n-1", "n-null", "logprobs-false", "json-object", "text", "text-string"],
)
def test_refuse_unsupported_lets_the_rest_through(extra: dict[str, Any]) -> None:
    _refuse(chat_request([], **extra))


@pytest.mark.parametrize(
    ("extra", "expected"),
    [({}, None), ({"max_tokens": 5}, 5), ({"max_completion_tokens": 7, "max_tokens": 5}, 7),
     ({"max_completion_tokens": None, "max_tokens": 5}, 5)],
    ids=["absent", "legacy", "completion-wins", "null-completion"],
)
def test_requested_max_tokens(extra: dict[str, Any], expected: int | None) -> None:
    assert shapes.requested_max_tokens(chat_request([], **extra)) == expected


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": True}, "max_tokens"),
        ({"max_completion_tokens": "10"}, "max_completion_tokens"),
        ({"max_completion_tokens": 2.0}, "max_completion_tokens"),
    ],
    ids=["zero", "bool", "string", "float"],
)
def test_requested_max_tokens_refuses_non_positive_integers(extra: dict[str, Any], param: str) -> None:
    with pytest.raises(BadRequestError) as info:
        shapes.requested_max_tokens(chat_request([], **extra))
    assert info.value.param == param


def test_sampling_params_clamps_temperature_and_keeps_top_p() -> None:
    assert shapes.sampling_params(chat_request([], temperature=1.7, top_p=1)) == {"temperature": 1.0, "top_p": 1.0}
    assert shapes.sampling_params(chat_request([], temperature=0, top_p=None)) == {"temperature": 0.0}
    assert shapes.sampling_params(chat_request([])) == {}


@pytest.mark.parametrize(
    ("extra", "param"),
    [({"temperature": "hot"}, "temperature"), ({"temperature": True}, "temperature"), ({"top_p": [0.5]}, "top_p")],
    ids=["string", "bool", "list"],
)
def test_sampling_params_refuses_non_numbers(extra: dict[str, Any], param: str) -> None:
    with pytest.raises(BadRequestError) as info:
        shapes.sampling_params(chat_request([], **extra))
    assert info.value.param == param


@pytest.mark.parametrize(
    ("stop", "expected"),
    [("END", ["END"]), (["a", "b"], ["a", "b"]), ([], []), (None, [])],
    ids=["string", "list", "empty", "absent"],
)
def test_stop_sequences(stop: Any, expected: list[str]) -> None:
    assert shapes.stop_sequences(chat_request([], stop=stop)) == expected


@pytest.mark.parametrize("stop", [[1, 2], {"a": 1}, 5], ids=["numbers", "dict", "number"])
def test_stop_sequences_refuses_non_strings(stop: Any) -> None:
    with pytest.raises(BadRequestError) as info:
        shapes.stop_sequences(chat_request([], stop=stop))
    assert info.value.param == "stop"


# ------------------------------------------------------------------------ messages


def _convert(raw: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """Converts with blocks that show where each came from: ``[role, text]`` or ``["result", id]``."""
    return shapes.convert_messages(
        raw,
        system=lambda content, path: shapes.texts(content, path, images=False),
        user=lambda content, path: [{"user": t} for t in shapes.texts(content, path, images=True)],
        assistant=lambda msg, path: [{"assistant": t} for t in shapes.texts(msg.get("content"), path, images=False)],
        tool=lambda msg, path: {"result": shapes.message_tool_call_id(msg, path)},
        is_tool_result=lambda block: "result" in block,
    )


def test_convert_messages_collects_system_merges_roles_and_puts_results_first() -> None:
    system, turns = _convert([
        {"role": "system", "content": "rule 1"},
        {"role": "user", "content": "q1"},
        {"role": "developer", "content": "rule 2"},
        {"role": "user", "content": "q2"},
        {"role": "assistant", "content": "a1"},
        {"role": "assistant", "content": " "},
        {"role": "assistant", "content": "a2"},
        {"role": "user", "content": "q3"},
        {"role": "tool", "tool_call_id": "c1", "content": "r"},
    ])
    assert system == ["rule 1", "rule 2"]
    assert turns == [
        {"role": "user", "content": [{"user": "q1"}, {"user": "q2"}]},
        {"role": "assistant", "content": [{"assistant": "a1"}, {"assistant": "a2"}]},
        {"role": "user", "content": [{"result": "c1"}, {"user": "q3"}]},
    ]


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        ([], "messages"),
        ("hello", "messages"),
        ([{"role": "system", "content": "only rules"}], "messages"),
        ([{"role": "user", "content": "x"}, "oops"], "messages[1]"),
        ([{"role": "user", "content": "x"}, {"role": "function", "content": "y"}], "messages[1].role"),
        ([{"role": "user", "content": "x"}, {"role": "tool", "content": "r"}], "messages[1].tool_call_id"),
    ],
    ids=["empty", "string", "only-system", "non-object", "unknown-role", "tool-without-id"],
)
def test_convert_messages_names_the_offending_parameter(raw: Any, param: str) -> None:
    with pytest.raises(BadRequestError) as info:
        _convert(raw)
    assert info.value.param == param


@pytest.mark.parametrize(
    ("part", "expected"),
    [
        ({"type": "text", "text": "hi"}, "hi"),
        ({"type": "text", "text": "  "}, None),
        ({"type": "refusal", "refusal": "no"}, "no"),
        ({"type": "refusal", "refusal": ""}, ""),
    ],
    ids=["text", "blank-text", "refusal", "empty-refusal"],
)
def test_part_text(part: dict[str, Any], expected: str | None) -> None:
    assert shapes.part_text(part, "p", images=False) == expected


@pytest.mark.parametrize(
    ("images", "offer"), [(True, "use text or image_url parts"), (False, "images only in user messages")],
    ids=["user-message", "other-message"],
)
def test_part_text_refuses_other_parts(images: bool, offer: str) -> None:
    with pytest.raises(BadRequestError) as info:
        shapes.part_text({"type": "input_audio"}, "messages[0].content[2]", images=images)
    assert info.value.param == "messages[0].content[2]"
    assert offer in info.value.message


def test_texts() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://x/y.png"}}
    assert shapes.texts(None, "m", images=False) == []
    assert shapes.texts("hi", "m", images=False) == ["hi"]
    assert shapes.texts(" ", "m", images=False) == []
    assert shapes.texts([{"type": "text", "text": "a"}, {"type": "text", "text": ""}, image], "m", images=True) == ["a"]
    with pytest.raises(BadRequestError) as info:
        shapes.texts([{"type": "text", "text": "a"}, image], "m", images=False)
    assert info.value.param == "m.content[1]"
    with pytest.raises(BadRequestError) as info:
        shapes.texts(5, "m", images=False)
    assert info.value.param == "m.content"


def test_split_base64_data_url() -> None:
    assert shapes.split_base64_data_url("data:image/png;base64,AAAA", "p") == ("image/png", "AAAA")
    for url in ("data:image/png,raw", "data:image/png;base64,", "data:image/png;utf8,AAAA"):
        with pytest.raises(BadRequestError) as info:
            shapes.split_base64_data_url(url, "p")
        assert info.value.param == "p"


# --------------------------------------------------------------------------- tools


def test_parse_tool_calls() -> None:
    calls = shapes.parse_tool_calls([
        {"id": "a", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}},
        {"id": "b", "function": {"name": "g"}},
    ], "messages[1]")
    assert calls == [shapes.ToolCall("a", "f", {"x": 1}), shapes.ToolCall("b", "g", {})]
    assert shapes.parse_tool_calls(None, "messages[1]") == []


@pytest.mark.parametrize(
    ("tool_calls", "param"),
    [
        ("call", "messages[1].tool_calls"),
        ([{"id": "a"}], "messages[1].tool_calls[0]"),
        ([{"function": {"name": "f"}}], "messages[1].tool_calls[0]"),
        ([{"id": "a", "type": "custom", "function": {"name": "f"}}], "messages[1].tool_calls[0].type"),
        ([{"id": "a", "function": {"name": "f", "arguments": "[1]"}}], "messages[1].tool_calls[0].function.arguments"),
    ],
    ids=["not-a-list", "no-function", "no-id", "not-function", "array-arguments"],
)
def test_parse_tool_calls_names_the_call(tool_calls: Any, param: str) -> None:
    with pytest.raises(BadRequestError) as info:
        shapes.parse_tool_calls(tool_calls, "messages[1]")
    assert info.value.param == param


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [(None, {}), ("", {}), ("  ", {}), ({"a": 1}, {"a": 1}), ('{"a": [1]}', {"a": [1]})],
    ids=["null", "empty", "blank", "dict", "json"],
)
def test_parse_arguments(arguments: Any, expected: dict[str, Any]) -> None:
    assert shapes.parse_arguments(arguments, "p") == expected


@pytest.mark.parametrize(
    ("arguments", "message"),
    [("{bad", "encoded as a string"), (5, "encoded as a string"), ("[1]", "not a list or scalar"),
     ("42", "not a list or scalar")],
    ids=["invalid-json", "number", "array", "scalar"],
)
def test_parse_arguments_refuses_non_objects(arguments: Any, message: str) -> None:
    with pytest.raises(BadRequestError) as info:
        shapes.parse_arguments(arguments, "p")
    assert info.value.param == "p"
    assert message in info.value.message


def test_message_tool_call_id() -> None:
    assert shapes.message_tool_call_id({"role": "tool", "tool_call_id": "c1"}, "messages[2]") == "c1"
    with pytest.raises(BadRequestError) as info:
        shapes.message_tool_call_id({"role": "tool", "tool_call_id": ""}, "messages[2]")
    assert info.value.param == "messages[2].tool_call_id"


def test_function_tools() -> None:
    tools = shapes.function_tools([WEATHER_TOOL, {"type": "function", "function": {"name": "now"}}], provider="Acme")
    assert tools == [
        shapes.FunctionTool("weather", "Current weather", WEATHER_TOOL["function"]["parameters"]),
        shapes.FunctionTool("now", None, {"type": "object", "properties": {}}),
    ]
    assert shapes.function_tools(None, provider="Acme") == []


@pytest.mark.parametrize(
    ("tools", "param"),
    [("x", "tools"), ([WEATHER_TOOL, {"type": "code_interpreter"}], "tools[1].type"),
     ([{"type": "function", "function": {}}], "tools[0].function.name")],
    ids=["not-a-list", "non-function", "nameless"],
)
def test_function_tools_names_the_tool(tools: Any, param: str) -> None:
    with pytest.raises(BadRequestError) as info:
        shapes.function_tools(tools, provider="Acme")
    assert info.value.param == param
    if param.endswith(".type"):
        assert "can be sent to Acme" in info.value.message


@pytest.mark.parametrize(
    ("choice", "expected"),
    [(None, None), ("auto", ("auto", None)), ("required", ("required", None)), ("none", ("none", None)),
     ({"type": "function", "function": {"name": "f"}}, ("function", "f"))],
    ids=["absent", "auto", "required", "none", "named"],
)
def test_parse_tool_choice(choice: Any, expected: tuple[str, str | None] | None) -> None:
    assert shapes.parse_tool_choice(choice) == expected


@pytest.mark.parametrize(
    "choice", ["sometimes", {"type": "function"}, {"type": "function", "function": {}}, ["auto"]],
    ids=["unknown-string", "no-function", "no-name", "list"],
)
def test_parse_tool_choice_refuses_the_rest(choice: Any) -> None:
    with pytest.raises(BadRequestError) as info:
        shapes.parse_tool_choice(choice)
    assert info.value.param == "tool_choice"


# ------------------------------------------------------------------------ response


def test_openai_tool_call_dumps_compact_json() -> None:
    call = shapes.openai_tool_call("t1", "weather", {"city": "Zürich", "days": [1, 2]})
    assert call == {"id": "t1", "type": "function",
                    "function": {"name": "weather", "arguments": '{"city":"Zürich","days":[1,2]}'}}
    assert shapes.openai_tool_call("t2", "now", None)["function"]["arguments"] == "{}"


def test_chat_completion_joins_text() -> None:
    usage = expected_usage(1, 2, 3)
    out = shapes.chat_completion(
        completion_id="id-1", model="m", text_parts=["Hello ", "world"], tool_calls=[], finish_reason="stop",
        usage=usage,
    )
    assert out["id"] == "id-1"
    assert out["object"] == "chat.completion"
    assert isinstance(out["created"], int)
    assert out["model"] == "m"
    assert out["choices"] == assistant_choice("Hello world", "stop")
    assert out["usage"] == usage


def test_chat_completion_content_is_null_only_beside_tool_calls() -> None:
    call = shapes.openai_tool_call("t1", "f", {})
    out = shapes.chat_completion(
        completion_id="i", model="m", text_parts=[], tool_calls=[call], finish_reason="tool_calls", usage={}
    )
    assert out["choices"][0]["message"] == {"role": "assistant", "content": None, "refusal": None, "tool_calls": [call]}
    empty = shapes.chat_completion(
        completion_id="i", model="m", text_parts=[], tool_calls=[], finish_reason="stop", usage={}
    )
    assert empty["choices"][0]["message"]["content"] == ""


def test_new_completion_id_is_fresh() -> None:
    first, second = shapes.new_completion_id(), shapes.new_completion_id()
    assert first.startswith("chatcmpl-") and first != second


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [("done", "stop"), ("too_long", "length"), ("something_new", "stop"), (None, "stop"), (3, "stop")],
    ids=["mapped-stop", "mapped-length", "unknown", "null", "not-a-string"],
)
def test_openai_finish_reason(stop_reason: Any, finish: str) -> None:
    assert shapes.openai_finish_reason(stop_reason, {"done": "stop", "too_long": "length"}) == finish


def _usage(raw: Any) -> dict[str, Any]:
    return shapes.openai_usage(raw, prompt="in", cache_read="read", cache_write="write", completion="out")


def test_openai_usage_counts_cache_tokens_into_prompt_tokens() -> None:
    assert _usage({"in": 20, "read": 1000, "write": 300, "out": 7}) == expected_usage(
        1320, 7, 1327, cached=1000, cache_write=300
    )
    assert _usage({"in": None, "out": "4"}) == expected_usage(0, 4, 4)
    assert _usage(None) == expected_usage(0, 0, 0)


# -------------------------------------------------------------------------- stream


def test_chunk_stream_text_then_finish_without_usage() -> None:
    out = shapes.ChunkStream(model="m", include_usage=False)
    chunks = [*out.start(), *out.start(), *out.text("Hel"), *out.text(""), *out.text("lo!"), *out.finish("stop"),
              *out.finish("length"), *out.usage(expected_usage(1, 1, 2))]
    assert [c["choices"][0]["delta"] for c in chunks] == TEXT_STREAM_DELTAS
    assert [c["choices"][0]["finish_reason"] for c in chunks] == TEXT_STREAM_FINISH_REASONS
    for chunk in chunks:
        assert chunk["object"] == "chat.completion.chunk"
        assert chunk["model"] == "m"
        assert chunk["choices"][0]["index"] == 0 and chunk["choices"][0]["logprobs"] is None
        assert "usage" not in chunk
    assert len({c["id"] for c in chunks}) == 1 and chunks[0]["id"].startswith("chatcmpl-")
    assert len({c["created"] for c in chunks}) == 1


def test_chunk_stream_with_usage_and_a_provider_id() -> None:
    out = shapes.ChunkStream(model="m", include_usage=True)
    out.completion_id = "msg_1"
    chunks = [*out.finish("stop"), *out.usage(expected_usage(3, 4, 7))]
    assert [c["id"] for c in chunks] == ["msg_1", "msg_1", "msg_1"]
    assert [c["usage"] for c in chunks] == [None, None, expected_usage(3, 4, 7)]
    assert chunks[-1]["choices"] == []


def test_chunk_stream_numbers_tool_calls_by_provider_block() -> None:
    out = shapes.ChunkStream(model="m", include_usage=False)
    chunks = [
        *out.text("Checking."),
        *out.open_tool_call(3, "A", "weather"),
        *out.tool_arguments(3, ""),
        *out.tool_arguments(3, '{"city": "Pa'),
        *out.tool_arguments(3, 'ris"}'),
        *out.tool_arguments(9, "{}"),  # no tool call opened at block 9: dropped
        *out.open_tool_call(5, "B", "time"),
        *out.tool_arguments(5, "{}"),
        *out.finish("tool_calls"),
    ]
    assert deltas(chunks) == tool_call_stream_deltas("A", "B")
    assert json.loads("".join(d["tool_calls"][0]["function"]["arguments"] for d in deltas(chunks)[2:5])) == {
        "city": "Paris"
    }
