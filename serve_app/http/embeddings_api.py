"""``POST /v1/embeddings``: embedding models of the catalog (``type: embedding``), through the same keys,
budgets, rate limits, guardrail, routing, spend and audit as chat."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from serve_app.audit.trace import RequestTrace
from serve_app.http.chat_call import ChatCaller, json_response, parse_json
from serve_app.http.wire_schemas import checked
from serve_app.pipeline.embeddings import encode_vectors, inputs_of
from serve_app.pipeline.replies import ChatReply
from tollgate_core.entities import Principal
from tollgate_core.errors import TollgateError

__all__ = ["embeddings_routes"]

def embeddings_routes(call: ChatCaller, request_id_of: Callable[[Request], str | None],
                      with_id: Callable[[str | None, dict[str, str]], dict[str, str]],
                      error_response: Callable[[TollgateError, str | None], Response]) -> list[Route]:
    async def embeddings(request: Request) -> Response:
        request_id = request_id_of(request)
        encoding: list[str | None] = [None]

        async def embed(principal: Principal, raw: bytes, trace: RequestTrace, deadline: float) -> ChatReply:
            body = parse_json(raw)
            if isinstance(body, dict):
                inputs_of(body)  # its own words for token arrays and empty texts, before the schema's
            checked(body, "EMBEDDINGS")
            encoding[0] = body.get("encoding_format")
            return await call.gateway.embed(body, deadline, principal=principal, trace=trace)

        try:
            reply = await call.run(request, request_id, embed, endpoint="/v1/embeddings")
        except TollgateError as err:
            return error_response(err, request_id)
        return json_response(encode_vectors(reply.body, encoding[0]), headers=with_id(request_id, reply.headers))

    return [Route("/v1/embeddings", embeddings, methods=["POST"])]
