"""Request parsing: 400s that name the field, unknown fields kept."""

from __future__ import annotations

import json
from typing import Any

import pytest

from serve_app.http.protocol import parse_chat_request
from tollgate_core.errors import BadRequestError

HELLO = [{"role": "user", "content": "hi"}]


def _parse(body: Any) -> Any:
    return parse_chat_request(json.dumps(body).encode())


def test_full_request_parses_and_keeps_unknown_fields() -> None:
    req = _parse({
        "model": "m",
        "messages": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": [{"type": "text", "text": "look"},
                                         {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]},
            {"role": "assistant", "content": None,
             "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "ok"},
        ],
        "stream": True, "stream_options": {"include_usage": True}, "temperature": 0, "top_p": 1,
        "max_completion_tokens": 5, "stop": ["x"], "n": 1, "user": "u",
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        "tool_choice": "auto", "response_format": {"type": "json_object"}, "seed": 7,
    })
    assert req.include_usage
    internal = req.to_internal()
    assert internal["seed"] == 7
    assert internal["messages"][1]["content"][1]["image_url"]["url"].startswith("data:")


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": HELLO}, "model"),
        ({"model": "m", "messages": []}, "messages"),
        ({"model": "m", "messages": [{"role": "user"}]}, "messages[0]"),
        ({"model": "m", "messages": [{"role": "tool", "content": "x"}]}, "messages[0]"),
        ({"model": "m", "messages": HELLO, "top_p": 2}, "top_p"),
        ({"model": "m", "messages": HELLO, "stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"model": "m", "messages": HELLO, "stream_options": {"include_usage": True}}, None),
        ({"model": "m", "messages": HELLO, "tools": [{"type": "function", "function": {}}]}, "tools[0].function.name"),
    ],
    ids=["model", "empty-messages", "no-content", "tool-without-id", "top-p", "too-many-stops",
         "stream-options-without-stream", "tool-without-name"],
)
def test_errors_name_the_parameter(body: dict[str, Any], param: str | None) -> None:
    with pytest.raises(BadRequestError) as info:
        _parse(body)
    assert info.value.status_code == 400
    if param is not None:
        assert info.value.param == param
        assert param in info.value.message


def test_invalid_json_and_non_object() -> None:
    with pytest.raises(BadRequestError, match="not valid JSON"):
        parse_chat_request(b"{")
    with pytest.raises(BadRequestError, match="JSON object"):
        parse_chat_request(b"[1, 2]")
