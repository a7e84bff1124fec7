"""``/v1/responses``: OpenAI's Responses API over the chat pipeline, with stored responses.

``POST /v1/responses`` answers (streamed or not) and, unless ``store`` is false, keeps the
response and its conversation so that ``previous_response_id`` can continue it and
``GET``/``DELETE /v1/responses/{id}`` can read or remove it, all scoped to the key's team.
Errors are OpenAI's error shape.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from serve_app.http.chat_call import (
    ChatCaller,
    event_stream,
    json_response,
    parse_json,
    sse_event,
    sse_events,
    stream_error,
)
from serve_app.http.protocol import ChatCompletionRequest, chat_request_from
from serve_app.http.responses_store import ResponseStore
from serve_app.http.responses_wire import (
    ResponseEvents,
    input_messages,
    new_response_id,
    output_messages,
    to_chat_request,
    to_response,
)
from serve_app.http.wire_schemas import checked
from serve_app.pipeline.replies import StreamReply
from tollgate_core.entities import Principal
from tollgate_core.errors import NotFoundError, TollgateError

__all__ = ["responses_routes"]

ErrorResponse = Callable[[TollgateError, str | None], Response]


def _owner(principal: Principal) -> str:
    return principal.team_id or ""


class _Pending:
    """What one Responses request needs after the pipeline answers: its body, id, owner and history."""

    def __init__(self) -> None:
        self.body: dict[str, Any] = {}
        self.history: list[dict[str, Any]] = []
        self.owner = ""
        self.response_id = new_response_id()

    @property
    def stored(self) -> bool:
        return self.body.get("store", True) is not False

    def conversation(self, response: dict[str, Any]) -> list[dict[str, Any]]:
        return [*self.history, *input_messages(self.body["input"]), *output_messages(response)]


def responses_routes(call: ChatCaller, store: ResponseStore, request_id_of: Callable[[Request], str | None],
                     with_id: Callable[[str | None, dict[str, str]], dict[str, str]],
                     error_response: ErrorResponse) -> list[Route]:

    def parser(pending: _Pending) -> Callable[[bytes, Principal], Awaitable[ChatCompletionRequest]]:
        async def parse(raw: bytes, principal: Principal) -> ChatCompletionRequest:
            body = checked(parse_json(raw), "RESPONSES")
            pending.body, pending.owner = body, _owner(principal)
            previous = body.get("previous_response_id")
            if previous is not None:
                found = await store.load(pending.owner, str(previous))
                if found is None:
                    raise NotFoundError(f"Previous response with id {previous!r} not found.",
                                        param="previous_response_id", code="previous_response_not_found")
                pending.history = found[1]
            return chat_request_from(to_chat_request(body, pending.history))

        return parse

    async def events(pending: _Pending, body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        translator = ResponseEvents(pending.body, pending.response_id)
        async with aclosing(sse_events(body)) as payloads:  # closing them ends the relay now
            async for payload in payloads:
                if payload is None:
                    closing, response = translator.finish()
                    if pending.stored:
                        await store.save(pending.owner, response, pending.conversation(response))
                    for name, data in closing:
                        yield sse_event(name, data)
                    return
                if (error := stream_error(payload)) is not None:
                    for name, data in translator.error(error.get("code"), str(error.get("message"))):
                        yield sse_event(name, data)
                    return
                for name, data in translator.feed(payload):
                    yield sse_event(name, data)

    async def create(request: Request) -> Response:
        request_id = request_id_of(request)
        pending = _Pending()
        try:
            _, reply = await call(request, request_id, parser(pending), endpoint="/v1/responses")
            if isinstance(reply, StreamReply):
                return event_stream(reply.release, events(pending, reply.body), with_id(request_id, reply.headers))
            response = to_response(reply.body, pending.body, pending.response_id)
            if pending.stored:
                await store.save(pending.owner, response, pending.conversation(response))
        except TollgateError as err:
            return error_response(err, request_id)
        return json_response(response, headers=with_id(request_id, reply.headers))

    async def by_id(request: Request) -> Response:
        request_id = request_id_of(request)
        response_id = request.path_params["response_id"]
        try:
            owner = _owner(await call.principal(request))
            if request.method == "DELETE":
                if not await store.delete(owner, response_id):
                    raise NotFoundError(f"No response with id {response_id!r} found.", param="response_id")
                return json_response({"id": response_id, "object": "response", "deleted": True},
                                     headers=with_id(request_id, {}))
            found = await store.load(owner, response_id)
            if found is None:
                raise NotFoundError(f"No response with id {response_id!r} found.", param="response_id")
        except TollgateError as err:
            return error_response(err, request_id)
        return json_response(found[0], headers=with_id(request_id, {}))

    return [
        Route("/v1/responses", create, methods=["POST"]),
        Route("/v1/responses/{response_id}", by_id, methods=["GET", "DELETE"]),
    ]
