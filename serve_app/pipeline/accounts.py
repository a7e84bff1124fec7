"""Budgets on the request path: reserve before the call, settle after it, sweep what dead replicas left."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from serve_app.audit.trace import RequestTrace
from serve_app.governance.costing import usage_numbers
from serve_app.governance.enforcer import Admission, Governance
from serve_app.pipeline.calls import cost_usd
from tollgate_core.catalog import ResolvedTarget
from tollgate_core.entities import Principal
from tollgate_core.periodic import every

__all__ = ["Accounts"]

logger = logging.getLogger("tollgate.gateway")


class Accounts:
    """The governance of a gateway (none: the master key only, nothing is charged)."""

    def __init__(self, governance: Governance | None, sweep_interval_s: float) -> None:
        self.governance = governance
        self._sweep_interval_s = sweep_interval_s
        self._sweeper: asyncio.Task[None] | None = None

    def ensure_sweeping(self) -> None:
        """Charge, from now on, the reservations that a dead replica left open (at their worst case)."""
        if self.governance is not None and self._sweeper is None:
            self._sweeper = asyncio.create_task(every(
                self._sweep_interval_s, self.governance.ledger.settle_expired, "sweeping expired reservations", logger))

    async def admit(self, principal: Principal, model: str, internal: dict[str, Any],
                    trace: RequestTrace) -> Admission | None:
        """Rate limits and the budget reservation of every level (429 when one refuses)."""
        if self.governance is None:
            return None
        return await self.governance.admit(principal, model, internal, request_id=trace.request_id,
                                           client_request_id=trace.fields.get("client_request_id"))

    async def settle(self, admission: Admission | None, trace: RequestTrace, *, target: ResolvedTarget | None,
                     usage: Any = None, produced_text: str = "", outcome: str = "ok") -> None:
        """Charge the request; shielded, so a client that goes away cannot cancel the charge. An ungoverned
        request (the master key) is charged to nobody, but its record still gets its tokens and cost."""
        if admission is None or self.governance is None:
            numbers = usage_numbers(usage) if target is not None else None
            if numbers is not None and "cost_usd" not in trace.fields:
                trace.set(prompt_tokens=numbers[0], completion_tokens=numbers[1], cached_tokens=numbers[2],
                          cache_write_tokens=numbers[3], cost_usd=cost_usd(target, usage))
            return
        if admission.settled:
            return
        settle = self.governance.settle(admission, target=target.target if target else None, usage=usage,
                                        produced_text=produced_text, outcome=outcome)
        try:
            charge = await asyncio.shield(settle)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The charge stays reserved; the expiry sweep settles it at its worst case.
            logger.exception("could not settle request %s", admission.request_id)
            return
        if charge is not None:
            trace.set(prompt_tokens=charge.prompt_tokens, completion_tokens=charge.completion_tokens,
                      cached_tokens=charge.cached_tokens, cache_write_tokens=charge.cache_write_tokens,
                      cost_usd=charge.cost_nano / 1e9)
