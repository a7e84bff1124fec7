"""The audit record of each request, and the work that runs after a response (nobody waits for it)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from serve_app.audit.record import AuditRecord
from serve_app.audit.trace import AuditSink, RequestTrace
from tollgate_core.entities import Principal
from tollgate_core.errors import TollgateError, UpstreamUnavailableError
from tollgate_core.metrics import GatewayMetrics, NullMetrics, RequestFacts

__all__ = ["Recorder", "new_trace", "request_facts"]

# Error types of a guardrail refusal (deployments/guardrail/errors.py).
_GUARDRAIL_BLOCKS = frozenset({"pii_blocked", "prompt_injection_detected", "output_blocked", "guardrail_error"})

logger = logging.getLogger("tollgate.gateway")


def new_trace(started: float, principal: Principal, client_request_id: str | None) -> RequestTrace:
    trace = RequestTrace(started=started)
    trace.set(client_request_id=client_request_id, org_id=principal.org_id, team_id=principal.team_id,
              key_id=principal.key_id)
    return trace


def request_facts(record: AuditRecord, known_models: frozenset[str]) -> RequestFacts:
    """What the request metrics take from an audit record, every label value bounded."""
    if record.error_type in _GUARDRAIL_BLOCKS:
        action: str | None = "block"
    elif record.injection_flagged and record.injection_action == "flag":
        action = "flag"
    elif record.guardrail_findings:
        action = "redact"
    else:
        action = None
    return RequestFacts(
        endpoint=record.endpoint, model=record.model if record.model in known_models else "other",
        provider=record.provider or "", team=record.team_id or "", status=record.status, outcome=record.outcome,
        stream=record.stream, latency_ms=record.latency_ms or 0.0, ttft_ms=record.ttft_ms,
        input_tokens=record.prompt_tokens, output_tokens=record.completion_tokens, cached_tokens=record.cached_tokens,
        cache_write_tokens=record.cache_write_tokens, cost_usd=record.cost_usd, guardrail_action=action,
    )


class Recorder:
    """Writes audit records (a client sees the last byte only once its record is committed) and runs background
    tasks (cache writes, the records of clients that went away) that ``drain`` waits for. Each record also
    feeds the request metrics."""

    def __init__(self, audit: AuditSink | None, seal: Callable[[dict[str, Any]], str] | None,
                 metrics: GatewayMetrics | None = None, known_models: frozenset[str] = frozenset()) -> None:
        self._audit = audit
        self._seal = seal
        self._metrics: GatewayMetrics = metrics or NullMetrics()
        self._known_models = known_models
        self._background: set[asyncio.Future[None]] = set()

    async def record(self, trace: RequestTrace) -> None:
        """Append the request's audit record and wait for its batch to commit (raises if it cannot)."""
        if trace.recorded:
            return
        trace.recorded = True
        if trace.texts is not None and self._seal is not None:
            trace.set(sealed_text=self._seal(trace.texts))
        record = trace.record()
        self._metrics.request(request_facts(record, self._known_models))
        if self._audit is None:
            return
        try:
            await asyncio.shield(self._audit.append(record))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.exception("could not write the audit record of %s", trace.request_id)
            raise UpstreamUnavailableError(
                "the audit log could not be written; the request was not completed", code="audit_unavailable"
            ) from exc

    async def append_only(self, record: AuditRecord) -> None:
        """Append a record that is not a request's own (a judgement): no request metrics, failures only logged."""
        if self._audit is None:
            return
        try:
            await self._audit.append(record)
        except Exception:
            logger.exception("could not write the %s record of %s", record.kind, record.request_id)

    async def record_error(self, trace: RequestTrace, err: TollgateError) -> None:
        """The audit record of a request that ended in ``err`` (logged, never raised: the error goes out)."""
        trace.set(status=err.status_code, outcome=err.error_type, error_type=err.error_type, error_code=err.code)
        await self._record_quietly(trace)

    def record_soon(self, trace: RequestTrace, outcome: str, status: int = 499) -> None:
        """The audit record of a request nobody waits for (the client went away, or its stream was cut);
        499 is the status nginx logs for a client that closed the connection."""
        if not trace.recorded and not trace.scheduled:
            trace.scheduled = True
            trace.set(outcome=outcome, status=status)
            self.spawn(self._record_quietly(trace))

    async def _record_quietly(self, trace: RequestTrace) -> None:
        """``record`` for a request whose response is an error or gone anyway (the failure is logged there)."""
        try:
            await self.record(trace)
        except TollgateError:
            pass

    def spawn(self, coro: Awaitable[None]) -> None:
        """Run ``coro`` after the response; ``drain`` waits for it."""
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait for the work that runs after responses (cache writes, audit records of gone clients)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
