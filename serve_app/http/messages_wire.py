"""Anthropic's Messages API (``POST /v1/messages``, version 2023-06-01) in front of the chat pipeline.

A Messages request becomes a chat-completions request (:func:`to_chat_request`), goes through the
same pipeline as any other (keys, budgets, guardrail, cache, routing, spend, audit), and its answer
comes back as a Message (:func:`to_message`) or as Anthropic's event stream (:class:`MessageEvents`).
The router picks the target, so a Messages client can be answered by an OpenAI, Bedrock or local
target as well as by Anthropic; the provider adapters do the second half of the translation.

Where the formats differ:

- ``system`` (a string or text blocks) becomes the first, system, message, and a ``system`` turn
  (Claude Code sends them) a system message in its place; a text block's ``cache_control`` is kept
  on its part, which the Anthropic adapter passes on.
- A user turn's ``tool_result`` blocks become ``tool`` messages before the rest of the turn;
  an assistant turn's ``tool_use`` blocks become ``tool_calls``; ``thinking`` blocks are dropped.
- ``tool_choice`` ``any`` is ``required``, ``tool`` names the function, and
  ``disable_parallel_tool_use`` is ``parallel_tool_calls: false``.
- ``top_k``, ``thinking``, ``context_management`` and ``output_config`` have no chat-completions
  form and are dropped; ``document``
  blocks are refused.
- ``usage.input_tokens`` counts uncached input only, as Anthropic does; cache reads and writes
  are ``cache_read_input_tokens`` and ``cache_creation_input_tokens``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from serve_app.http.protocol import require
from tollgate_core.errors import BadRequestError, TollgateError

__all__ = ["MessageEvents", "anthropic_error_body", "anthropic_error_type", "to_chat_request", "to_message"]

_STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use",
                 "function_call": "tool_use", "content_filter": "refusal"}


def _text_parts(content: Any, param: str) -> str | list[dict[str, Any]]:
    """A system prompt or tool result's content: a string, or text parts (``cache_control`` kept)."""
    if isinstance(content, str):
        return content
    require(isinstance(content, list), f"{param}: a string or a list of text blocks", param)
    parts = []
    for i, block in enumerate(content):
        require(isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str),
                 f"{param}[{i}]: only text blocks are allowed here", f"{param}[{i}]")
        parts.append({"type": "text", "text": block["text"],
                      **({"cache_control": block["cache_control"]} if "cache_control" in block else {})})
    return parts


def _image_part(block: dict[str, Any], param: str) -> dict[str, Any]:
    source = block.get("source")
    require(isinstance(source, dict), f"{param}.source: an object is required", f"{param}.source")
    if source.get("type") == "base64":
        media, data = source.get("media_type"), source.get("data")
        require(isinstance(media, str) and isinstance(data, str), f"{param}.source: media_type and data are required",
                 f"{param}.source")
        return {"type": "image_url", "image_url": {"url": f"data:{media};base64,{data}"}}
    if source.get("type") == "url":
        require(isinstance(source.get("url"), str), f"{param}.source.url: a string is required", f"{param}.source.url")
        return {"type": "image_url", "image_url": {"url": source["url"]}}
    raise BadRequestError(f"{param}.source.type: base64 or url", param=f"{param}.source.type")


def _user_messages(content: Any, param: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"role": "user", "content": content}]
    require(isinstance(content, list), f"{param}: a string or a list of content blocks", param)
    tools: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for i, block in enumerate(content):
        where = f"{param}[{i}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            require(isinstance(block.get("text"), str), f"{where}.text: a string is required", f"{where}.text")
            parts.append({"type": "text", "text": block["text"],
                          **({"cache_control": block["cache_control"]} if "cache_control" in block else {})})
        elif kind == "image":
            parts.append(_image_part(block, where))
        elif kind == "tool_result":
            require(isinstance(block.get("tool_use_id"), str), f"{where}.tool_use_id: a string is required",
                     f"{where}.tool_use_id")
            result = block.get("content", "")
            text = result if isinstance(result, str) else "".join(
                p["text"] for p in _text_parts(result, f"{where}.content") if isinstance(p, dict))
            if block.get("is_error"):
                text = f"Error: {text}"
            tools.append({"role": "tool", "tool_call_id": block["tool_use_id"], "content": text})
        else:
            raise BadRequestError(f"{where}.type: {kind!r} blocks are not supported here (text, image, tool_result)",
                                  param=f"{where}.type")
    return tools + ([{"role": "user", "content": parts}] if parts else [])


def _assistant_message(content: Any, param: str) -> dict[str, Any]:
    if isinstance(content, str):
        return {"role": "assistant", "content": content}
    require(isinstance(content, list), f"{param}: a string or a list of content blocks", param)
    text, calls = [], []
    for i, block in enumerate(content):
        where = f"{param}[{i}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            text.append(str(block.get("text") or ""))
        elif kind == "tool_use":
            require(isinstance(block.get("id"), str) and isinstance(block.get("name"), str),
                     f"{where}: a tool_use block needs id and name", where)
            arguments = json.dumps(block.get("input") or {}, ensure_ascii=False, separators=(",", ":"))
            calls.append({"id": block["id"], "type": "function", "function": {"name": block["name"],
                                                                               "arguments": arguments}})
        elif kind in ("thinking", "redacted_thinking"):
            continue
        else:
            raise BadRequestError(f"{where}.type: {kind!r} blocks are not supported in an assistant turn",
                                  param=f"{where}.type")
    message: dict[str, Any] = {"role": "assistant", "content": "".join(text) if text or not calls else None}
    if calls:
        message["tool_calls"] = calls
    return message


def _tool_choice(choice: Any) -> tuple[Any, bool | None]:
    if choice is None:
        return None, None
    require(isinstance(choice, dict), "tool_choice: an object such as {\"type\": \"auto\"}", "tool_choice")
    parallel = False if choice.get("disable_parallel_tool_use") else None
    kind = choice.get("type")
    if kind == "tool":
        require(isinstance(choice.get("name"), str), "tool_choice.name: a string is required", "tool_choice.name")
        return {"type": "function", "function": {"name": choice["name"]}}, parallel
    mapped = {"auto": "auto", "any": "required", "none": "none"}.get(str(kind))
    require(mapped is not None, "tool_choice.type: auto, any, tool or none", "tool_choice.type")
    return mapped, parallel


def to_chat_request(body: Any) -> dict[str, Any]:
    """The chat-completions body for a Messages request body; :class:`BadRequestError` names the field."""
    require(isinstance(body, dict), "the request body must be a JSON object", "")
    model, max_tokens, turns = body.get("model"), body.get("max_tokens"), body.get("messages")
    require(isinstance(model, str) and bool(model), "model: a model name is required", "model")
    if isinstance(max_tokens, float) and max_tokens.is_integer():
        max_tokens = int(max_tokens)
    require(isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens >= 1,
             "max_tokens: a positive integer is required", "max_tokens")
    require(isinstance(turns, list) and bool(turns), "messages: at least one message is required", "messages")
    messages: list[dict[str, Any]] = []
    if body.get("system"):
        messages.append({"role": "system", "content": _text_parts(body["system"], "system")})
    for i, turn in enumerate(turns):
        role = turn.get("role") if isinstance(turn, dict) else None
        require(role in ("user", "assistant", "system"), f"messages[{i}].role: user, assistant or system",
                 f"messages[{i}].role")
        content = turn.get("content")
        if role == "system":  # Claude Code sends context as system turns between the others
            messages.append({"role": "system", "content": _text_parts(content, f"messages[{i}].content")})
        elif role == "user":
            messages += _user_messages(content, f"messages[{i}].content")
        else:
            messages.append(_assistant_message(content, f"messages[{i}].content"))
    chat: dict[str, Any] = {"model": model, "messages": messages, "max_tokens": max_tokens}
    for ours, theirs in (("temperature", "temperature"), ("top_p", "top_p")):
        if body.get(theirs) is not None:
            chat[ours] = body[theirs]
    if body.get("stop_sequences"):
        chat["stop"] = body["stop_sequences"]
    if body.get("tools"):
        require(isinstance(body["tools"], list), "tools: a list is required", "tools")
        chat["tools"] = [_function_tool(tool, f"tools[{i}]") for i, tool in enumerate(body["tools"])]
    choice, parallel = _tool_choice(body.get("tool_choice"))
    if choice is not None:
        chat["tool_choice"] = choice
    if parallel is not None:
        chat["parallel_tool_calls"] = parallel
    user = (body.get("metadata") or {}).get("user_id") if isinstance(body.get("metadata"), dict) else None
    if user:
        chat["user"] = str(user)
    if body.get("stream"):
        chat["stream"] = True
        chat["stream_options"] = {"include_usage": True}
    return chat


def _function_tool(tool: Any, param: str) -> dict[str, Any]:
    require(isinstance(tool, dict) and isinstance(tool.get("name"), str), f"{param}.name: a string is required",
             f"{param}.name")
    require(tool.get("type") in (None, "custom"),
             f"{param}.type: {tool.get('type')!r}: only client tools (name, input_schema) are supported", f"{param}.type")
    function: dict[str, Any] = {"name": tool["name"], "parameters": tool.get("input_schema") or {"type": "object"}}
    if tool.get("description"):
        function["description"] = tool["description"]
    marker = {"cache_control": tool["cache_control"]} if isinstance(tool.get("cache_control"), dict) else {}
    return {"type": "function", "function": function, **marker}


def _usage(usage: Any) -> dict[str, int]:
    u = usage if isinstance(usage, dict) else {}
    details = u.get("prompt_tokens_details") or {}
    read, write = int(details.get("cached_tokens") or 0), int(details.get("cache_write_tokens") or 0)
    return {"input_tokens": max(0, int(u.get("prompt_tokens") or 0) - read - write),
            "output_tokens": int(u.get("completion_tokens") or 0),
            "cache_creation_input_tokens": write, "cache_read_input_tokens": read}


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex[:24]}"


def to_message(completion: dict[str, Any], model: str) -> dict[str, Any]:
    """A Message for a ``chat.completion``; ``model`` is the name the client asked for."""
    choice = (completion.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    content: list[dict[str, Any]] = []
    if message.get("content"):
        content.append({"type": "text", "text": message["content"]})
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        try:
            tool_input = json.loads(function.get("arguments") or "{}")
        except json.JSONDecodeError:
            tool_input = {"_raw_arguments": function.get("arguments")}
        content.append({"type": "tool_use", "id": call.get("id") or f"toolu_{uuid.uuid4().hex[:24]}",
                        "name": function.get("name"), "input": tool_input})
    return {
        "id": new_message_id(), "type": "message", "role": "assistant", "model": model, "content": content,
        "stop_reason": _STOP_REASONS.get(str(choice.get("finish_reason")), "end_turn"), "stop_sequence": None,
        "usage": _usage(completion.get("usage")),
    }


class MessageEvents:
    """Turns a chat-completions chunk stream, chunk by chunk, into Anthropic's Messages events.

    ``message_start``, a ``ping``, then per content block ``content_block_start``, its deltas
    (``text_delta``, ``input_json_delta``) and ``content_block_stop``; at the end ``message_delta``
    with the stop reason and usage, and ``message_stop``.
    """

    def __init__(self, model: str) -> None:
        self._model = model
        self._started = False
        self._open: int | None = None  # index of the open content block
        self._open_kind: str | None = None
        self._blocks = 0
        self._tool_blocks: dict[int, int] = {}  # chat tool call index -> content block index
        self._stop_reason = "end_turn"
        self._usage: dict[str, int] = _usage(None)

    def _start(self) -> list[tuple[str, dict[str, Any]]]:
        if self._started:
            return []
        self._started = True
        message = {"id": new_message_id(), "type": "message", "role": "assistant", "model": self._model,
                   "content": [], "stop_reason": None, "stop_sequence": None, "usage": _usage(None)}
        return [("message_start", {"type": "message_start", "message": message}), ("ping", {"type": "ping"})]

    def _close(self) -> list[tuple[str, dict[str, Any]]]:
        if self._open is None:
            return []
        index, self._open, self._open_kind = self._open, None, None
        return [("content_block_stop", {"type": "content_block_stop", "index": index})]

    def _open_block(self, kind: str, block: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        events = self._close()
        self._open, self._open_kind = self._blocks, kind
        self._blocks += 1
        return [*events, ("content_block_start", {"type": "content_block_start", "index": self._open,
                                                   "content_block": block})]

    def feed(self, chunk: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        events = self._start()
        if chunk.get("usage"):
            self._usage = _usage(chunk["usage"])
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                if self._open_kind != "text":
                    events += self._open_block("text", {"type": "text", "text": ""})
                events.append(("content_block_delta", {"type": "content_block_delta", "index": self._open,
                                                       "delta": {"type": "text_delta", "text": delta["content"]}}))
            for call in delta.get("tool_calls") or []:
                events += self._tool_delta(call)
            if choice.get("finish_reason"):
                self._stop_reason = _STOP_REASONS.get(str(choice["finish_reason"]), "end_turn")
        return events

    def _tool_delta(self, call: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        events: list[tuple[str, dict[str, Any]]] = []
        n = int(call.get("index", 0))
        function = call.get("function") or {}
        if n not in self._tool_blocks:
            block = {"type": "tool_use", "id": call.get("id") or f"toolu_{uuid.uuid4().hex[:24]}",
                     "name": function.get("name"), "input": {}}
            events += self._open_block("tool_use", block)
            self._tool_blocks[n] = self._blocks - 1
        if function.get("arguments"):
            events.append(("content_block_delta", {
                "type": "content_block_delta", "index": self._tool_blocks[n],
                "delta": {"type": "input_json_delta", "partial_json": function["arguments"]}}))
        return events

    def finish(self) -> list[tuple[str, dict[str, Any]]]:
        """The closing events, after the last chunk."""
        return [*self._start(), *self._close(),
                ("message_delta", {"type": "message_delta",
                                   "delta": {"stop_reason": self._stop_reason, "stop_sequence": None},
                                   "usage": self._usage}),
                ("message_stop", {"type": "message_stop"})]


_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 402: "billing_error",
                403: "permission_error", 404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
                503: "overloaded_error", 529: "overloaded_error"}


def anthropic_error_type(status: int) -> str:
    return _ERROR_TYPES.get(status, "invalid_request_error" if 400 <= status < 500 else "api_error")


def anthropic_error_body(err: TollgateError) -> dict[str, Any]:
    """Anthropic's error shape for a gateway error; the gateway's own code stays readable in the message."""
    message = f"{err.message} ({err.code})" if err.code else err.message
    return {"type": "error", "error": {"type": anthropic_error_type(err.status_code), "message": message}}
