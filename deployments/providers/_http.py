"""The one seam where httpx's exceptions and provider error statuses become gateway errors."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from tollgate_core.config import TargetConfig
from tollgate_core.errors import (
    UpstreamError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
    from_error_body,
)

__all__ = ["ErrorMapper", "new_client", "open_stream", "parse_retry_after", "request_json", "timeout_for"]

_MAX_RETRY_AFTER_S = 86_400.0

# Maps (status, parsed body or text, response headers) to the error to raise.
ErrorMapper = Callable[[int, Any, httpx.Headers], UpstreamError]


def new_client() -> httpx.AsyncClient:
    """One pooled client per proxy replica; timeouts are set per request from the target."""
    return httpx.AsyncClient(
        limits=httpx.Limits(max_connections=1000, max_keepalive_connections=200, keepalive_expiry=30),
        follow_redirects=False,
        trust_env=False,
    )


def timeout_for(target: TargetConfig) -> httpx.Timeout:
    return httpx.Timeout(target.timeout_s, connect=target.connect_timeout_s)


def parse_retry_after(headers: httpx.Headers) -> float | None:
    """Seconds from ``Retry-After`` (delta or HTTP date) or ``retry-after-ms``, else None."""
    ms = headers.get("retry-after-ms")
    if ms:
        with suppress(ValueError):
            return _bounded(float(ms) / 1000)
    value = headers.get("retry-after")
    if not value:
        return None
    with suppress(ValueError):
        return _bounded(float(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return _bounded((when - datetime.now(UTC)).total_seconds())


def _bounded(seconds: float) -> float | None:
    """A usable wait: non-finite values are ignored, others kept within [0, 1 day]."""
    if not math.isfinite(seconds):
        return None
    return min(max(0.0, seconds), _MAX_RETRY_AFTER_S)


def default_error(status: int, body: Any, headers: httpx.Headers) -> UpstreamError:
    """OpenAI-style error bodies (``{"error": {...}}``)."""
    message, _etype, code = from_error_body(status, body, "no error message")
    return UpstreamStatusError(message, upstream_status=status, code=code, retry_after=parse_retry_after(headers))


def _decode(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")[:500]


def _transport_error(exc: httpx.HTTPError, label: str) -> UpstreamError:
    if isinstance(exc, httpx.TimeoutException):
        phase = "connecting to" if isinstance(exc, httpx.ConnectTimeout) else "waiting for"
        return UpstreamTimeoutError(f"timed out {phase} {label}; try again or raise the target's timeout_s")
    if isinstance(exc, httpx.ConnectError):
        return UpstreamUnavailableError(f"cannot connect to {label} ({type(exc).__name__})")
    # Never the exception's text: a protocol error can quote the request's headers, key included.
    return UpstreamError(f"connection to {label} failed ({type(exc).__name__})")


async def request_json(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    target: TargetConfig,
    on_error: ErrorMapper = default_error,
    **kwargs: Any,
) -> httpx.Response:
    """Send a request and return a 2xx response, or raise the mapped gateway error."""
    try:
        response = await client.request(method, url, timeout=timeout_for(target), **kwargs)
    except httpx.HTTPError as exc:
        raise _transport_error(exc, target.label) from exc
    if response.status_code >= 400:
        raise on_error(response.status_code, _decode(response.content), response.headers)
    return response


@asynccontextmanager
async def open_stream(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    target: TargetConfig,
    on_error: ErrorMapper = default_error,
    **kwargs: Any,
) -> AsyncIterator[httpx.Response]:
    """Open a streaming response; error statuses are read and raised before yielding."""
    try:
        async with client.stream(method, url, timeout=timeout_for(target), **kwargs) as response:
            if response.status_code >= 400:
                content = await response.aread()
                raise on_error(response.status_code, _decode(content), response.headers)
            yield response
    except httpx.HTTPError as exc:
        raise _transport_error(exc, target.label) from exc


async def guard_iteration(source: AsyncIterator[Any], label: str) -> AsyncIterator[Any]:
    """Re-raise transport errors that happen mid-stream as gateway errors."""
    try:
        async for item in source:
            yield item
    except httpx.HTTPError as exc:
        raise _transport_error(exc, label) from exc
