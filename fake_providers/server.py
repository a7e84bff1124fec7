"""A fake of every commercial provider Tollgate proxies, as a real HTTP server on 127.0.0.1.

It speaks each provider's own wire format, so the gateway's provider proxies can be tested
end to end without the internet:

==========================================================  ===============================
``POST /v1/chat/completions``, ``GET /v1/models``           OpenAI (``Authorization: Bearer``)
``POST /openai/deployments/{deployment}/chat/completions``  Azure OpenAI (``api-key``,
                                                            ``?api-version=``)
``POST /v1/messages``                                       Anthropic (``x-api-key``,
                                                            ``anthropic-version``)
``POST /model/{modelId}/converse`` and ``/converse-stream``  Bedrock (SigV4)
==========================================================  ===============================

and the embedding endpoints of each (:mod:`fake_providers.embeddings`).

Replies are deterministic (see :mod:`fake_providers.reply`); the byte-level shapes live in
:mod:`fake_providers.wire`. Control endpoints under ``/_fake``:

* ``GET``/``DELETE /_fake/requests`` — every provider request seen (method, path, query,
  headers, JSON body), or clear them;
* ``POST``/``GET``/``DELETE /_fake/faults`` — add fault rules (a JSON list, appended to the
  current ones; the first matching rule wins), list them, or clear them;
* ``POST /_fake/reset`` — clear requests, faults and the fake prompt cache.

Fault rules are described in :mod:`fake_providers.state`; the model a rule matches is the
body's ``model`` (OpenAI, Anthropic) or the path's deployment / modelId (Azure, Bedrock).
Faults apply after the auth check. Where providers differ:

* ``"429"``/``"500"``/``"503"`` answer in the provider's own error shape; ``"429"`` sets
  ``retry-after`` (and ``retry-after-ms``, and for OpenAI/Azure zeroed
  ``x-ratelimit-remaining-*``); ``"503"`` answers Anthropic with 529 ``overloaded_error``,
  Anthropic's own way of saying it is overloaded;
* ``"hang"`` waits until the client disconnects, at most ``HANG_CAP_S``, then answers normally;
* ``"drop"`` closes the TCP connection before any response;
* ``"cut_stream"`` sends ``after_chunks`` SSE events / eventstream frames, never the last one,
  then closes the connection; on a non-streamed request it drops like ``"drop"``;
* ``"slow_first_token"`` sends the headers at once and holds the first chunk (or the whole
  non-streamed body) for ``delay`` seconds;
* ``"slow_stream"`` sends the first chunk at once and waits ``delay`` seconds before each of the others (a
  non-streamed request is answered at once).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict
from typing import Any

import uvicorn
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fake_providers import wire
from fake_providers.embeddings import FakeEmbeddings
from fake_providers.reply import (
    RequestShapeError,
    from_anthropic,
    from_bedrock,
    from_openai,
    plan_reply,
)
from fake_providers.state import FAULT_KINDS, FakeState, FaultRule

__all__ = ["FAULT_KINDS", "FakeProviderServer", "FakeState", "FaultRule", "create_app", "main"]

Json = dict[str, Any]

HANG_CAP_S = 300.0
_DROP_KEY = "tollgate.fake.drop"
_MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "o3-mini", "text-embedding-3-small")
_SSE = "text/event-stream"
_EVENTSTREAM = "application/vnd.amazon.eventstream"


# --- connection-level faults ----------------------------------------------------------------


class _DropConnectionMiddleware:
    """Lets a route close the TCP connection without (the rest of) a response.

    ASGI has no message for that, and an exception makes uvicorn answer 500 instead, so this
    reaches the transport through uvicorn's request cycle (the object whose method
    ``receive`` is), closes it, and swallows whatever the route sends afterwards.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        dropped = False

        async def drop() -> None:
            nonlocal dropped
            cycle = getattr(receive, "__self__", None)
            transport = getattr(cycle, "transport", None)
            if transport is None:
                raise RuntimeError("dropping a connection needs the fake to run under uvicorn")
            dropped = True
            transport.close()
            # uvicorn marks the cycle disconnected on a later loop turn; until then it would
            # still answer 500 to a response that was never started.
            for _ in range(200):
                if getattr(cycle, "disconnected", True):
                    break
                await asyncio.sleep(0.005)

        async def guarded_send(message: Message) -> None:
            if not dropped:
                await send(message)

        scope[_DROP_KEY] = drop
        try:
            await self.app(scope, receive, guarded_send)
        except Exception:
            if not dropped:
                raise


async def _drop(request: Request) -> Response:
    drop: Callable[[], Awaitable[None]] = request.scope[_DROP_KEY]
    await drop()
    return Response(status_code=500)  # never sent: the connection is gone


async def _hang(request: Request) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HANG_CAP_S
    while loop.time() < deadline and not await request.is_disconnected():
        await asyncio.sleep(0.05)


# --- SigV4 ----------------------------------------------------------------------------------


def _sigv4_problem(request: Request, body: bytes, credentials: Credentials) -> tuple[str, str] | None:
    """Recompute the request's SigV4 signature with botocore; ``(error type, message)`` if bad."""
    auth = request.headers["authorization"]
    fields = dict(
        part.strip().split("=", 1) for part in auth.split(" ", 1)[1].split(",") if "=" in part
    )
    scope = fields.get("Credential", "").split("/")
    signed = fields.get("SignedHeaders", "").split(";")
    if len(scope) != 5 or not fields.get("Signature") or scope[4] != "aws4_request":
        return "IncompleteSignatureException", f"Authorization header is malformed: {auth!r}"
    if scope[0] != credentials.access_key:
        return "UnrecognizedClientException", "The security token included in the request is invalid."
    amz_date = request.headers["x-amz-date"]
    if amz_date[:8] != scope[1]:
        return "InvalidSignatureException", "Date in Credential scope does not match the x-amz-date header."
    missing = [name for name in signed if name not in request.headers]
    if missing:
        return "InvalidSignatureException", f"Signed headers {missing} are not in the request."
    claimed = request.headers.get("x-amz-content-sha256")
    if claimed not in (None, "UNSIGNED-PAYLOAD") and claimed != hashlib.sha256(body).hexdigest():
        return "InvalidSignatureException", "x-amz-content-sha256 does not match the request body."
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string", b"")
    url = f"http://{request.headers.get('host', '')}{raw_path.decode('latin-1')}"
    if query:
        url += "?" + query.decode("latin-1")
    signed_headers = {name: ",".join(request.headers.getlist(name)) for name in signed}
    aws_request = AWSRequest(method=request.method, url=url, headers=signed_headers, data=body)
    aws_request.context["timestamp"] = amz_date
    signer = SigV4Auth(credentials, scope[3], scope[2])
    string_to_sign = signer.string_to_sign(aws_request, signer.canonical_request(aws_request))
    if not hmac.compare_digest(signer.signature(string_to_sign, aws_request), fields["Signature"]):
        return (
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method.",
        )
    return None


# --- routes ---------------------------------------------------------------------------------


def _error(err: wire.ErrorReply) -> JSONResponse:
    return JSONResponse(err.body, status_code=err.status, headers=err.headers)


def _has_bearer(request: Request) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


def _openai_headers(ident: str) -> dict[str, str]:
    return {
        "x-request-id": f"req_{ident}",
        "openai-processing-ms": "1",
        "x-ratelimit-limit-requests": "1000",
        "x-ratelimit-limit-tokens": "1000000",
        "x-ratelimit-remaining-requests": "999",
        "x-ratelimit-remaining-tokens": "999999",
    }


class _Providers:
    """The provider endpoints; one instance per app, sharing one :class:`FakeState`."""

    def __init__(self, state: FakeState, credentials: Credentials | None) -> None:
        self.state = state
        self.credentials = credentials

    async def _open(self, request: Request) -> tuple[bytes, Any]:
        """Read and record the request; the body is parsed JSON, or ``None`` if it is not."""
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self.state.record(
            {
                "method": request.method,
                "path": request.url.path,
                "query": dict(request.query_params),
                "headers": dict(request.headers),
                "body": body if body is not None or not raw else raw.decode("utf-8", "replace"),
                "time": time.time(),
            }
        )
        return raw, body

    async def _early_fault(self, request: Request, fault: FaultRule | None, provider: str) -> Response | None:
        """Apply the part of ``fault`` that comes before any reply; a response ends the request."""
        if fault is None:
            return None
        if fault.fault in ("429", "500", "503", "context_length"):
            return _error(wire.fault_error(provider, fault.fault, fault.retry_after))
        if fault.fault == "hang":
            await _hang(request)
        elif fault.fault == "drop":
            return await _drop(request)
        return None

    async def _reply(
        self,
        request: Request,
        fault: FaultRule | None,
        *,
        stream: bool,
        body: Callable[[], Json],
        chunks: Callable[[], list[bytes]],
        media_type: str,
        headers: dict[str, str],
    ) -> Response:
        if stream:
            return StreamingResponse(
                self._paced(request, chunks(), fault),
                media_type=media_type,
                headers={**headers, "cache-control": "no-cache"},
            )
        if fault is not None and fault.fault == "cut_stream":
            return await _drop(request)
        if fault is not None and fault.fault == "slow_first_token":
            await asyncio.sleep(fault.delay)
        return JSONResponse(body(), headers=headers)

    async def _paced(self, request: Request, chunks: list[bytes], fault: FaultRule | None) -> AsyncIterator[bytes]:
        # The stream is planned whole (it is deterministic); faults only change its delivery.
        kind = fault.fault if fault is not None else None
        delay = fault.delay if fault is not None and kind == "slow_first_token" else 0.0
        pace = fault.delay if fault is not None and kind == "slow_stream" else 0.0
        # A cut stream never carries its last chunk ([DONE], message_stop, metadata).
        cut_at = min(fault.after_chunks, len(chunks) - 1) if fault is not None and kind == "cut_stream" else -1
        for index, chunk in enumerate(chunks):
            if index == cut_at:
                await _drop(request)
                return
            if index == 0 and delay:
                await asyncio.sleep(delay)
            if index > 0 and pace:
                await asyncio.sleep(pace)
            yield chunk

    # OpenAI and Azure OpenAI ----------------------------------------------------------------

    async def openai_chat(self, request: Request) -> Response:
        _, body = await self._open(request)
        if not _has_bearer(request):
            return _error(self._openai_no_key())
        if not isinstance(body, dict):
            message = "We could not parse the JSON body of your request."
            return _error(wire.openai_error(400, message, "invalid_request_error"))
        model = body.get("model")
        fault = self.state.take_fault(request.url.path, model if isinstance(model, str) else None)
        if (early := await self._early_fault(request, fault, "openai")) is not None:
            return early
        if not isinstance(model, str) or not model:
            message = "you must provide a model parameter"
            return _error(wire.openai_error(400, message, "invalid_request_error", param="model"))
        return await self._chat(request, body, fault, provider="openai", model=model, extra_headers={})

    async def azure_chat(self, request: Request) -> Response:
        deployment = request.path_params["deployment"]
        _, body = await self._open(request)
        if not request.headers.get("api-key"):
            return _error(
                wire.azure_error(
                    401,
                    "401",
                    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
                    "provide a valid key for an active subscription and use a correct regional API endpoint.",
                )
            )
        if not request.query_params.get("api-version"):
            return _error(
                wire.azure_error(
                    400,
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.",
                )
            )
        if not isinstance(body, dict):
            return _error(wire.azure_error(400, "BadRequest", "The request body is not valid JSON."))
        fault = self.state.take_fault(request.url.path, deployment)
        if (early := await self._early_fault(request, fault, "azure")) is not None:
            return early
        extra = {"apim-request-id": self.state.next_id()}
        return await self._chat(request, body, fault, provider="azure", model=deployment, extra_headers=extra)

    async def _chat(
        self,
        request: Request,
        body: Json,
        fault: FaultRule | None,
        *,
        provider: str,
        model: str,
        extra_headers: dict[str, str],
    ) -> Response:
        try:
            conv = from_openai(body, provider=provider, model=model)
        except RequestShapeError as exc:
            return _error(wire.openai_error(400, exc.message, "invalid_request_error", param=exc.param))
        reply, ident, created = plan_reply(conv), self.state.next_id(), int(time.time())
        cached, _ = self.state.cache.account(conv.cache_prefixes, conv.min_cache_tokens)  # writes are free
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        return await self._reply(
            request,
            fault,
            stream=body.get("stream") is True,
            body=lambda: wire.openai_completion(reply, model=conv.model, ident=ident, created=created, cached=cached),
            chunks=lambda: wire.openai_chunks(
                reply, model=conv.model, ident=ident, created=created, include_usage=include_usage, cached=cached
            ),
            media_type=_SSE,
            headers={**_openai_headers(ident), **extra_headers},
        )

    @staticmethod
    def _openai_no_key() -> wire.ErrorReply:
        return wire.openai_error(
            401,
            "You didn't provide an API key. You need to provide your API key in an Authorization "
            "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            "invalid_request_error",
            "invalid_api_key",
        )

    async def openai_models(self, request: Request) -> Response:
        await self._open(request)
        if not _has_bearer(request):
            return _error(self._openai_no_key())
        fault = self.state.take_fault(request.url.path, None)
        if (early := await self._early_fault(request, fault, "openai")) is not None:
            return early
        data = [{"id": m, "object": "model", "created": 1700000000, "owned_by": "openai"} for m in _MODELS]
        return JSONResponse({"object": "list", "data": data}, headers=_openai_headers(self.state.next_id()))

    # Anthropic ------------------------------------------------------------------------------

    async def anthropic_messages(self, request: Request) -> Response:
        _, body = await self._open(request)
        if not request.headers.get("x-api-key"):
            return _error(wire.anthropic_error(401, "authentication_error", "x-api-key header is required"))
        if not request.headers.get("anthropic-version"):
            return _error(wire.anthropic_error(400, "invalid_request_error", "anthropic-version: header is required"))
        if not isinstance(body, dict):
            return _error(wire.anthropic_error(400, "invalid_request_error", "The request body is not valid JSON."))
        model = body.get("model")
        fault = self.state.take_fault(request.url.path, model if isinstance(model, str) else None)
        if (early := await self._early_fault(request, fault, "anthropic")) is not None:
            return early
        try:
            conv = from_anthropic(body)
        except RequestShapeError as exc:
            return _error(wire.anthropic_error(400, "invalid_request_error", exc.message))
        reply, ident = plan_reply(conv), self.state.next_id()
        cache = self.state.cache.account(conv.cache_prefixes, conv.min_cache_tokens)
        return await self._reply(
            request,
            fault,
            stream=body.get("stream") is True,
            body=lambda: wire.anthropic_message(reply, model=conv.model, ident=ident, cache=cache),
            chunks=lambda: wire.anthropic_events(reply, model=conv.model, ident=ident, cache=cache),
            media_type=_SSE,
            headers={
                "request-id": f"req_{ident}",
                "anthropic-ratelimit-requests-remaining": "999",
                "anthropic-ratelimit-tokens-remaining": "999999",
            },
        )

    # Bedrock --------------------------------------------------------------------------------

    async def bedrock_converse(self, request: Request) -> Response:
        return await self._bedrock(request, stream=False)

    async def bedrock_converse_stream(self, request: Request) -> Response:
        return await self._bedrock(request, stream=True)

    async def _bedrock(self, request: Request, *, stream: bool) -> Response:
        started = time.monotonic()
        model_id = request.path_params["model_id"]
        raw, body = await self._open(request)
        auth = request.headers.get("authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 Credential=") or not request.headers.get("x-amz-date"):
            message = "Missing or malformed SigV4 Authorization and x-amz-date headers."
            return _error(wire.bedrock_error(403, "UnrecognizedClientException", message))
        if self.credentials is not None:
            problem = _sigv4_problem(request, raw, self.credentials)
            if problem is not None:
                return _error(wire.bedrock_error(403, *problem))
        if not isinstance(body, dict):
            return _error(wire.bedrock_error(400, "SerializationException", "The request body is not valid JSON."))
        fault = self.state.take_fault(request.url.path, model_id)
        if (early := await self._early_fault(request, fault, "bedrock")) is not None:
            return early
        try:
            conv = from_bedrock(body, model_id=model_id)
        except RequestShapeError as exc:
            return _error(wire.bedrock_error(400, "ValidationException", exc.message))
        reply, ident = plan_reply(conv), self.state.next_id()
        cache = self.state.cache.account(conv.cache_prefixes, conv.min_cache_tokens)

        def latency() -> int:
            return int((time.monotonic() - started) * 1000)

        return await self._reply(
            request,
            fault,
            stream=stream,
            body=lambda: wire.bedrock_converse(reply, ident=ident, cache=cache, latency_ms=latency()),
            chunks=lambda: wire.bedrock_events(reply, ident=ident, cache=cache, latency_ms=latency()),
            media_type=_EVENTSTREAM,
            headers={"x-amzn-RequestId": ident},
        )

    async def unknown(self, request: Request) -> Response:
        await self._open(request)
        message = f"The fake provider server has no route {request.method} {request.url.path}."
        return _error(wire.openai_error(404, message, "invalid_request_error", "not_found"))


class _Control:
    """The ``/_fake`` endpoints tests use to inspect and steer the fake."""

    def __init__(self, state: FakeState) -> None:
        self.state = state

    async def requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.state.clear_requests()
        return JSONResponse(self.state.requests())

    async def faults(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.state.clear_faults()
        elif request.method == "POST":
            try:
                raw = json.loads(await request.body())
                rules = [FaultRule.from_json(r) for r in (raw if isinstance(raw, list) else [raw])]
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            self.state.add_faults(rules)
        return JSONResponse([asdict(rule) for rule in self.state.faults()])

    async def reset(self, request: Request) -> Response:
        self.state.reset()
        return JSONResponse({"reset": True})


def _env_credentials() -> Credentials | None:
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not key or not secret:
        return None
    return Credentials(key, secret, os.environ.get("AWS_SESSION_TOKEN"))


def create_app(*, verify_sigv4: bool | None = None) -> Starlette:
    """Build the fake's ASGI app; its :class:`FakeState` is ``app.state.fake``.

    ``verify_sigv4`` recomputes each Bedrock request's signature with the credentials in
    ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` (read now, not at import); by default it
    is on exactly when both variables are set.
    """
    credentials = _env_credentials()
    if verify_sigv4 is None:
        verify_sigv4 = credentials is not None
    if verify_sigv4 and credentials is None:
        raise ValueError(
            "verify_sigv4=True needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment; "
            "set them to the test credentials or pass verify_sigv4=False"
        )
    state = FakeState()
    providers = _Providers(state, credentials if verify_sigv4 else None)
    embeddings = FakeEmbeddings(providers)
    control = _Control(state)
    routes = [
        Route("/_fake/requests", control.requests, methods=["GET", "DELETE"]),
        Route("/_fake/faults", control.faults, methods=["GET", "POST", "DELETE"]),
        Route("/_fake/reset", control.reset, methods=["POST"]),
        Route("/v1/chat/completions", providers.openai_chat, methods=["POST"]),
        Route("/v1/models", providers.openai_models, methods=["GET"]),
        Route("/openai/deployments/{deployment}/chat/completions", providers.azure_chat, methods=["POST"]),
        Route("/v1/messages", providers.anthropic_messages, methods=["POST"]),
        Route("/v1/embeddings", embeddings.openai, methods=["POST"]),
        Route("/openai/deployments/{deployment}/embeddings", embeddings.azure, methods=["POST"]),
        Route("/model/{model_id:path}/invoke", embeddings.bedrock_invoke, methods=["POST"]),
        # Model ids may be ARNs with an encoded "/", so the id takes the whole middle.
        Route("/model/{model_id:path}/converse", providers.bedrock_converse, methods=["POST"]),
        Route("/model/{model_id:path}/converse-stream", providers.bedrock_converse_stream, methods=["POST"]),
        Route("/{path:path}", providers.unknown, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(_DropConnectionMiddleware)])
    app.state.fake = state
    return app


class FakeProviderServer:
    """The fake served by uvicorn on a background thread; ``port=0`` picks a free port.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, verify_sigv4: bool | None = None) -> None:
        self.host = host
        self._port = port
        self.app = create_app(verify_sigv4=verify_sigv4)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def port(self) -> int:
        """The bound port (known once started)."""
        return self._port

    @property
    def base_url(self) -> str:
        """``http://host:port`` with no trailing slash; provider paths go right after it."""
        if self._server is None:
            raise RuntimeError("the fake provider server is not started; call start() first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    @property
    def state(self) -> FakeState:
        """Recorded requests, fault rules and prompt cache, for in-process inspection."""
        state: FakeState = self.app.state.fake
        return state

    def start(self, timeout: float = 10.0) -> FakeProviderServer:
        """Serve in a background thread; return once the port accepts connections."""
        if self._server is not None:
            raise RuntimeError("the fake provider server is already started")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._port))
        self._socket, self._port = sock, sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="fake-providers", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the fake provider server did not start within {timeout} s")
            time.sleep(0.01)
        with socket.create_connection((self.host, self._port), timeout=timeout):
            pass
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Shut the server down and wait for its thread (forcing it after ``timeout``)."""
        server, thread = self._server, self._thread
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(timeout)
            if thread.is_alive():
                server.force_exit = True
                thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> FakeProviderServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(port: int, host: str = "127.0.0.1") -> None:
    """Serve the fake in the foreground (``tollgate fake-providers --port N``)."""
    uvicorn.run(create_app(), host=host, port=port, log_level="info", lifespan="off")
