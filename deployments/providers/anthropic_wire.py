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
  for JSON); ``json_schema`` arrives here as a forced tool (:mod:`deployments.providers.schema_tool`).
- ``n`` other than 1 and ``logprobs`` are refused; ``seed``, penalties and ``logit_bias`` are
  ignored. ``parallel_tool_calls: false`` becomes ``disable_parallel_tool_use``.
- Thinking blocks and server-tool blocks in responses have no Chat Completions form and are
  dropped.
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
from tollgate_core.errors import BadRequestError, UpstreamError, UpstreamStatusError, from_error_body

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
    refuse_unsupported(
        req,
        provider="Anthropic",
        n_message="Anthropic models return one choice per request; set n to 1 or leave it out.",
        logprobs_message="Anthropic models do not return log probabilities; leave logprobs out.",
    )
    system, messages = convert_messages(
        req.get("messages"),
        system=_text_blocks,
        user=_user_blocks,
        assistant=_assistant_blocks,
        tool=_tool_result_block,
        is_tool_result=lambda b: b["type"] == "tool_result",
    )
    max_tokens = requested_max_tokens(req)
    body: dict[str, Any] = {"model": upstream_model, "max_tokens": default_max_tokens}
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    if system:
        body["system"] = system
    body["messages"] = messages
    body.update(sampling_params(req))
    stop = stop_sequences(req)
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


def _text_blocks(content: Any, path: str) -> list[dict[str, Any]]:
    """Text blocks of a text-only ``content``; a part's Anthropic ``cache_control`` is kept."""
    if not isinstance(content, list):
        return [{"type": "text", "text": t} for t in texts(content, path, images=False)]
    blocks = []
    for j, part in enumerate(content):
        text = part_text(part, f"{path}.content[{j}]", images=False)
        if text:
            blocks.append(_with_cache_control({"type": "text", "text": text}, part))
    return blocks


def _with_cache_control(block: dict[str, Any], part: Any) -> dict[str, Any]:
    if isinstance(part, dict) and isinstance(part.get("cache_control"), dict):
        block["cache_control"] = part["cache_control"]
    return block


def _user_blocks(content: Any, path: str) -> list[dict[str, Any]]:
    if not isinstance(content, list):
        return [{"type": "text", "text": t} for t in texts(content, path, images=False)]
    blocks: list[dict[str, Any]] = []
    for j, part in enumerate(content):
        param = f"{path}.content[{j}]"
        if isinstance(part, dict) and part.get("type") == "image_url":
            blocks.append(_image_block(part.get("image_url"), param))
        elif text := part_text(part, param, images=True):
            blocks.append(_with_cache_control({"type": "text", "text": text}, part))
    return blocks


def _image_block(image_url: Any, param: str) -> dict[str, Any]:
    url = image_url.get("url") if isinstance(image_url, dict) else image_url
    if not isinstance(url, str) or not url:
        raise BadRequestError(f"{param}.image_url.url must be a data: or https: URL.", param=param)
    if url.startswith("data:"):
        media_type, data = split_base64_data_url(url, param)
        if media_type not in _IMAGE_TYPES:
            raise BadRequestError(
                f"Image type {media_type!r} is not supported by Anthropic; send JPEG, PNG, GIF or WebP.",
                param=param,
            )
        return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}
    if url.startswith(("https://", "http://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise BadRequestError("Image URLs must be https: URLs or base64 data URLs (data:image/png;base64,...).", param=param)


def _assistant_blocks(msg: dict[str, Any], path: str) -> list[dict[str, Any]]:
    blocks = _text_blocks(msg.get("content"), path)
    blocks.extend(
        {"type": "tool_use", "id": call.id, "name": call.name, "input": call.input}
        for call in parse_tool_calls(msg.get("tool_calls"), path)
    )
    return blocks


def _tool_result_block(msg: dict[str, Any], path: str) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": message_tool_call_id(msg, path)}
    content = msg.get("content")
    if isinstance(content, str):
        block["content"] = content
    else:
        block["content"] = [{"type": "text", "text": t} for t in texts(content, path, images=False) if t]
    return block


def _convert_tools(tools: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for tool in function_tools(tools, provider="Anthropic"):
        spec: dict[str, Any] = {"name": tool.name, "input_schema": tool.parameters}
        if tool.description:
            spec["description"] = tool.description
        if tool.cache_control is not None:
            spec["cache_control"] = tool.cache_control
        out.append(spec)
    return out


def _convert_tool_choice(choice: Any) -> dict[str, Any] | None:
    parsed = parse_tool_choice(choice)
    if parsed is None:
        return None
    kind, name = parsed
    if kind == "function":
        return {"type": "tool", "name": name}
    return {"type": {"auto": "auto", "required": "any", "none": "none"}[kind]}


# -------------------------------------------------------------------------- response


def from_anthropic_response(body: dict[str, Any], *, model: str) -> dict[str, Any]:
    """Turn an Anthropic ``message`` object into an OpenAI ``chat.completion``."""
    text_parts: list[str] = []
    tool_calls: list[dict[str, Any]] = []
    for block in body.get("content") or []:
        if block.get("type") == "text":
            text_parts.append(block.get("text") or "")
        elif block.get("type") == "tool_use":
            tool_calls.append(openai_tool_call(block.get("id"), block.get("name"), block.get("input")))
    return chat_completion(
        completion_id=body.get("id") or new_completion_id(),
        model=model,
        text_parts=text_parts,
        tool_calls=tool_calls,
        finish_reason=openai_finish_reason(body.get("stop_reason"), _FINISH_REASONS),
        usage=_usage(body.get("usage")),
    )


def _usage(usage: Any) -> dict[str, Any]:
    converted = openai_usage(
        usage,
        prompt="input_tokens",
        cache_read="cache_read_input_tokens",
        cache_write="cache_creation_input_tokens",
        completion="output_tokens",
    )
    # Writes with the 1-hour TTL cost more; Anthropic says how many of the writes they were.
    creation = usage.get("cache_creation") if isinstance(usage, dict) else None
    hour = int((creation or {}).get("ephemeral_1h_input_tokens") or 0) if isinstance(creation, dict) else 0
    if hour:
        converted["prompt_tokens_details"]["cache_write_1h_tokens"] = hour
    return converted


class AnthropicStreamTranslator:
    """Turns Anthropic SSE events, one at a time, into OpenAI ``chat.completion.chunk`` dicts.

    Keeps what a stream needs across events: the message id, which content block is which
    tool call, and the usage so far. ``feed`` never buffers text: each delta is emitted at once.
    """

    def __init__(self, *, model: str, include_usage: bool) -> None:
        self._out = ChunkStream(model=model, include_usage=include_usage)
        self._usage: dict[str, Any] = {}

    def feed(self, event: str, data: dict[str, Any]) -> list[dict[str, Any]]:
        """Return the chunks to emit for one event; raise on an ``error`` event."""
        if event == "error":
            err = data.get("error")
            status = _STREAM_ERROR_STATUS.get(str(err.get("type") if isinstance(err, dict) else None), 500)
            raise anthropic_error(status, data, None)
        if event == "message_start":
            message = data.get("message") or {}
            if message.get("id"):
                self._out.completion_id = str(message["id"])
            self._usage.update(message.get("usage") or {})
            return self._out.start()
        if event == "content_block_start":
            return self._block_start(int(data.get("index", 0)), data.get("content_block") or {})
        if event == "content_block_delta":
            return self._block_delta(int(data.get("index", 0)), data.get("delta") or {})
        if event == "message_delta":
            # message_delta usage is cumulative; it may repeat the input counts.
            self._usage.update({k: v for k, v in (data.get("usage") or {}).items() if v is not None})
            return self._finish((data.get("delta") or {}).get("stop_reason"))
        if event == "message_stop":
            return [*self._finish("end_turn"), *self._out.usage(_usage(self._usage))]
        return []  # ping, content_block_stop, and event types added later

    def _block_start(self, index: int, block: dict[str, Any]) -> list[dict[str, Any]]:
        if block.get("type") == "tool_use":
            return self._out.open_tool_call(index, block.get("id"), block.get("name"))
        if block.get("type") == "text":
            return self._out.text(block.get("text"))
        return self._out.start()

    def _block_delta(self, index: int, delta: dict[str, Any]) -> list[dict[str, Any]]:
        if delta.get("type") == "text_delta":
            return self._out.text(delta.get("text"))
        if delta.get("type") == "input_json_delta":
            return self._out.tool_arguments(index, delta.get("partial_json"))
        return self._out.start()  # thinking, signature and citation deltas have no OpenAI form

    def _finish(self, stop_reason: Any) -> list[dict[str, Any]]:
        return self._out.finish(openai_finish_reason(stop_reason, _FINISH_REASONS))


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
