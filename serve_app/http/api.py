"""HTTP routes: parse the wire model, call the gateway, map the result to a response."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from deployments.cache.step import CachePurge
from serve_app.audit.trace import RequestTrace
from serve_app.http.admin_api import admin_routes, parse_body
from serve_app.http.protocol import parse_chat_request
from serve_app.pipeline.gateway import Gateway
from tollgate_core.errors import (
    NotFoundError,
    RequestTooLargeError,
    TollgateError,
    error_body,
)

__all__ = ["create_api"]

logger = logging.getLogger("tollgate.api")


def _json(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    content = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(content, status_code=status, headers=headers, media_type="application/json")


def _error_response(err: TollgateError, request_id: str | None) -> Response:
    headers = {**getattr(err, "headers", {}), **({"x-request-id": request_id} if request_id else {})}
    if err.retry_after is not None:
        headers["retry-after"] = str(max(1, round(err.retry_after)))
    return _json(error_body(err), status=err.status_code, headers=headers)


class _ReleasingStream(StreamingResponse):
    """A streaming response that frees the target's hold even if the body is never iterated."""

    def __init__(self, release: Callable[[], None], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


def _request_id(request: Request) -> str | None:
    return request.headers.get("x-request-id") or f"req-{uuid.uuid4().hex}"


def _no_request_id(request: Request) -> str | None:
    return None


async def _read_body(request: Request, limit: int) -> bytes:
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

    async def chat_completions(request: Request) -> Response:
        trace = RequestTrace()
        started = trace.started
        request_id = request_id_of(request)
        trace.set(client_request_id=request_id or client_request_id(request),
                  client_ip=request.client.host if request.client else None)
        try:
            principal = await gateway.authenticate(request.headers.get("authorization"), request.headers.get("api-key"))
            trace.set(org_id=principal.org_id, team_id=principal.team_id, key_id=principal.key_id)
            deadline = gateway.deadline(request.headers.get("x-tollgate-deadline-ms"))
            chat = parse_chat_request(await _read_body(request, limit))
            trace.set(model=chat.model, stream=bool(chat.stream), end_user=chat.user)
            if chat.stream:
                continuation = request.headers.get("x-tollgate-stream-continuation", "").lower() in ("1", "true", "on")
                stream = await gateway.chat_stream(chat, started, deadline, continuation=continuation,
                                                   principal=principal, trace=trace, cache_headers=request.headers)
                headers = with_id(request_id, {"cache-control": "no-cache", **stream.headers})
                return _ReleasingStream(stream.release, stream.body, media_type="text/event-stream", headers=headers)
            reply = await gateway.chat(chat, started, deadline, principal=principal, trace=trace,
                                       cache_headers=request.headers)
        except TollgateError as err:
            await gateway.recorder.record_error(trace, err)
            return _error_response(err, request_id)
        except asyncio.CancelledError:
            gateway.recorder.record_soon(trace, "client_disconnected")
            raise
        except Exception:
            # A bug: the generic handler answers 500; the audit log still gets the request's record.
            await gateway.recorder.record_error(trace, TollgateError("internal error in the gateway"))
            raise
        return _json(reply.body, headers=with_id(request_id, reply.headers))

    async def list_models(request: Request) -> Response:
        request_id = request_id_of(request)
        try:
            principal = await gateway.authenticate(request.headers.get("authorization"), request.headers.get("api-key"))
        except TollgateError as err:
            return _error_response(err, request_id)
        models = [m for m in gateway.catalog.list_models() if principal.may_use(m["id"])]
        return _json({"object": "list", "data": models}, headers=with_id(request_id, {}))

    async def authorize_admin(request: Request) -> None:
        await gateway.authenticate_admin(request.headers.get("authorization"), request.headers.get("api-key"))

    async def routing_state(request: Request) -> Response:
        try:
            await authorize_admin(request)
            if request.method == "POST":
                await gateway.reset_routing()
        except TollgateError as err:
            return _error_response(err, request_id_of(request))
        return _json({"targets": gateway.routing_state()})

    async def cache_admin(request: Request) -> Response:
        try:
            await authorize_admin(request)
            if request.method == "POST":
                return _json(await gateway.cache_purge(await parse_body(request, CachePurge)))
            return _json(await gateway.cache_stats())
        except TollgateError as err:
            return _error_response(err, request_id_of(request))

    async def healthz(request: Request) -> Response:
        return _json({"status": "ok"})

    async def readyz(request: Request) -> Response:
        report = await gateway.readiness()
        return _json(report, status=200 if report["ready"] else 503)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        request_id = request_id_of(request)
        if exc.status_code == 404:
            return _error_response(NotFoundError(f"no route for {request.method} {request.url.path}"), request_id)
        err = TollgateError(str(exc.detail), status_code=exc.status_code, error_type="invalid_request_error")
        return _error_response(err, request_id)

    async def unexpected_error(request: Request, exc: Exception) -> Response:
        # Logged with its trace here; the client gets no internals.
        logger.exception("unhandled error on %s", request.url.path)
        return _error_response(TollgateError("internal error in the gateway; see its logs"), request_id_of(request))

    governed = (
        admin_routes(gateway.governance, authorize_admin, lambda body, status: _json(body, status=status),
                     lambda err, request: _error_response(err, request_id_of(request)))
        if gateway.governance is not None else []
    )
    return Starlette(
        routes=[
            *governed,
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/models", list_models, methods=["GET"]),
            Route("/admin/routing", routing_state, methods=["GET"]),
            Route("/admin/routing/reset", routing_state, methods=["POST"]),
            Route("/admin/cache", cache_admin, methods=["GET"]),
            Route("/admin/cache/purge", cache_admin, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error, Exception: unexpected_error},
    )
