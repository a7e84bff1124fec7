"""Translate between OpenAI Chat Completions and Anthropic's Messages API (2023-06-01).

Plain functions on plain dicts, no I/O: the Anthropic provider client sends what
:func:`to_anthropic_request` builds, and turns what comes back into OpenAI's shapes with
:func:`from_anthropic_response` (JSON) or :class:`AnthropicStreamTranslator` (SSE).

Where the two formats differ, this module decides as follows:

- ``system`` and ``developer`` messages, wherever they stand, become the top-level
  ``system`` blocks in their order (Anthropic has no mid-conversation system turn).
- Consecutive messages of the same role are merged, and ``tool`` messages become
  ``tool_result`` blocks of a user turn, because Anthropic needs user/assistant alternation.
  Within a user turn the ``tool_result`` blocks go first, as Anthropic requires.
- Blank text parts are dropped (Anthropic rejects whitespace-only text blocks); a
  conversation left with no turn at all is a :class:`BadRequestError`.
- ``temperature`` is clamped to Anthropic's range 0-1 (OpenAI allows up to 2): the router,
  not the caller, picks the provider, so a request valid for OpenAI must not fail here.
- ``response_format`` ``json_object`` adds nothing (OpenAI itself requires the prompt to ask
  for JSON); ``json_schema`` is refused, since Anthropic has no schema-constrained output.
- ``n`` other than 1 and ``logprobs`` are refused; ``seed``, penalties and ``logit_bias`` are
  ignored. ``parallel_tool_calls: false`` becomes ``disable_parallel_tool_use``.
- Thinking blocks and server-tool blocks in responses have no Chat Completions form and are
  dropped.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from serve_app.errors import BadRequestError, UpstreamError, UpstreamStatusError, from_error_body

__all__ = [
    "AnthropicStreamTranslator",
    "anthropic_error",
    "from_anthropic_response",
    "to_anthropic_request",
]

_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})

_FINISH_REASONS: dict[str, str] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

# Status an in-stream ``error`` event stands for; Anthropic sends 529 for overload.
_STREAM_ERROR_STATUS: dict[str, int] = {"overloaded_error": 529, "rate_limit_error": 429}


# --------------------------------------------------------------------------- request


def to_anthropic_request(req: dict[str, Any], upstream_model: str, *, default_max_tokens: int = 4096) -> dict[str, Any]:
    """Build the body of ``POST /v1/messages`` from an OpenAI chat request."""
    _refuse_unsupported(req)
    system, messages = _convert_messages(req.get("messages"))
    body: dict[str, Any] = {"model": upstream_model, "max_tokens": _max_tokens(req, default_max_tokens)}
    if system:
        body["system"] = system
    body["messages"] = messages
    for key in ("temperature", "top_p"):
        value = req.get(key)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise BadRequestError(f"{key} must be a number.", param=key)
            body[key] = min(float(value), 1.0) if key == "temperature" else float(value)
    stop = [req["stop"]] if isinstance(req.get("stop"), str) else req.get("stop")
    if stop is not None and not (isinstance(stop, list) and all(isinstance(x, str) for x in stop)):
        raise BadRequestError("stop must be a string or a list of strings.", param="stop")
    if stop:
        body["stop_sequences"] = stop
    if req.get("user"):
        body["metadata"] = {"user_id": str(req["user"])}
    if req.get("stream"):
        body["stream"] = True
    tools = _convert_tools(req.get("tools"))
    if tools:
        body["tools"] = tools
        choice = _convert_tool_choice(req.get("tool_choice"))
        if req.get("parallel_tool_calls") is False and (choice is None or choice["type"] != "none"):
            choice = {**(choice or {"type": "auto"}), "disable_parallel_tool_use": True}
        if choice is not None:
            body["tool_choice"] = choice
    return body


def _refuse_unsupported(req: dict[str, Any]) -> None:
    if req.get("n") not in (None, 1):
        raise BadRequestError("Anthropic models return one choice per request; set n to 1 or leave it out.", param="n")
    if req.get("logprobs") or req.get("top_logprobs"):
        raise BadRequestError("Anthropic models do not return log probabilities; leave logprobs out.", param="logprobs")
    fmt = req.get("response_format")
    kind = fmt.get("type") if isinstance(fmt, dict) else fmt
    if kind == "json_schema":
        raise BadRequestError(
            "Anthropic models cannot enforce a JSON schema; use response_format "
            '{"type": "json_object"} and describe the schema in the prompt, or use an OpenAI model.',
            param="response_format",
        )
    if kind not in (None, "text", "json_object"):
        raise BadRequestError(
            f"response_format type {kind!r} is not supported; use text or json_object.",
            param="response_format.type",
        )


def _max_tokens(req: dict[str, Any], default: int) -> int:
    for key in ("max_completion_tokens", "max_tokens"):
        value = req.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise BadRequestError(f"{key} must be a positive integer.", param=key)
        return value
    return default


def _convert_messages(raw: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if not isinstance(raw, list) or not raw:
        raise BadRequestError("messages must be a non-empty list.", param="messages")
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    for i, msg in enumerate(raw):
        path = f"messages[{i}]"
        if not isinstance(msg, dict):
            raise BadRequestError(f"{path} must be an object with a role.", param=path)
        role = msg.get("role")
        if role in ("system", "developer"):
            system.extend(_text_blocks(msg.get("content"), path))
            continue
        if role == "user":
            blocks = _user_blocks(msg.get("content"), path)
        elif role == "assistant":
            blocks = _text_blocks(msg.get("content"), path)
            blocks.extend(_tool_use_blocks(msg.get("tool_calls"), path))
        elif role == "tool":
            role, blocks = "user", [_tool_result_block(msg, path)]
        else:
            raise BadRequestError(
                f"{path}.role {role!r} is not supported; use system, developer, user, "
                "assistant or tool (legacy 'function' messages must be sent as 'tool').",
                param=f"{path}.role",
            )
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    if not turns:
        raise BadRequestError(
            "messages must contain at least one user or assistant message with content.",
            param="messages",
        )
    for turn in turns:
        if turn["role"] == "user":
            turn["content"].sort(key=lambda b: b["type"] != "tool_result")  # stable
    return system, turns


def _texts(content: Any, path: str) -> list[str]:
    """Non-blank texts of a text-only ``content`` (system, assistant, tool messages)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [content] if content.strip() else []
    if not isinstance(content, list):
        raise BadRequestError(f"{path}.content must be a string or a list of parts.", param=f"{path}.content")
    texts = (_part_text(part, f"{path}.content[{j}]", images=False) for j, part in enumerate(content))
    return [t for t in texts if t]


def _text_blocks(content: Any, path: str) -> list[dict[str, Any]]:
    """Text blocks of a text-only ``content``; a part's Anthropic ``cache_control`` is kept."""
    if not isinstance(content, list):
        return [{"type": "text", "text": t} for t in _texts(content, path)]
    blocks = []
    for j, part in enumerate(content):
        text = _part_text(part, f"{path}.content[{j}]", images=False)
        if text:
            blocks.append(_with_cache_control({"type": "text", "text": text}, part))
    return blocks


def _with_cache_control(block: dict[str, Any], part: Any) -> dict[str, Any]:
    if isinstance(part, dict) and isinstance(part.get("cache_control"), dict):
        block["cache_control"] = part["cache_control"]
    return block


def _part_text(part: Any, param: str, *, images: bool) -> str:
    """The text of a text (or refusal) part; blank text gives ""."""
    kind = part.get("type") if isinstance(part, dict) else None
    if kind == "text" and isinstance(part.get("text"), str):
        return str(part["text"]) if part["text"].strip() else ""
    if kind == "refusal" and isinstance(part.get("refusal"), str):
        return str(part["refusal"])
    allowed = "text or image_url parts" if images else "text parts (images only in user messages)"
    raise BadRequestError(f"{param} has type {kind!r}, which cannot be sent here; use {allowed}.", param=param)


def _user_blocks(content: Any, path: str) -> list[dict[str, Any]]:
    if not isinstance(content, list):
        return [{"type": "text", "text": t} for t in _texts(content, path)]
    blocks: list[dict[str, Any]] = []
    for j, part in enumerate(content):
        param = f"{path}.content[{j}]"
        if isinstance(part, dict) and part.get("type") == "image_url":
            blocks.append(_image_block(part.get("image_url"), param))
        elif text := _part_text(part, param, images=True):
            blocks.append(_with_cache_control({"type": "text", "text": text}, part))
    return blocks


def _image_block(image_url: Any, param: str) -> dict[str, Any]:
    url = image_url.get("url") if isinstance(image_url, dict) else image_url
    if not isinstance(url, str) or not url:
        raise BadRequestError(f"{param}.image_url.url must be a data: or https: URL.", param=param)
    if url.startswith("data:"):
        header, _, data = url[5:].partition(",")
        media_type, _, encoding = header.partition(";")
        if encoding != "base64" or not data:
            raise BadRequestError("Image data URLs must be base64 encoded (data:image/png;base64,...).", param=param)
        if media_type not in _IMAGE_TYPES:
            raise BadRequestError(
                f"Image type {media_type!r} is not supported by Anthropic; send JPEG, PNG, GIF or WebP.",
                param=param,
            )
        return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}
    if url.startswith(("https://", "http://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise BadRequestError("Image URLs must be https: URLs or base64 data URLs (data:image/png;base64,...).", param=param)


def _tool_use_blocks(tool_calls: Any, path: str) -> list[dict[str, Any]]:
    if not tool_calls:
        return []
    if not isinstance(tool_calls, list):
        raise BadRequestError(f"{path}.tool_calls must be a list.", param=f"{path}.tool_calls")
    blocks: list[dict[str, Any]] = []
    for k, call in enumerate(tool_calls):
        where = f"{path}.tool_calls[{k}]"
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not call.get("id") or not fn.get("name"):
            raise BadRequestError(f"{where} needs an id and a function with a name.", param=where)
        if call.get("type", "function") != "function":
            raise BadRequestError(f"{where}.type must be 'function'.", param=f"{where}.type")
        blocks.append(
            {"type": "tool_use", "id": call["id"], "name": fn["name"],
             "input": _parse_arguments(fn.get("arguments"), f"{where}.function.arguments")}
        )
    return blocks


def _parse_arguments(arguments: Any, param: str) -> dict[str, Any]:
    if arguments is None or (isinstance(arguments, str) and not arguments.strip()):
        return {}
    if isinstance(arguments, dict):
        return arguments
    try:
        parsed = json.loads(arguments)
    except (TypeError, ValueError) as exc:
        raise BadRequestError("Tool call arguments must be a JSON object encoded as a string.", param=param) from exc
    if not isinstance(parsed, dict):
        raise BadRequestError("Tool call arguments must be a JSON object, not a list or scalar.", param=param)
    return parsed


def _tool_result_block(msg: dict[str, Any], path: str) -> dict[str, Any]:
    if not msg.get("tool_call_id"):
        raise BadRequestError(
            f"{path} is a tool message without tool_call_id; set it to the id of the call it answers.",
            param=f"{path}.tool_call_id",
        )
    content = msg.get("content")
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": msg["tool_call_id"]}
    if isinstance(content, str):
        block["content"] = content
    else:
        block["content"] = [{"type": "text", "text": t} for t in _texts(content, path)]
    return block


def _convert_tools(tools: Any) -> list[dict[str, Any]]:
    if not tools:
        return []
    if not isinstance(tools, list):
        raise BadRequestError("tools must be a list of function tools.", param="tools")
    out: list[dict[str, Any]] = []
    for j, tool in enumerate(tools):
        if not isinstance(tool, dict) or tool.get("type") != "function":
            raise BadRequestError("Only tools of type 'function' can be sent to Anthropic.", param=f"tools[{j}].type")
        fn = tool.get("function")
        if not isinstance(fn, dict) or not fn.get("name"):
            raise BadRequestError("Each tool needs function.name.", param=f"tools[{j}].function.name")
        schema = fn.get("parameters") or {"type": "object", "properties": {}}
        spec: dict[str, Any] = {"name": fn["name"], "input_schema": schema}
        if fn.get("description"):
            spec["description"] = fn["description"]
        out.append(spec)
    return out


def _convert_tool_choice(choice: Any) -> dict[str, Any] | None:
    if choice is None:
        return None
    simple = {"auto": "auto", "required": "any", "none": "none"}
    if isinstance(choice, str) and choice in simple:
        return {"type": simple[choice]}
    if isinstance(choice, dict) and choice.get("type") == "function":
        name = (choice.get("function") or {}).get("name")
        if name:
            return {"type": "tool", "name": name}
    raise BadRequestError(
        'tool_choice must be "none", "auto", "required" or {"type": "function", "function": {"name": ...}}.',
        param="tool_choice",
    )


# -------------------------------------------------------------------------- response


def from_anthropic_response(body: dict[str, Any], *, model: str) -> dict[str, Any]:
    """Turn an Anthropic ``message`` object into an OpenAI ``chat.completion``."""
    texts: list[str] = []
    tool_calls: list[dict[str, Any]] = []
    for block in body.get("content") or []:
        if block.get("type") == "text":
            texts.append(block.get("text") or "")
        elif block.get("type") == "tool_use":
            tool_calls.append(
                {"id": block.get("id"), "type": "function",
                 "function": {"name": block.get("name"), "arguments": _dump(block.get("input"))}}
            )
    content = "".join(texts) if texts or not tool_calls else None  # None only beside tool calls, as OpenAI
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": body.get("id") or f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": message, "logprobs": None,
             "finish_reason": _finish_reason(body.get("stop_reason"))}
        ],
        "usage": _usage(body.get("usage")),
    }


def _dump(value: Any) -> str:
    return json.dumps(value if value is not None else {}, ensure_ascii=False, separators=(",", ":"))


def _finish_reason(stop_reason: Any) -> str:
    return _FINISH_REASONS.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"


def _usage(usage: Any) -> dict[str, Any]:
    u = usage if isinstance(usage, dict) else {}
    fresh, read, write, out = (
        int(u.get(k) or 0)
        for k in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "output_tokens")
    )
    prompt = fresh + read + write  # OpenAI's prompt_tokens includes cached tokens
    return {
        "prompt_tokens": prompt,
        "completion_tokens": out,
        "total_tokens": prompt + out,
        "prompt_tokens_details": {"cached_tokens": read, "cache_write_tokens": write},
    }


class AnthropicStreamTranslator:
    """Turns Anthropic SSE events, one at a time, into OpenAI ``chat.completion.chunk`` dicts.

    Keeps what a stream needs across events: the message id, which content block is which
    tool call, and the usage so far. ``feed`` never buffers text: each delta is emitted at once.
    """

    def __init__(self, *, model: str, include_usage: bool) -> None:
        self._model = model
        self._include_usage = include_usage
        self._id = f"chatcmpl-{uuid.uuid4().hex}"
        self._created = int(time.time())
        self._started = False
        self._finished = False
        self._usage: dict[str, Any] = {}
        self._tool_index: dict[int, int] = {}  # Anthropic block index -> OpenAI tool call index

    def feed(self, event: str, data: dict[str, Any]) -> list[dict[str, Any]]:
        """Return the chunks to emit for one event; raise on an ``error`` event."""
        if event == "error":
            err = data.get("error") if isinstance(data.get("error"), dict) else {}
            status = _STREAM_ERROR_STATUS.get(str(err.get("type")), 500)
            raise anthropic_error(status, data, None)
        if event == "message_start":
            message = data.get("message") or {}
            if message.get("id"):
                self._id = str(message["id"])
            self._usage.update(message.get("usage") or {})
            return self._start()
        if event == "content_block_start":
            return self._block_start(int(data.get("index", 0)), data.get("content_block") or {})
        if event == "content_block_delta":
            return self._block_delta(int(data.get("index", 0)), data.get("delta") or {})
        if event == "message_delta":
            # message_delta usage is cumulative; it may repeat the input counts.
            self._usage.update({k: v for k, v in (data.get("usage") or {}).items() if v is not None})
            return self._finish((data.get("delta") or {}).get("stop_reason"))
        if event == "message_stop":
            chunks = self._finish("end_turn")
            if self._include_usage:
                chunks.append(self._chunk(None, None, usage=_usage(self._usage)))
            return chunks
        return []  # ping, content_block_stop, and event types added later

    def _start(self) -> list[dict[str, Any]]:
        if self._started:
            return []
        self._started = True
        return [self._chunk({"role": "assistant", "content": ""}, None)]

    def _block_start(self, index: int, block: dict[str, Any]) -> list[dict[str, Any]]:
        chunks = self._start()
        if block.get("type") == "tool_use":
            n = self._tool_index[index] = len(self._tool_index)
            call = {"index": n, "id": block.get("id"), "type": "function",
                    "function": {"name": block.get("name"), "arguments": ""}}
            chunks.append(self._chunk({"tool_calls": [call]}, None))
        elif block.get("type") == "text" and block.get("text"):
            chunks.append(self._chunk({"content": block["text"]}, None))
        return chunks

    def _block_delta(self, index: int, delta: dict[str, Any]) -> list[dict[str, Any]]:
        chunks = self._start()
        if delta.get("type") == "text_delta" and delta.get("text"):
            chunks.append(self._chunk({"content": delta["text"]}, None))
        elif delta.get("type") == "input_json_delta" and delta.get("partial_json") and index in self._tool_index:
            call = {"index": self._tool_index[index], "function": {"arguments": delta["partial_json"]}}
            chunks.append(self._chunk({"tool_calls": [call]}, None))
        return chunks  # thinking, signature and citation deltas have no OpenAI form

    def _finish(self, stop_reason: Any) -> list[dict[str, Any]]:
        if self._finished:
            return []
        self._finished = True
        return [*self._start(), self._chunk({}, _finish_reason(stop_reason))]

    def _chunk(self, delta: dict[str, Any] | None, finish: str | None, *, usage: Any = None) -> dict[str, Any]:
        chunk: dict[str, Any] = {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
            "choices": [] if delta is None else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if self._include_usage:
            chunk["usage"] = usage  # OpenAI sends usage: null on every chunk but the last
        return chunk


# ---------------------------------------------------------------------------- errors


def anthropic_error(status: int, body: Any, retry_after: float | None) -> UpstreamError:
    """Map an Anthropic error (HTTP status and ``{"type": "error", "error": {...}}``) to ours.

    529 ``overloaded_error`` is treated as 503: the provider is up but shedding load.
    """
    message, etype, _ = from_error_body(status, body, "no error message")
    upstream = 503 if status == 529 or etype == "overloaded_error" else status
    if etype:
        message = f"{message} ({etype})"
    return UpstreamStatusError(message, upstream_status=upstream, retry_after=retry_after)
