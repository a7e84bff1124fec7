"""HTTP routes: parse the wire model, call the gateway, map the result to a response."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from deployments.cache.step import CachePurge
from serve_app.http.admin_api import admin_routes, parse_body
from serve_app.http.admission import AdmissionLimit
from serve_app.http.chat_call import ChatCaller, event_stream, json_response, sync_parse
from serve_app.http.completions_api import completions_routes
from serve_app.http.embeddings_api import embeddings_routes
from serve_app.http.messages_api import messages_routes
from serve_app.http.openapi import openapi_document
from serve_app.http.protocol import parse_chat_request
from serve_app.http.responses_api import responses_routes
from serve_app.http.responses_store import ResponseStore
from serve_app.pipeline.gateway import Gateway
from serve_app.pipeline.replies import StreamReply
from tollgate_core.errors import NotFoundError, TollgateError, error_body

__all__ = ["create_api"]

logger = logging.getLogger("tollgate.api")


def _error_response(err: TollgateError, request_id: str | None) -> Response:
    headers = {**getattr(err, "headers", {}), **({"x-request-id": request_id} if request_id else {})}
    if err.retry_after is not None:
        headers["retry-after"] = str(max(1, round(err.retry_after)))
    return json_response(error_body(err), status=err.status_code, headers=headers)


def _request_id(request: Request) -> str | None:
    return request.headers.get("x-request-id") or f"req-{uuid.uuid4().hex}"


def _no_request_id(request: Request) -> str | None:
    return None


def create_api(gateway: Gateway, *, set_request_id: bool = True,
               request_id_source: Callable[[Request], str | None] | None = None) -> Starlette:
    """The ASGI app the ingress deployment serves.

    Ray Serve's proxy already sets ``x-request-id`` (the client's, if sent) on
    every response, so the ingress passes ``set_request_id=False`` and, as
    ``request_id_source``, where to read the id Serve gave the request.
    """
    limit = gateway.config.server.max_request_bytes
    request_id_of = _request_id if set_request_id else _no_request_id
    client_request_id = request_id_source or request_id_of

    def with_id(request_id: str | None, headers: dict[str, str]) -> dict[str, str]:
        return {"x-request-id": request_id, **headers} if request_id else headers

    call = ChatCaller(gateway, limit, client_request_id)
    responses = ResponseStore(gateway.governance.db if gateway.governance is not None else None,
                              retention_s=gateway.config.state.responses_retention_days * 86400)

    async def chat_completions(request: Request) -> Response:
        request_id = request_id_of(request)
        try:
            _, reply = await call(request, request_id, sync_parse(parse_chat_request), endpoint="/v1/chat/completions")
        except TollgateError as err:
            return _error_response(err, request_id)
        if isinstance(reply, StreamReply):
            return event_stream(reply.release, reply.body, with_id(request_id, reply.headers))
        return json_response(reply.body, headers=with_id(request_id, reply.headers))

    async def list_models(request: Request) -> Response:
        request_id = request_id_of(request)
        try:
            principal = await gateway.authenticate(request.headers.get("authorization"), request.headers.get("api-key"))
        except TollgateError as err:
            return _error_response(err, request_id)
        models = [m for m in gateway.catalog.list_models() if principal.may_use(m["id"])]
        return json_response({"object": "list", "data": models}, headers=with_id(request_id, {}))

    async def authorize_admin(request: Request) -> None:
        await gateway.authenticate_admin(request.headers.get("authorization"), request.headers.get("api-key"))

    async def routing_state(request: Request) -> Response:
        try:
            await authorize_admin(request)
            if request.method == "POST":
                await gateway.reset_routing()
        except TollgateError as err:
            return _error_response(err, request_id_of(request))
        return json_response({"targets": gateway.routing_state()})

    async def cache_admin(request: Request) -> Response:
        try:
            await authorize_admin(request)
            if request.method == "POST":
                return json_response(await gateway.cache_purge(await parse_body(request, CachePurge)))
            return json_response(await gateway.cache_stats())
        except TollgateError as err:
            return _error_response(err, request_id_of(request))

    async def openapi(request: Request) -> Response:
        return json_response(openapi_document())

    async def healthz(request: Request) -> Response:
        return json_response({"status": "ok"})

    async def readyz(request: Request) -> Response:
        report = await gateway.readiness()
        return json_response(report, status=200 if report["ready"] else 503)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        request_id = request_id_of(request)
        if exc.status_code == 404:
            return _error_response(NotFoundError(f"no route for {request.method} {request.url.path}"), request_id)
        err = TollgateError(str(exc.detail), status_code=exc.status_code, error_type="invalid_request_error",
                            headers=dict(exc.headers or {}))  # a 405 keeps its Allow header
        return _error_response(err, request_id)

    async def unexpected_error(request: Request, exc: Exception) -> Response:
        # Logged with its trace here; the client gets no internals.
        logger.exception("unhandled error on %s", request.url.path)
        return _error_response(TollgateError("internal error in the gateway; see its logs"), request_id_of(request))

    governed = (
        admin_routes(gateway.governance, authorize_admin, lambda body, status: json_response(body, status=status),
                     lambda err, request: _error_response(err, request_id_of(request)))
        if gateway.governance is not None else []
    )
    app = Starlette(
        routes=[
            *governed,
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            *messages_routes(call, request_id_of, with_id),
            *responses_routes(call, responses, request_id_of, with_id, _error_response),
            *completions_routes(call, request_id_of, with_id, _error_response),
            *embeddings_routes(call, request_id_of, with_id, _error_response),
            Route("/v1/models", list_models, methods=["GET"]),
            Route("/admin/routing", routing_state, methods=["GET"]),
            Route("/admin/routing/reset", routing_state, methods=["POST"]),
            Route("/admin/cache", cache_admin, methods=["GET"]),
            Route("/admin/cache/purge", cache_admin, methods=["POST"]),
            Route("/openapi.json", openapi, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error, Exception: unexpected_error},
    )
    app.add_middleware(AdmissionLimit, limit=gateway.config.server.max_in_flight, metrics=gateway.metrics)
    return app
