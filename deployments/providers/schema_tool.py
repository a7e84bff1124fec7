"""``response_format: {"type": "json_schema"}`` on providers without schema-constrained output, by forcing a tool.

Anthropic and Bedrock Converse have no ``response_format``; both enforce a tool's input schema.
So the schema becomes one more function tool, which the request forces (or, when the client
offered tools of its own, requires one of them or the schema tool), and the answer's call of that
tool comes back as the message's text: its arguments are the JSON object the schema describes,
and the finish reason is ``stop``. Works on whole answers (:func:`unwrap_schema_call`) and on
chunk streams (:class:`SchemaCallStream`).
"""

from __future__ import annotations

import re
from typing import Any

from tollgate_core.errors import BadRequestError

__all__ = ["SchemaCallStream", "schema_as_tool", "unwrap_schema_call"]

_FALLBACK_NAME = "json_response"


def schema_as_tool(request: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The request with a ``json_schema`` response format turned into a forced tool, and that tool's name."""
    fmt = request.get("response_format")
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        return request, None
    spec = fmt.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("schema"), dict):
        raise BadRequestError("response_format.json_schema needs a schema object", param="response_format.json_schema")
    tools = list(request.get("tools") or [])
    taken = {(t.get("function") or {}).get("name") for t in tools if isinstance(t, dict)}
    name = str(spec.get("name") or "")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name) or name in taken:
        name = _FALLBACK_NAME
    description = spec.get("description") or "Give the answer as this JSON object."
    tool = {"type": "function", "function": {"name": name, "description": description, "parameters": spec["schema"]}}
    forced: Any = "required" if tools else {"type": "function", "function": {"name": name}}
    rewritten = {k: v for k, v in request.items() if k != "response_format"}
    rewritten.update(tools=[*tools, tool], tool_choice=forced)
    return rewritten, name


def unwrap_schema_call(completion: dict[str, Any], name: str | None) -> dict[str, Any]:
    """A ``chat.completion`` whose call of the schema tool is turned into the message's JSON text."""
    if name is None:
        return completion
    for choice in completion.get("choices") or []:
        message = choice.get("message") or {}
        calls = message.get("tool_calls") or []
        answer = [c for c in calls if (c.get("function") or {}).get("name") == name]
        if not answer:
            continue
        rest = [c for c in calls if c not in answer]
        message["content"] = (message.get("content") or "") + (answer[0]["function"].get("arguments") or "")
        if rest:
            message["tool_calls"] = rest
        else:
            message.pop("tool_calls", None)
            choice["finish_reason"] = "stop"
    return completion


class SchemaCallStream:
    """Rewrites a chunk stream: the schema tool's argument deltas become content deltas."""

    def __init__(self, name: str | None) -> None:
        self._name = name
        self._schema_index: int | None = None
        self._renumbered: dict[int, int] = {}
        self._other_calls = False

    def feed(self, chunk: dict[str, Any]) -> dict[str, Any]:
        if self._name is None:
            return chunk
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            calls, text = [], ""
            for call in delta.get("tool_calls") or []:
                index = int(call.get("index", 0))
                if (call.get("function") or {}).get("name") == self._name:
                    self._schema_index = index
                if index == self._schema_index:
                    text += (call.get("function") or {}).get("arguments") or ""
                    continue
                self._other_calls = True
                calls.append({**call, "index": self._renumbered.setdefault(index, len(self._renumbered))})
            if "tool_calls" in delta:
                if calls:
                    delta["tool_calls"] = calls
                else:
                    del delta["tool_calls"]
                if text:
                    delta["content"] = (delta.get("content") or "") + text
            if choice.get("finish_reason") == "tool_calls" and not self._other_calls:
                choice["finish_reason"] = "stop"
        return chunk
