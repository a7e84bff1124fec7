"""Wire formats the fake provider server speaks: bodies, stream events and errors.

Everything here is pure data in, bytes or JSON-able dicts out, so the shapes can be read
side by side with the providers' documentation:

* OpenAI / Azure OpenAI Chat Completions — a ``chat.completion`` object, or SSE
  ``data: {chunk}`` lines ended by ``data: [DONE]``;
* Anthropic Messages — a ``message`` object, or SSE ``event:``/``data:`` pairs from
  ``message_start`` to ``message_stop``;
* Bedrock Converse — a ``ConverseResponse``, or ``application/vnd.amazon.eventstream``
  binary frames (:func:`encode_event_frame`; botocore only decodes them, so the fake encodes).

Errors use each provider's own body shape (:class:`ErrorReply`).
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

from fake_providers.reply import Reply

__all__ = [
    "ErrorReply",
    "anthropic_error",
    "anthropic_events",
    "anthropic_message",
    "azure_error",
    "bedrock_converse",
    "bedrock_error",
    "bedrock_events",
    "encode_event_frame",
    "fault_error",
    "openai_chunks",
    "openai_completion",
    "openai_error",
    "sse",
]

Json = dict[str, Any]

_OPENAI_FINISH = {"stop": "stop", "stop_sequence": "stop", "length": "length", "tool_call": "tool_calls"}
_ANTHROPIC_STOP = {
    "stop": "end_turn",
    "stop_sequence": "stop_sequence",
    "length": "max_tokens",
    "tool_call": "tool_use",
}
# Bedrock uses the same stop reason words as Anthropic.
_BEDROCK_STOP = _ANTHROPIC_STOP
_FINGERPRINT = "fp_fake"


@dataclass(frozen=True)
class ErrorReply:
    """An error as a provider sends it: status, JSON body and extra headers."""

    status: int
    body: Json
    headers: dict[str, str] = field(default_factory=dict)


def sse(data: Json | str, event: str | None = None) -> bytes:
    """One server-sent event; ``data`` is JSON-encoded unless it is already a string."""
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


# --- OpenAI and Azure OpenAI ----------------------------------------------------------------


def _openai_usage(reply: Reply, cached: int = 0) -> Json:
    # OpenAI's prompt_tokens counts cached tokens too; cached_tokens says how many were read.
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": cached},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def openai_completion(reply: Reply, *, model: str, ident: str, created: int, cached: int = 0) -> Json:
    """A non-streamed ``chat.completion`` object."""
    message: Json = {"role": "assistant", "content": reply.text, "refusal": None}
    if reply.tool_call is not None:
        message["content"] = None
        message["tool_calls"] = [
            {
                "id": f"call_{ident}",
                "type": "function",
                "function": {"name": reply.tool_call.name, "arguments": reply.tool_call.arguments},
            }
        ]
    return {
        "id": f"chatcmpl-{ident}",
        "object": "chat.completion",
        "created": created,
        "model": model,
        "system_fingerprint": _FINGERPRINT,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": _OPENAI_FINISH[reply.finish],
            }
        ],
        "usage": _openai_usage(reply, cached),
    }


def openai_chunks(
    reply: Reply, *, model: str, ident: str, created: int, include_usage: bool, cached: int = 0
) -> list[bytes]:
    """The SSE stream of ``chat.completion.chunk`` objects, ``[DONE]`` included.

    The first chunk carries the role; then one word (or one argument fragment) per chunk; then
    an empty delta with the finish reason; with ``include_usage``, every chunk has
    ``"usage": null`` and a last chunk has ``"choices": []`` and the usage.
    """

    def chunk(delta: Json, finish: str | None = None) -> bytes:
        body: Json = {
            "id": f"chatcmpl-{ident}",
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": _FINGERPRINT,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if include_usage:
            body["usage"] = None
        return sse(body)

    call = reply.tool_call
    if call is None:
        out = [chunk({"role": "assistant", "content": "", "refusal": None})]
        out += [chunk({"content": piece}) for piece in reply.pieces]
    else:
        head = {
            "index": 0,
            "id": f"call_{ident}",
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        out = [chunk({"role": "assistant", "content": None, "tool_calls": [head]})]
        out += [
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": fragment}}]})
            for fragment in call.fragments
        ]
    out.append(chunk({}, _OPENAI_FINISH[reply.finish]))
    if include_usage:
        out.append(
            sse(
                {
                    "id": f"chatcmpl-{ident}",
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "system_fingerprint": _FINGERPRINT,
                    "choices": [],
                    "usage": _openai_usage(reply, cached),
                }
            )
        )
    out.append(sse("[DONE]"))
    return out


def openai_error(
    status: int, message: str, error_type: str, code: str | None = None, param: str | None = None
) -> ErrorReply:
    """OpenAI's ``{"error": {"message", "type", "param", "code"}}``."""
    body = {"error": {"message": message, "type": error_type, "param": param, "code": code}}
    return ErrorReply(status, body)


def azure_error(status: int, code: str, message: str) -> ErrorReply:
    """Azure OpenAI's ``{"error": {"code", "message"}}`` (the code is a string)."""
    return ErrorReply(status, {"error": {"code": code, "message": message}})


# --- Anthropic Messages ---------------------------------------------------------------------


def _anthropic_usage(reply: Reply, cache: tuple[int, int], output_tokens: int) -> Json:
    read, write = cache
    return {
        # Anthropic counts cached tokens apart from input_tokens.
        "input_tokens": max(reply.prompt_tokens - read - write, 0),
        "cache_creation_input_tokens": write,
        "cache_read_input_tokens": read,
        "output_tokens": output_tokens,
    }


def anthropic_message(reply: Reply, *, model: str, ident: str, cache: tuple[int, int]) -> Json:
    """A non-streamed Messages response."""
    if reply.tool_call is not None:
        content = [
            {
                "type": "tool_use",
                "id": f"toolu_{ident}",
                "name": reply.tool_call.name,
                "input": json.loads(reply.tool_call.arguments),
            }
        ]
    else:
        content = [{"type": "text", "text": reply.text}]
    return {
        "id": f"msg_{ident}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": _ANTHROPIC_STOP[reply.finish],
        "stop_sequence": reply.stop_sequence,
        "usage": _anthropic_usage(reply, cache, reply.completion_tokens),
    }


def anthropic_events(reply: Reply, *, model: str, ident: str, cache: tuple[int, int]) -> list[bytes]:
    """The Messages SSE sequence: ``message_start`` … ``message_stop``."""

    def event(name: str, data: Json) -> bytes:
        return sse({"type": name, **data}, event=name)

    start = anthropic_message(reply, model=model, ident=ident, cache=cache)
    start.update(content=[], stop_reason=None, stop_sequence=None)
    start["usage"] = _anthropic_usage(reply, cache, 1)
    out = [event("message_start", {"message": start})]
    call = reply.tool_call
    if call is None:
        block: Json = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": piece} for piece in reply.pieces]
    else:
        block = {"type": "tool_use", "id": f"toolu_{ident}", "name": call.name, "input": {}}
        deltas = [{"type": "input_json_delta", "partial_json": f} for f in call.fragments]
    out.append(event("content_block_start", {"index": 0, "content_block": block}))
    out.append(event("ping", {}))
    out += [event("content_block_delta", {"index": 0, "delta": d}) for d in deltas]
    out.append(event("content_block_stop", {"index": 0}))
    stop = {"stop_reason": _ANTHROPIC_STOP[reply.finish], "stop_sequence": reply.stop_sequence}
    usage = {"output_tokens": reply.completion_tokens}
    out.append(event("message_delta", {"delta": stop, "usage": usage}))
    out.append(event("message_stop", {}))
    return out


def anthropic_error(status: int, error_type: str, message: str, request_id: str = "") -> ErrorReply:
    """Anthropic's ``{"type": "error", "error": {"type", "message"}}``."""
    body: Json = {"type": "error", "error": {"type": error_type, "message": message}}
    if request_id:
        body["request_id"] = request_id
    return ErrorReply(status, body)


# --- Bedrock Converse -----------------------------------------------------------------------


def _bedrock_usage(reply: Reply, cache: tuple[int, int]) -> Json:
    read, write = cache
    # Like Anthropic, inputTokens excludes cached tokens; totalTokens counts everything.
    inputs = max(reply.prompt_tokens - read - write, 0)
    return {
        "inputTokens": inputs,
        "outputTokens": reply.completion_tokens,
        "totalTokens": inputs + read + write + reply.completion_tokens,
        "cacheReadInputTokens": read,
        "cacheWriteInputTokens": write,
    }


def bedrock_converse(reply: Reply, *, ident: str, cache: tuple[int, int], latency_ms: int) -> Json:
    """A ``ConverseResponse``."""
    if reply.tool_call is not None:
        tool_use = {
            "toolUseId": f"tooluse_{ident}",
            "name": reply.tool_call.name,
            "input": json.loads(reply.tool_call.arguments),
        }
        content: list[Json] = [{"toolUse": tool_use}]
    else:
        content = [{"text": reply.text}]
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": _BEDROCK_STOP[reply.finish],
        "usage": _bedrock_usage(reply, cache),
        "metrics": {"latencyMs": latency_ms},
    }


def bedrock_events(reply: Reply, *, ident: str, cache: tuple[int, int], latency_ms: int) -> list[bytes]:
    """ConverseStream's event frames: ``messageStart`` … ``metadata``.

    Text blocks start with their first delta (no ``contentBlockStart``), as Bedrock sends them;
    a tool-use block opens with ``contentBlockStart`` naming the tool.
    """
    out = [encode_event_frame("messageStart", {"role": "assistant"})]
    call = reply.tool_call
    if call is None:
        deltas: list[Json] = [{"text": piece} for piece in reply.pieces]
    else:
        start = {"toolUse": {"toolUseId": f"tooluse_{ident}", "name": call.name}}
        out.append(encode_event_frame("contentBlockStart", {"contentBlockIndex": 0, "start": start}))
        deltas = [{"toolUse": {"input": fragment}} for fragment in call.fragments]
    out += [
        encode_event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": d}) for d in deltas
    ]
    out.append(encode_event_frame("contentBlockStop", {"contentBlockIndex": 0}))
    out.append(encode_event_frame("messageStop", {"stopReason": _BEDROCK_STOP[reply.finish]}))
    metadata = {"usage": _bedrock_usage(reply, cache), "metrics": {"latencyMs": latency_ms}}
    out.append(encode_event_frame("metadata", metadata))
    return out


def bedrock_error(status: int, error_type: str, message: str) -> ErrorReply:
    """AWS JSON-protocol error: ``{"message"}`` plus the ``x-amzn-ErrorType`` header."""
    return ErrorReply(status, {"message": message}, {"x-amzn-ErrorType": error_type})


def _frame_header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    # Header value type 7 is a string with a 2-byte length.
    return struct.pack(">B", len(raw_name)) + raw_name + struct.pack(">BH", 7, len(raw_value)) + raw_value


def encode_event_frame(event_type: str, payload: Json, message_type: str = "event") -> bytes:
    """One ``application/vnd.amazon.eventstream`` message carrying a JSON payload.

    Layout: total length, headers length, CRC32 of those 8 bytes; the headers; the payload;
    CRC32 of everything before it. ``message_type="exception"`` names the exception in
    ``:exception-type`` instead of ``:event-type``.
    """
    kind = ":event-type" if message_type == "event" else ":exception-type"
    headers = (
        _frame_header(kind, event_type)
        + _frame_header(":content-type", "application/json")
        + _frame_header(":message-type", message_type)
    )
    body = json.dumps(payload, separators=(",", ":")).encode()
    prelude = struct.pack(">II", 12 + len(headers) + len(body) + 4, len(headers))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + headers + body
    return message + struct.pack(">I", zlib.crc32(message))


# --- injected faults ------------------------------------------------------------------------


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def fault_error(provider: str, fault: str, retry_after: float | None) -> ErrorReply:
    """The error ``provider`` sends for an injected ``"429"``, ``"500"``, ``"503"`` or ``"context_length"``.

    Anthropic has no 503: it reports overload as 529 ``overloaded_error``, so ``"503"``
    maps to that there.
    """
    if fault == "context_length":
        return _context_length_error(provider)
    wait = _seconds(retry_after) if retry_after is not None else "0"
    limit_headers = (
        {"retry-after": wait, "retry-after-ms": str(int(retry_after * 1000))} if retry_after is not None else {}
    )
    if provider in ("openai", "azure"):
        if fault == "429":
            if provider == "azure":
                err = azure_error(
                    429,
                    "429",
                    "Requests to the ChatCompletions_Create Operation have exceeded the rate "
                    f"limit of your current tier. Please retry after {wait} seconds.",
                )
            else:
                err = openai_error(
                    429,
                    "Rate limit reached for requests. Please try again later.",
                    "requests",
                    "rate_limit_exceeded",
                )
            headers = {
                **limit_headers,
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-remaining-tokens": "0",
                **({"x-ratelimit-reset-requests": f"{wait}s"} if retry_after is not None else {}),
            }
            return ErrorReply(err.status, err.body, headers)
        if fault == "500":
            if provider == "azure":
                return azure_error(500, "InternalServerError", "The server had an error processing your request.")
            return openai_error(
                500, "The server had an error while processing your request. Sorry about that!", "server_error"
            )
        if provider == "azure":
            return azure_error(503, "ServiceUnavailable", "The service is temporarily unable to process your request.")
        return openai_error(503, "The engine is currently overloaded, please try again later.", "server_error")
    if provider == "anthropic":
        if fault == "429":
            err = anthropic_error(429, "rate_limit_error", "Number of requests has exceeded your rate limit.")
            return ErrorReply(429, err.body, {**limit_headers, "anthropic-ratelimit-requests-remaining": "0"})
        if fault == "500":
            return anthropic_error(500, "api_error", "Internal server error")
        return anthropic_error(529, "overloaded_error", "Overloaded")
    if fault == "429":
        err = bedrock_error(429, "ThrottlingException", "Too many requests, please wait before trying again.")
        return ErrorReply(429, err.body, {**err.headers, **({"retry-after": wait} if retry_after is not None else {})})
    if fault == "500":
        return bedrock_error(500, "InternalServerException", "The server encountered an internal error.")
    return bedrock_error(503, "ServiceUnavailableException", "The service is temporarily unavailable.")


def _context_length_error(provider: str) -> ErrorReply:
    """Each provider's own answer to a prompt longer than the model's context window."""
    if provider in ("openai", "azure"):
        err = openai_error(
            400,
            "This model's maximum context length is 16 tokens. However, your messages resulted in 20 tokens. "
            "Please reduce the length of the messages.",
            "invalid_request_error",
            "context_length_exceeded",
            param="messages",
        )
        return err
    if provider == "anthropic":
        return anthropic_error(400, "invalid_request_error", "prompt is too long: 20 tokens > 16 maximum")
    return bedrock_error(400, "ValidationException", "Input is too long for requested model.")
