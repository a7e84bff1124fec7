"""``POST /v1/messages`` and ``POST /v1/messages/count_tokens``: Anthropic's Messages API over the chat pipeline.

Authenticated by ``x-api-key`` (what the ``anthropic`` SDK and Claude Code send) or
``Authorization: Bearer``; ``anthropic-version`` and ``anthropic-beta`` are accepted and not needed.
Errors are Anthropic's ``{"type": "error", "error": {"type", "message"}}``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import aclosing

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from serve_app.governance.costing import TokenCounter
from serve_app.http.chat_call import (
    ChatCaller,
    event_stream,
    json_response,
    parse_json,
    read_body,
    sse_event,
    sse_events,
    stream_error,
    sync_parse,
)
from serve_app.http.messages_wire import MessageEvents, anthropic_error_body, to_chat_request, to_message
from serve_app.http.protocol import ChatCompletionRequest, chat_request_from
from serve_app.http.wire_schemas import checked
from serve_app.pipeline.replies import StreamReply
from tollgate_core.errors import PermissionDeniedError, TollgateError

__all__ = ["messages_routes"]

API_KEY_HEADER = "x-api-key"


def _error(err: TollgateError, request_id: str | None) -> Response:
    headers = {**getattr(err, "headers", {}), **({"request-id": request_id, "x-request-id": request_id}
                                                   if request_id else {})}
    if err.retry_after is not None:
        headers["retry-after"] = str(max(1, round(err.retry_after)))
    return json_response(anthropic_error_body(err), status=err.status_code, headers=headers)


def parse_messages_request(body: bytes) -> ChatCompletionRequest:
    """The chat request a Messages body stands for; errors name the Messages field."""
    return chat_request_from(to_chat_request(checked(parse_json(body), "MESSAGES")))


async def message_stream(body: AsyncIterator[bytes], model: str) -> AsyncIterator[bytes]:
    """The chat SSE body as Messages events; a gateway error event becomes Anthropic's ``error`` event."""
    events = MessageEvents(model)
    async with aclosing(sse_events(body)) as payloads:  # closing them ends the relay now
        async for payload in payloads:
            if payload is None:
                for name, data in events.finish():
                    yield sse_event(name, data)
                return
            if (error := stream_error(payload)) is not None:
                status = 429 if error.get("type") in ("rate_limit_error", "budget_exceeded") else 500
                err = TollgateError(str(error.get("message")), code=error.get("code"), status_code=status)
                yield sse_event("error", anthropic_error_body(err))
                return
            for name, data in events.feed(payload):
                yield sse_event(name, data)


def messages_routes(call: ChatCaller, request_id_of: Callable[[Request], str | None],
                    with_id: Callable[[str | None, dict[str, str]], dict[str, str]]) -> list[Route]:
    counter: TokenCounter | None = None

    async def messages(request: Request) -> Response:
        request_id = request_id_of(request)
        try:
            chat, reply = await call(request, request_id, sync_parse(parse_messages_request), endpoint="/v1/messages",
                                     api_key_header=API_KEY_HEADER)
        except TollgateError as err:
            return _error(err, request_id)
        model = chat.model
        if isinstance(reply, StreamReply):
            return event_stream(reply.release, message_stream(reply.body, model), with_id(request_id, reply.headers))
        return json_response(to_message(reply.body, model), headers=with_id(request_id, reply.headers))

    async def count_tokens(request: Request) -> Response:
        nonlocal counter
        request_id = request_id_of(request)
        try:
            principal = await call.principal(request, api_key_header=API_KEY_HEADER)
            data = parse_json(await read_body(request, call.limit) or b"null")
            data = checked(data, "MESSAGES_COUNT_TOKENS")
            chat = to_chat_request({**data, "max_tokens": data.get("max_tokens") or 1})
            call.gateway.catalog.resolve(chat["model"], raise_if_none=False)  # an unknown model is a 404
            if not principal.may_use(chat["model"]):
                raise PermissionDeniedError(f"this key may not use model {chat['model']!r}", param="model",
                                            code="model_not_allowed")
            counter = counter or TokenCounter()
            return json_response({"input_tokens": counter.count_prompt(chat)}, headers=with_id(request_id, {}))
        except TollgateError as err:
            return _error(err, request_id)

    return [
        Route("/v1/messages", messages, methods=["POST"]),
        Route("/v1/messages/count_tokens", count_tokens, methods=["POST"]),
    ]
