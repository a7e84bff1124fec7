"""Load shedding at the ingress: past ``server.max_in_flight`` API requests, a fast 503 with ``Retry-After``.

Serve queues a request for a replica that is at ``max_ongoing_requests``; under a burst that queue turns into
minutes of waiting and client timeouts. The replica instead counts the API requests it is working on (a streamed
answer counts until its last byte) and refuses the ones past its limit at once, in the endpoint's own error
shape, so a client (or its SDK's retry) backs off and tries again. Health and admin routes are never shed: an
operator must reach them during an overload.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from serve_app.http.chat_call import json_response
from serve_app.http.messages_wire import anthropic_error_body
from tollgate_core.errors import OverloadedError, error_body
from tollgate_core.metrics import GatewayMetrics, NullMetrics

__all__ = ["AdmissionLimit"]

RETRY_AFTER_S = 1


class AdmissionLimit:
    """ASGI middleware: at most ``limit`` concurrent requests under ``/v1/``; the rest get 503 at once."""

    def __init__(self, app: ASGIApp, limit: int, metrics: GatewayMetrics | None = None) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0
        self._metrics = metrics or NullMetrics()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            self._metrics.rejection("overloaded")
            await self._refuse(scope)(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    def _refuse(self, scope: Scope) -> ASGIApp:
        err = OverloadedError(f"the gateway is at its limit of {self.limit} concurrent requests per replica; "
                              f"retry after {RETRY_AFTER_S} s", retry_after=RETRY_AFTER_S)
        body = anthropic_error_body(err) if scope["path"].startswith("/v1/messages") else error_body(err)
        return json_response(body, status=err.status_code, headers={"retry-after": str(RETRY_AFTER_S)})
