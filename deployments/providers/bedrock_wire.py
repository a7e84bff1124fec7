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
- ``response_format`` ``json_object`` adds nothing; ``json_schema`` arrives here as a forced tool
  (:mod:`deployments.providers.schema_tool`). ``n`` other than
  1 and ``logprobs`` are refused; ``user``, ``seed``, penalties, ``logit_bias`` and
  ``parallel_tool_calls`` have no Converse field and are ignored.
- Reasoning and citation blocks in responses have no Chat Completions form and are dropped.
"""

from __future__ import annotations

from typing import Any

from deployments.providers.openai_shapes import (
    ChunkStream,
    chat_completion,
    convert_messages,
    function_tools,
    message_tool_call_id,
    new_completion_id,
    openai_finish_reason,
    openai_tool_call,
    openai_usage,
    parse_tool_calls,
    parse_tool_choice,
    part_text,
    refuse_unsupported,
    requested_max_tokens,
    sampling_params,
    split_base64_data_url,
    stop_sequences,
    texts,
)
from tollgate_core.errors import (
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

_CACHE_POINT = {"cachePoint": {"type": "default"}}
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
    refuse_unsupported(
        req,
        provider="Bedrock",
        n_message="Bedrock returns one choice per request; set n to 1 or leave it out.",
        logprobs_message="Bedrock does not return log probabilities; leave logprobs out.",
    )
    system, messages = convert_messages(
        req.get("messages"),
        system=_system_blocks,
        user=_user_blocks,
        assistant=_assistant_blocks,
        tool=_tool_result_block,
        is_tool_result=lambda b: "toolResult" in b,
    )
    body: dict[str, Any] = {"messages": messages}
    if system:
        body["system"] = system
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


def _inference_config(req: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    max_tokens = requested_max_tokens(req)
    if max_tokens is not None:
        config["maxTokens"] = max_tokens
    sampling = sampling_params(req)
    for key, field in (("temperature", "temperature"), ("top_p", "topP")):
        if key in sampling:
            config[field] = sampling[key]
    stop = stop_sequences(req)
    if stop:
        config["stopSequences"] = stop
    return config


def _cache_point_after(part: Any) -> list[dict[str, Any]]:
    """A ``cachePoint`` block for a part the client marked with Anthropic-style ``cache_control``."""
    return [dict(_CACHE_POINT)] if isinstance(part, dict) and isinstance(part.get("cache_control"), dict) else []


def _system_blocks(content: Any, path: str) -> list[dict[str, Any]]:
    if not isinstance(content, list):
        return [{"text": t} for t in texts(content, path, images=False)]
    blocks: list[dict[str, Any]] = []
    for j, part in enumerate(content):
        if text := part_text(part, f"{path}.content[{j}]", images=False):
            blocks += [{"text": text}, *_cache_point_after(part)]
    return blocks


def _user_blocks(content: Any, path: str) -> list[dict[str, Any]]:
    if not isinstance(content, list):
        return [{"text": t} for t in texts(content, path, images=True)]
    blocks: list[dict[str, Any]] = []
    for j, part in enumerate(content):
        if isinstance(part, dict) and part.get("type") == "image_url":
            blocks.append(_image_block(part.get("image_url"), f"{path}.content[{j}]"))
        elif text := part_text(part, f"{path}.content[{j}]", images=True):
            # Converse rejects blank text blocks, so an empty refusal is dropped as well.
            blocks += [{"text": text}, *_cache_point_after(part)]
    return blocks


def _image_block(image_url: Any, param: str) -> dict[str, Any]:
    url = image_url.get("url") if isinstance(image_url, dict) else image_url
    if not isinstance(url, str) or not url.startswith("data:"):
        raise BadRequestError(
            "Bedrock accepts images only as base64 data URLs; download the image and send it "
            "as data:image/png;base64,... (PNG, JPEG, GIF or WebP).",
            param=param,
        )
    media_type, data = split_base64_data_url(url, param)
    if media_type not in _IMAGE_FORMATS:
        raise BadRequestError(
            f"Image type {media_type!r} is not supported by Bedrock; send PNG, JPEG, GIF or WebP.", param=param
        )
    # In Converse's JSON protocol a blob travels as a base64 string: the data passes through as is.
    return {"image": {"format": _IMAGE_FORMATS[media_type], "source": {"bytes": data}}}


def _assistant_blocks(msg: dict[str, Any], path: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [{"text": t} for t in texts(msg.get("content"), path, images=False)]
    blocks.extend(
        {"toolUse": {"toolUseId": call.id, "name": call.name, "input": call.input}}
        for call in parse_tool_calls(msg.get("tool_calls"), path)
    )
    return blocks


def _tool_result_block(msg: dict[str, Any], path: str) -> dict[str, Any]:
    tool_use_id = message_tool_call_id(msg, path)
    content = msg.get("content")
    # Converse rejects blank text, but an empty tool output is a legitimate answer: keep it as "".
    tool_texts = [content] if isinstance(content, str) else texts(content, path, images=False)
    return {"toolResult": {"toolUseId": tool_use_id, "content": [{"text": t} for t in tool_texts or [""]]}}


def _convert_tools(tools: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for tool in function_tools(tools, provider="Bedrock"):
        spec: dict[str, Any] = {"name": tool.name, "inputSchema": {"json": tool.parameters}}
        if tool.description:
            spec["description"] = tool.description
        out.append({"toolSpec": spec})
        if tool.cache_control is not None:
            out.append(dict(_CACHE_POINT))
    return out


def _convert_tool_choice(choice: Any) -> dict[str, Any] | None:
    """Converse's toolChoice; ``None`` for none (and for auto when the caller said nothing)."""
    parsed = parse_tool_choice(choice)
    if parsed is None or parsed[0] == "none":
        return None
    kind, name = parsed
    if kind == "function":
        return {"tool": {"name": name}}
    return {"auto": {}} if kind == "auto" else {"any": {}}


# -------------------------------------------------------------------------- response


def from_converse_response(body: dict[str, Any], *, model: str) -> dict[str, Any]:
    """Turn a Converse response into an OpenAI ``chat.completion``."""
    text_parts: list[str] = []
    tool_calls: list[dict[str, Any]] = []
    message = (body.get("output") or {}).get("message") or {}
    for block in message.get("content") or []:
        if isinstance(block.get("text"), str):
            text_parts.append(block["text"])
        elif isinstance(block.get("toolUse"), dict):
            use = block["toolUse"]
            tool_calls.append(openai_tool_call(use.get("toolUseId"), use.get("name"), use.get("input")))
    return chat_completion(
        completion_id=new_completion_id(),  # Converse returns no id of its own
        model=model,
        text_parts=text_parts,
        tool_calls=tool_calls,
        finish_reason=openai_finish_reason(body.get("stopReason"), _FINISH_REASONS),
        usage=_usage(body.get("usage")),
    )


def _usage(usage: Any) -> dict[str, Any]:
    # Bedrock's inputTokens excludes cache tokens; OpenAI's count includes them.
    return openai_usage(
        usage,
        prompt="inputTokens",
        cache_read="cacheReadInputTokens",
        cache_write="cacheWriteInputTokens",
        completion="outputTokens",
    )


class ConverseStreamTranslator:
    """Turns decoded ConverseStream events, one at a time, into OpenAI ``chat.completion.chunk`` dicts.

    The finish reason is emitted on ``messageStop``; usage arrives later, in ``metadata``, and
    becomes the final ``choices: []`` chunk when the caller asked for ``include_usage``.
    """

    def __init__(self, *, model: str, include_usage: bool) -> None:
        self._out = ChunkStream(model=model, include_usage=include_usage)

    def feed(self, event_type: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """Return the chunks to emit for one event; raise on an exception event."""
        if event_type.endswith("Exception"):
            error_type = event_type[:1].upper() + event_type[1:]
            raise bedrock_error(_ERROR_STATUS.get(error_type, 500), payload, error_type, None)
        if event_type == "messageStart":
            return self._out.start()
        if event_type == "contentBlockStart":
            use = (payload.get("start") or {}).get("toolUse")
            if isinstance(use, dict):
                index = int(payload.get("contentBlockIndex", 0))
                return self._out.open_tool_call(index, use.get("toolUseId"), use.get("name"))
            return self._out.start()
        if event_type == "contentBlockDelta":
            return self._delta(int(payload.get("contentBlockIndex", 0)), payload.get("delta") or {})
        if event_type == "messageStop":
            return self._out.finish(openai_finish_reason(payload.get("stopReason"), _FINISH_REASONS))
        if event_type == "metadata":
            return self._out.usage(_usage(payload.get("usage")))
        return []  # contentBlockStop, and event types added later

    def _delta(self, index: int, delta: dict[str, Any]) -> list[dict[str, Any]]:
        use = delta.get("toolUse")
        if isinstance(delta.get("text"), str) and delta["text"]:
            return self._out.text(delta["text"])
        if isinstance(use, dict):
            return self._out.tool_arguments(index, use.get("input"))
        return self._out.start()  # reasoningContent and citation deltas have no OpenAI form


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
