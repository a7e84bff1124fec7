"""Chat calls the gateway makes for itself (the ``rubric`` judge's model): admitted against their own virtual key,
routed with retries and failover, settled and recorded like any client's request, so what they cost shows in the
ledger, the audit log (endpoint ``judge:rubric``) and the metrics."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from deployments.router.board import Outcome
from serve_app.pipeline.calls import answer_text
from serve_app.pipeline.recording import new_trace
from tollgate_core.entities import MASTER, Principal
from tollgate_core.errors import AuthenticationError, TollgateError

if TYPE_CHECKING:
    from serve_app.pipeline.gateway import Gateway

__all__ = ["InternalCalls"]


class InternalCalls:
    """``complete(model, request, key_env)`` → the answer's text."""

    def __init__(self, gateway: Gateway, endpoint: str = "judge:rubric") -> None:
        self._gateway = gateway
        self._endpoint = endpoint

    async def _principal(self, key_env: str | None) -> Principal:
        if key_env is None:
            return MASTER
        secret = os.environ.get(key_env)
        if not secret:
            raise AuthenticationError(f"{key_env} is not set: the judge's calls have no key to be charged to")
        # Read each time: the key's budgets and status are the store's, not a copy taken at start.
        return await self._gateway.authenticate(f"Bearer {secret}", None)

    async def complete(self, model: str, request: dict[str, Any], key_env: str | None) -> str:
        gateway = self._gateway
        trace = new_trace(time.perf_counter(), MASTER, None)
        trace.set(endpoint=self._endpoint, model=model, stream=False)
        request = dict(request)
        try:
            principal = await self._principal(key_env)
            trace.set(org_id=principal.org_id, team_id=principal.team_id, key_id=principal.key_id)
            admission = await gateway.accounts.admit(principal, model, request, trace)
            result = await gateway.route(model, admission, trace, None, gateway.backends.complete(request),
                                         time.time() + gateway.config.routing.deadline_s)
        except TollgateError as err:
            await gateway.recorder.record_error(trace, err)
            raise
        reply = result.value
        trace.set(upstream_ms=round(reply["upstream_ms"], 3), ttft_ms=round(reply["upstream_ms"], 3))
        await gateway.accounts.settle(admission, trace, target=result.target, usage=reply["body"].get("usage"))
        trace.set(status=200, outcome="ok")
        await gateway.recorder.record(trace)
        gateway.failover.observe(result.target, Outcome.OK, result.started, ttft_ms=reply["upstream_ms"])
        return answer_text(reply["body"])
