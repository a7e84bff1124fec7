"""One call into the chat pipeline, as every chat-shaped endpoint makes it.

``/v1/chat/completions``, ``/v1/messages``, ``/v1/responses`` and ``/v1/completions`` differ only
in how they read their body and write their answer; the caller, its deadline, the trace, the
pipeline and the audit record of a failure are the same, and live here.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from serve_app.audit.trace import RequestTrace
from serve_app.http.protocol import ChatCompletionRequest
from serve_app.pipeline.gateway import Gateway
from serve_app.pipeline.replies import ChatReply, StreamReply
from tollgate_core.entities import Principal
from tollgate_core.errors import BadRequestError, RequestTooLargeError, TollgateError

__all__ = ["ChatCaller", "ReleasingStream", "event_stream", "json_response", "parse_json", "read_body", "sse_event", "sse_events", "stream_error", "sync_parse"]

# The body and the caller (a Responses request reads the caller's stored conversation) to the chat request.
Parse = Callable[[bytes, Principal], Awaitable[ChatCompletionRequest]]
T = TypeVar("T")
# What an endpoint does once its caller is known: (caller, body, trace, deadline) -> its answer.
Handle = Callable[[Principal, bytes, RequestTrace, float], Awaitable[T]]


def sync_parse(parse: Callable[[bytes], ChatCompletionRequest]) -> Parse:
    async def parse_body(body: bytes, principal: Principal) -> ChatCompletionRequest:
        return parse(body)

    return parse_body


def parse_json(raw: bytes) -> Any:
    """A request body as JSON; a 400 for invalid JSON, invalid UTF-8 or nesting too deep to parse."""
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequestError(f"the request body is not valid JSON ({exc}); send a JSON object") from None
    except RecursionError:
        raise BadRequestError("the request body nests JSON too deeply") from None


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    content = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(content, status_code=status, headers=headers, media_type="application/json")


def sse_event(name: str, data: dict[str, Any]) -> bytes:
    """One named SSE event (Anthropic's and the Responses API's streams name theirs)."""
    return f"event: {name}\ndata: ".encode() + json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode() \
        + b"\n\n"


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RequestTooLargeError(f"the request body is {declared} bytes; the limit is {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestTooLargeError(f"the request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class ReleasingStream(StreamingResponse):
    """A streaming response that frees the target's hold even if the body is never iterated."""

    def __init__(self, release: Callable[[], None], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


def event_stream(release: Callable[[], None], body: AsyncIterator[bytes], headers: dict[str, str]) -> ReleasingStream:
    """The SSE response of a streamed answer, in whichever API's events ``body`` yields."""
    return ReleasingStream(release, body, media_type="text/event-stream", headers={"cache-control": "no-cache", **headers})


def stream_error(payload: Any) -> dict[str, Any] | None:
    """The gateway's error event in a chat stream (an error after the first chunk), or None for a chunk."""
    if isinstance(payload, dict) and "error" in payload and "choices" not in payload:
        return payload["error"] or {}
    return None


async def sse_events(body: AsyncIterator[bytes]) -> AsyncIterator[Any]:
    """The JSON payloads of a chat-completions SSE body, ``None`` for ``[DONE]``; closing this closes ``body``."""
    buffer = b""
    try:
        async for piece in body:
            buffer += piece
            while b"\n\n" in buffer:
                event, buffer = buffer.split(b"\n\n", 1)
                for line in event.split(b"\n"):
                    if line.startswith(b"data: "):
                        data = line[6:]
                        yield None if data == b"[DONE]" else json.loads(data)
    finally:
        # A reader that stops at an error event closes this, and so the relay: its record is its own outcome's,
        # written now, not the "client went away" of a body nobody finished.
        aclose = getattr(body, "aclose", None)
        if aclose is not None:
            await aclose()


class ChatCaller:
    """Authenticates, parses, runs the pipeline; a failure is recorded in the audit log, then raised."""

    def __init__(self, gateway: Gateway, limit: int, client_request_id: Callable[[Request], str | None]) -> None:
        self.gateway = gateway
        self.limit = limit
        self._client_request_id = client_request_id

    async def principal(self, request: Request, *, api_key_header: str = "api-key") -> Principal:
        return await self.gateway.authenticate(request.headers.get("authorization"),
                                               request.headers.get(api_key_header))

    async def run(self, request: Request, request_id: str | None, handle: Handle[T], *, endpoint: str,
                  api_key_header: str = "api-key") -> T:
        """``handle(caller, body, trace, deadline)`` with the caller authenticated and the body read."""
        gateway = self.gateway
        trace = RequestTrace()
        trace.set(client_request_id=request_id or self._client_request_id(request),
                  client_ip=request.client.host if request.client else None, endpoint=endpoint)
        try:
            principal = await self.principal(request, api_key_header=api_key_header)
            trace.set(org_id=principal.org_id, team_id=principal.team_id, key_id=principal.key_id)
            deadline = gateway.deadline(request.headers.get("x-tollgate-deadline-ms"))
            return await handle(principal, await read_body(request, self.limit), trace, deadline)
        except TollgateError as err:
            await gateway.recorder.record_error(trace, err)
            raise
        except asyncio.CancelledError:
            gateway.recorder.record_soon(trace, "client_disconnected")
            raise
        except Exception:
            # A bug: the generic handler answers 500; the audit log still gets the request's record.
            await gateway.recorder.record_error(trace, TollgateError("internal error in the gateway"))
            raise

    async def __call__(self, request: Request, request_id: str | None, parse: Parse, *, endpoint: str,
                       api_key_header: str = "api-key") -> tuple[ChatCompletionRequest, ChatReply | StreamReply]:
        """The parsed request and its answer."""
        gateway = self.gateway

        async def chat_call(principal: Principal, body: bytes, trace: RequestTrace,
                            deadline: float) -> tuple[ChatCompletionRequest, ChatReply | StreamReply]:
            chat = await parse(body, principal)
            trace.set(model=chat.model, stream=bool(chat.stream), end_user=chat.user)
            if chat.stream:
                continuation = request.headers.get("x-tollgate-stream-continuation", "").lower() in ("1", "true", "on")
                return chat, await gateway.chat_stream(chat, trace.started, deadline, continuation=continuation,
                                                       principal=principal, trace=trace, cache_headers=request.headers)
            return chat, await gateway.chat(chat, trace.started, deadline, principal=principal, trace=trace,
                                            cache_headers=request.headers)

        return await self.run(request, request_id, chat_call, endpoint=endpoint, api_key_header=api_key_header)
