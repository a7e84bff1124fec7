"""The gateway's one error tree, and the one mapper to OpenAI's error body.

::

    TollgateError (500, api_error)
    ├── BadRequestError (400, invalid_request_error)
    │   ├── RequestTooLargeError (413)
    │   └── GuardrailRefusedError (400 pii_blocked / prompt_injection_detected; 502 output_blocked)
    ├── JudgeFailedError (502, type judge_failed: an inline judge withheld the answer)
    ├── AuthenticationError (401)
    ├── PermissionDeniedError (403)
    ├── NotFoundError (404)
    │   └── ModelNotFoundError (404, code model_not_found)
    ├── RateLimitError (429, carries retry_after)
    │   └── BudgetExceededError (429, type budget_exceeded, names level and window)
    ├── ConfigError (raised at start; never reaches a client)
    └── UpstreamError (the provider failed; carries the upstream status)
        ├── UpstreamStatusError (502 for 5xx, passes 4xx/429 through)
        ├── UpstreamUnavailableError (503)
        └── UpstreamTimeoutError (504)
            └── DeadlineExceededError (504: the request's own deadline, not the target's fault)

Every exception carries the HTTP status it maps to and, where one input is at
fault, the request parameter (``param``) that names it. Third-party exceptions
are translated at exactly one seam per library with ``raise ... from exc``.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceededError",
    "ConfigError",
    "DeadlineExceededError",
    "GuardrailRefusedError",
    "JudgeFailedError",
    "ModelNotFoundError",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTooLargeError",
    "StoreUnavailableError",
    "TollgateError",
    "UpstreamError",
    "UpstreamStatusError",
    "UpstreamTimeoutError",
    "UpstreamUnavailableError",
    "error_body",
    "from_error_body",
]


_logger = logging.getLogger("tollgate.errors")


class TollgateError(Exception):
    """Base of every error the gateway raises on purpose."""

    status_code: int = 500
    error_type: str = "api_error"
    code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        status_code: int | None = None,
        error_type: str | None = None,
        retry_after: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        if error_type is not None:
            self.error_type = error_type
        self.retry_after = retry_after
        self.headers = dict(headers or {})  # extra response headers (the guardrail's x-tollgate-injection-*)

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors cross Ray deployment calls; keep every attribute through pickling.
        return (_rebuild, (type(self), self.message, self.__dict__.copy()))


def _rebuild(cls: type[TollgateError], message: str, state: dict[str, Any]) -> TollgateError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class BadRequestError(TollgateError):
    """The request is malformed or asks for something the target cannot do."""

    status_code = 400
    error_type = "invalid_request_error"


class RequestTooLargeError(BadRequestError):
    """The request body is larger than ``server.max_request_bytes``."""

    status_code = 413
    code = "request_too_large"


class GuardrailRefusedError(BadRequestError):
    """The guardrail policy refused the request (or the model's answer); ``error_type`` says which rule."""


class JudgeFailedError(TollgateError):
    """An inline judge withheld the model's answer (``code`` judge_failed), or could not judge it and fails closed
    (``code`` judge_unavailable). The message names the judge, never the answer."""

    status_code = 502
    error_type = "judge_failed"
    code = "judge_failed"


class AuthenticationError(TollgateError):
    """No key, or a key the gateway does not know."""

    status_code = 401
    error_type = "authentication_error"
    code = "invalid_api_key"


class PermissionDeniedError(TollgateError):
    """The key is valid but may not do this."""

    status_code = 403
    error_type = "permission_error"


class NotFoundError(TollgateError):
    """The path or object does not exist."""

    status_code = 404
    error_type = "invalid_request_error"


class ModelNotFoundError(NotFoundError):
    """The requested model is not in the catalog."""

    code = "model_not_found"


class RateLimitError(TollgateError):
    """A rate limit or budget was hit; ``retry_after`` says when to try again."""

    status_code = 429
    error_type = "rate_limit_error"
    code = "rate_limit_exceeded"


class BudgetExceededError(RateLimitError):
    """A hard budget of the caller's org, team, key or end user would be passed; ``code`` names which."""

    error_type = "budget_exceeded"
    code = "budget_exceeded"


class OverloadedError(TollgateError):
    """The ingress replica is at ``server.max_in_flight``; the client should retry after ``retry_after``."""

    status_code = 503
    error_type = "server_error"
    code = "overloaded"


class StoreUnavailableError(TollgateError):
    """The state store (keys, budgets, ledger, audit log) cannot be reached: the request is refused, not answered
    unmetered."""

    status_code = 503
    error_type = "service_unavailable"
    code = "state_store_unavailable"


class ConfigError(TollgateError):
    """The gateway configuration is invalid; raised at start, never sent to a client."""


class UpstreamError(TollgateError):
    """A provider or the local tier failed to answer."""

    status_code = 502
    error_type = "upstream_error"


class UpstreamStatusError(UpstreamError):
    """The provider answered with an error status.

    A provider 4xx that the caller's request caused (400, 413, 422) and 429 pass
    through with the provider's message; everything else (5xx, and 401/403/404,
    which mean the gateway's own credentials, URL or model id are wrong) maps to 502.
    """

    def __init__(self, message: str, *, upstream_status: int, **kwargs: Any) -> None:
        if upstream_status == 429:
            kwargs.setdefault("status_code", 429)
            kwargs.setdefault("error_type", "rate_limit_error")
        elif upstream_status in (400, 413, 422):
            kwargs.setdefault("status_code", 400 if upstream_status == 422 else upstream_status)
            kwargs.setdefault("error_type", "invalid_request_error")
        elif upstream_status in (401, 403):
            # The gateway's own provider credentials are wrong: the caller can't fix that, and the
            # provider's text may echo part of the key. Log it; tell the client only what happened.
            _logger.warning("provider rejected the gateway's credentials: %s", message)
            message = f"upstream returned {upstream_status}: the provider rejected the gateway's credentials"
        super().__init__(message, **kwargs)
        self.upstream_status = upstream_status


class UpstreamUnavailableError(UpstreamError):
    """No target could be reached (connection refused, reset, or none configured)."""

    status_code = 503
    error_type = "service_unavailable"


class UpstreamTimeoutError(UpstreamError):
    """The provider did not answer in time."""

    status_code = 504
    error_type = "timeout"


class DeadlineExceededError(UpstreamTimeoutError):
    """The request's deadline (config or ``x-tollgate-deadline-ms``) ran out; not counted against a target."""

    code = "deadline_exceeded"


def error_body(err: TollgateError) -> dict[str, Any]:
    """Render any gateway error as OpenAI's error object."""
    return {
        "error": {
            "message": err.message,
            "type": err.error_type,
            "param": err.param,
            "code": err.code,
        }
    }


def from_error_body(status: int, body: Any, default: str) -> tuple[str, str | None, str | None]:
    """Pull ``(message, type, code)`` out of a provider's JSON error body, whatever its shape."""
    message, etype, code = default, None, None
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            message = str(err.get("message") or err.get("Message") or default)
            etype = err.get("type") if isinstance(err.get("type"), str) else None
            code = err.get("code") if isinstance(err.get("code"), str) else None
        elif isinstance(err, str):
            message = err
        if "message" in body and isinstance(body["message"], str) and message == default:
            message = body["message"]
    return f"upstream returned {status}: {message}", etype, code
