"""Translate between OpenAI Chat Completions and AWS Bedrock's Converse / ConverseStream.

Plain functions on plain dicts, no I/O and no botocore: the Bedrock provider client signs and
sends what :func:`to_converse_request` builds (the same body serves ``/converse`` and
``/converse-stream``), decodes the event stream, and hands each event to
:class:`ConverseStreamTranslator`.

Where the two formats differ, this module decides as follows:

- ``system`` and ``developer`` messages, wherever they stand, become the top-level ``system``
  blocks in their order.
- Consecutive messages of the same role are merged, and ``tool`` messages become
  ``toolResult`` blocks of a user turn (Converse needs user/assistant alternation); within a
  user turn the ``toolResult`` blocks go first. Blank text is dropped (Converse rejects it).
- Images must be base64 data URLs (PNG, JPEG, GIF, WebP): Converse takes image bytes, not
  links, and the gateway does not fetch URLs on a caller's behalf.
- ``tool_choice: "none"`` leaves ``toolConfig`` out, since Converse cannot forbid tool use.
  If the conversation already holds tool calls, Converse requires ``toolConfig``, so the tools
  are sent without a ``toolChoice`` (the model may then still call one).
- Tool calls in the history without ``tools`` in the request are refused for the same reason.
- ``temperature`` is clamped to 0-1, the range of the models Bedrock serves.
- ``response_format`` ``json_object`` adds nothing; ``json_schema`` is refused. ``n`` other than
  1 and ``logprobs`` are refused; ``user``, ``seed``, penalties, ``logit_bias`` and
  ``parallel_tool_calls`` have no Converse field and are ignored.
- Reasoning and citation blocks in responses have no Chat Completions form and are dropped.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from serve_app.errors import (
    BadRequestError,
    UpstreamError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    from_error_body,
)

__all__ = [
    "ConverseStreamTranslator",
    "bedrock_error",
    "from_converse_response",
    "to_converse_request",
]

_IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/gif": "gif", "image/webp": "webp"}

_FINISH_REASONS: dict[str, str] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "content_filtered": "content_filter",
    "guardrail_intervened": "content_filter",
}

# x-amzn-ErrorType (or the stream's exception event, first letter raised) -> status it stands for.
_ERROR_STATUS: dict[str, int] = {
    "ValidationException": 400,
    "AccessDeniedException": 403,
    "UnrecognizedClientException": 403,
    "ExpiredTokenException": 403,
    "ResourceNotFoundException": 404,
    "ThrottlingException": 429,
    "ServiceQuotaExceededException": 429,
    "InternalServerException": 500,
    "ModelErrorException": 500,
    "ModelStreamErrorException": 500,
    "ModelNotReadyException": 503,
    "ServiceUnavailableException": 503,
}


# --------------------------------------------------------------------------- request


def to_converse_request(req: dict[str, Any]) -> dict[str, Any]:
    """Build the body of ``POST /model/{modelId}/converse`` (or ``/converse-stream``)."""
    _refuse_unsupported(req)
    system, messages = _convert_messages(req.get("messages"))
    body: dict[str, Any] = {"messages": messages}
    if system:
        body["system"] = [{"text": t} for t in system]
    config = _inference_config(req)
    if config:
        body["inferenceConfig"] = config
    has_tool_blocks = any("toolUse" in block or "toolResult" in block for turn in messages for block in turn["content"])
    tools = _convert_tools(req.get("tools"))
    if has_tool_blocks and not tools:
        raise BadRequestError(
            "Bedrock needs the tool definitions when the conversation contains tool calls; "
            "send the same tools list as in the earlier requests.",
            param="tools",
        )
    choice = _convert_tool_choice(req.get("tool_choice"))
    if tools and (req.get("tool_choice") != "none" or has_tool_blocks):
        body["toolConfig"] = {"tools": tools}
        if choice:
            body["toolConfig"]["toolChoice"] = choice
    return body


def _refuse_unsupported(req: dict[str, Any]) -> None:
    if req.get("n") not in (None, 1):
        raise BadRequestError("Bedrock returns one choice per request; set n to 1 or leave it out.", param="n")
    if req.get("logprobs") or req.get("top_logprobs"):
        raise BadRequestError("Bedrock does not return log probabilities; leave logprobs out.", param="logprobs")
    fmt = req.get("response_format")
    kind = fmt.get("type") if isinstance(fmt, dict) else fmt
    if kind == "json_schema":
        raise BadRequestError(
            "Bedrock models cannot enforce a JSON schema; use response_format "
            '{"type": "json_object"} and describe the schema in the prompt, or use an OpenAI model.',
            param="response_format",
        )
    if kind not in (None, "text", "json_object"):
        raise BadRequestError(
            f"response_format type {kind!r} is not supported; use text or json_object.",
            param="response_format.type",
        )


def _inference_config(req: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for key in ("max_completion_tokens", "max_tokens"):
        value = req.get(key)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise BadRequestError(f"{key} must be a positive integer.", param=key)
            config["maxTokens"] = value
            break
    for key, field in (("temperature", "temperature"), ("top_p", "topP")):
        value = req.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BadRequestError(f"{key} must be a number.", param=key)
        config[field] = min(float(value), 1.0) if key == "temperature" else float(value)
    stop = req.get("stop")
    if isinstance(stop, str):
        stop = [stop]
    if stop is not None and not (isinstance(stop, list) and all(isinstance(s, str) for s in stop)):
        raise BadRequestError("stop must be a string or a list of strings.", param="stop")
    if stop:
        config["stopSequences"] = stop
    return config


def _convert_messages(raw: Any) -> tuple[list[str], list[dict[str, Any]]]:
    if not isinstance(raw, list) or not raw:
        raise BadRequestError("messages must be a non-empty list.", param="messages")
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for i, msg in enumerate(raw):
        path = f"messages[{i}]"
        if not isinstance(msg, dict):
            raise BadRequestError(f"{path} must be an object with a role.", param=path)
        role = msg.get("role")
        if role in ("system", "developer"):
            system.extend(_texts(msg.get("content"), path, images=False))
            continue
        if role == "user":
            blocks = _user_blocks(msg.get("content"), path)
        elif role == "assistant":
            blocks = [{"text": t} for t in _texts(msg.get("content"), path, images=False)]
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
            "messages must contain at least one user or assistant message with content.", param="messages"
        )
    for turn in turns:
        if turn["role"] == "user":
            turn["content"].sort(key=lambda b: "toolResult" not in b)  # stable
    return system, turns


def _texts(content: Any, path: str, *, images: bool) -> list[str]:
    """Non-blank texts of ``content``; with ``images``, image parts are skipped, not refused."""
    if content is None:
        return []
    if isinstance(content, str):
        return [content] if content.strip() else []
    if not isinstance(content, list):
        raise BadRequestError(f"{path}.content must be a string or a list of parts.", param=f"{path}.content")
    texts: list[str] = []
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            if part["text"].strip():
                texts.append(part["text"])
        elif kind == "refusal" and isinstance(part.get("refusal"), str):
            texts.append(part["refusal"])
        elif not (images and kind == "image_url"):
            allowed = "text or image_url parts" if images else "text parts (images only in user messages)"
            param = f"{path}.content[{j}]"
            raise BadRequestError(f"{param} has type {kind!r}, which cannot be sent here; use {allowed}.", param=param)
    return texts


def _user_blocks(content: Any, path: str) -> list[dict[str, Any]]:
    if not isinstance(content, list):
        return [{"text": t} for t in _texts(content, path, images=True)]
    blocks: list[dict[str, Any]] = []
    for j, part in enumerate(content):
        if isinstance(part, dict) and part.get("type") == "image_url":
            blocks.append(_image_block(part.get("image_url"), f"{path}.content[{j}]"))
        else:
            blocks.extend({"text": t} for t in _texts([part], f"{path}.content[{j}]", images=True))
    return blocks


def _image_block(image_url: Any, param: str) -> dict[str, Any]:
    url = image_url.get("url") if isinstance(image_url, dict) else image_url
    if not isinstance(url, str) or not url.startswith("data:"):
        raise BadRequestError(
            "Bedrock accepts images only as base64 data URLs; download the image and send it "
            "as data:image/png;base64,... (PNG, JPEG, GIF or WebP).",
            param=param,
        )
    header, _, data = url[5:].partition(",")
    media_type, _, encoding = header.partition(";")
    if encoding != "base64" or not data:
        raise BadRequestError("Image data URLs must be base64 encoded (data:image/png;base64,...).", param=param)
    if media_type not in _IMAGE_FORMATS:
        raise BadRequestError(
            f"Image type {media_type!r} is not supported by Bedrock; send PNG, JPEG, GIF or WebP.", param=param
        )
    # In Converse's JSON protocol a blob travels as a base64 string: the data passes through as is.
    return {"image": {"format": _IMAGE_FORMATS[media_type], "source": {"bytes": data}}}


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
        tool_input = _parse_arguments(fn.get("arguments"), f"{where}.function.arguments")
        blocks.append({"toolUse": {"toolUseId": call["id"], "name": fn["name"], "input": tool_input}})
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
    # Converse rejects blank text, but an empty tool output is a legitimate answer: keep it as "".
    texts = [content] if isinstance(content, str) else _texts(content, path, images=False)
    return {"toolResult": {"toolUseId": msg["tool_call_id"], "content": [{"text": t} for t in texts or [""]]}}


def _convert_tools(tools: Any) -> list[dict[str, Any]]:
    if not tools:
        return []
    if not isinstance(tools, list):
        raise BadRequestError("tools must be a list of function tools.", param="tools")
    out: list[dict[str, Any]] = []
    for j, tool in enumerate(tools):
        if not isinstance(tool, dict) or tool.get("type") != "function":
            raise BadRequestError("Only tools of type 'function' can be sent to Bedrock.", param=f"tools[{j}].type")
        fn = tool.get("function")
        if not isinstance(fn, dict) or not fn.get("name"):
            raise BadRequestError("Each tool needs function.name.", param=f"tools[{j}].function.name")
        schema = fn.get("parameters") or {"type": "object", "properties": {}}
        spec: dict[str, Any] = {"name": fn["name"], "inputSchema": {"json": schema}}
        if fn.get("description"):
            spec["description"] = fn["description"]
        out.append({"toolSpec": spec})
    return out


def _convert_tool_choice(choice: Any) -> dict[str, Any] | None:
    """Converse's toolChoice; ``None`` for none (and for auto when the caller said nothing)."""
    if choice is None or choice == "none":
        return None
    if choice == "auto":
        return {"auto": {}}
    if choice == "required":
        return {"any": {}}
    if isinstance(choice, dict) and choice.get("type") == "function":
        name = (choice.get("function") or {}).get("name")
        if name:
            return {"tool": {"name": name}}
    raise BadRequestError(
        'tool_choice must be "none", "auto", "required" or {"type": "function", "function": {"name": ...}}.',
        param="tool_choice",
    )


# -------------------------------------------------------------------------- response


def from_converse_response(body: dict[str, Any], *, model: str) -> dict[str, Any]:
    """Turn a Converse response into an OpenAI ``chat.completion``."""
    texts: list[str] = []
    tool_calls: list[dict[str, Any]] = []
    message = (body.get("output") or {}).get("message") or {}
    for block in message.get("content") or []:
        if isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif isinstance(block.get("toolUse"), dict):
            use = block["toolUse"]
            tool_calls.append(
                {"id": use.get("toolUseId"), "type": "function",
                 "function": {"name": use.get("name"), "arguments": _dump(use.get("input"))}}
            )
    content = "".join(texts) if texts or not tool_calls else None  # None only beside tool calls, as OpenAI
    out_message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if tool_calls:
        out_message["tool_calls"] = tool_calls
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",  # Converse returns no id of its own
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": out_message, "logprobs": None,
             "finish_reason": _finish_reason(body.get("stopReason"))}
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
        int(u.get(k) or 0) for k in ("inputTokens", "cacheReadInputTokens", "cacheWriteInputTokens", "outputTokens")
    )
    prompt = fresh + read + write  # Bedrock's inputTokens excludes cache tokens; OpenAI's count includes them
    return {
        "prompt_tokens": prompt,
        "completion_tokens": out,
        "total_tokens": prompt + out,
        "prompt_tokens_details": {"cached_tokens": read, "cache_write_tokens": write},
    }


class ConverseStreamTranslator:
    """Turns decoded ConverseStream events, one at a time, into OpenAI ``chat.completion.chunk`` dicts.

    The finish reason is emitted on ``messageStop``; usage arrives later, in ``metadata``, and
    becomes the final ``choices: []`` chunk when the caller asked for ``include_usage``.
    """

    def __init__(self, *, model: str, include_usage: bool) -> None:
        self._model = model
        self._include_usage = include_usage
        self._id = f"chatcmpl-{uuid.uuid4().hex}"
        self._created = int(time.time())
        self._started = False
        self._finished = False
        self._tool_index: dict[int, int] = {}  # contentBlockIndex -> OpenAI tool call index

    def feed(self, event_type: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """Return the chunks to emit for one event; raise on an exception event."""
        if event_type.endswith("Exception"):
            error_type = event_type[:1].upper() + event_type[1:]
            raise bedrock_error(_ERROR_STATUS.get(error_type, 500), payload, error_type, None)
        if event_type == "messageStart":
            return self._start()
        if event_type == "contentBlockStart":
            use = (payload.get("start") or {}).get("toolUse")
            chunks = self._start()
            if isinstance(use, dict):
                n = self._tool_index[int(payload.get("contentBlockIndex", 0))] = len(self._tool_index)
                call = {"index": n, "id": use.get("toolUseId"), "type": "function",
                        "function": {"name": use.get("name"), "arguments": ""}}
                chunks.append(self._chunk({"tool_calls": [call]}, None))
            return chunks
        if event_type == "contentBlockDelta":
            return self._delta(int(payload.get("contentBlockIndex", 0)), payload.get("delta") or {})
        if event_type == "messageStop":
            if self._finished:
                return []
            self._finished = True
            return [*self._start(), self._chunk({}, _finish_reason(payload.get("stopReason")))]
        if event_type == "metadata" and self._include_usage:
            return [self._chunk(None, None, usage=_usage(payload.get("usage")))]
        return []  # contentBlockStop, metadata without include_usage, and event types added later

    def _start(self) -> list[dict[str, Any]]:
        if self._started:
            return []
        self._started = True
        return [self._chunk({"role": "assistant", "content": ""}, None)]

    def _delta(self, index: int, delta: dict[str, Any]) -> list[dict[str, Any]]:
        chunks = self._start()
        use = delta.get("toolUse")
        if isinstance(delta.get("text"), str) and delta["text"]:
            chunks.append(self._chunk({"content": delta["text"]}, None))
        elif isinstance(use, dict) and use.get("input") and index in self._tool_index:
            call = {"index": self._tool_index[index], "function": {"arguments": use["input"]}}
            chunks.append(self._chunk({"tool_calls": [call]}, None))
        return chunks  # reasoningContent and citation deltas have no OpenAI form

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


def bedrock_error(status: int, body: Any, error_type_header: str | None, retry_after: float | None) -> UpstreamError:
    """Map a Bedrock error (status, ``{"message": ...}`` body, ``x-amzn-ErrorType``) to ours.

    The header looks like ``ThrottlingException:http://internal.amazon.com/coral/...``; the
    name before the colon decides the status, so throttling is a 429 and an unready model a
    503 whatever status carried them. ``ModelTimeoutException`` is a timeout (504).
    """
    error_type = (error_type_header or "").split(":", 1)[0].strip()
    if not error_type and isinstance(body, dict) and isinstance(body.get("__type"), str):
        error_type = body["__type"].rsplit("#", 1)[-1]
    message, _, _ = from_error_body(status, body, "no error message")
    if error_type:
        message = f"{message} ({error_type})"
    if error_type == "ModelTimeoutException":
        return UpstreamTimeoutError(message, retry_after=retry_after)
    upstream = _ERROR_STATUS.get(error_type, status)
    return UpstreamStatusError(message, upstream_status=upstream, retry_after=retry_after)
