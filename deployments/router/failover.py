"""Failover: try a model's targets (then its fallback models) within one deadline.

Per attempt: a 429 with a short ``Retry-After`` is waited out on the same
target, a longer one puts the target in cooldown and moves on at once; 5xx,
resets and timeouts are retried with exponential backoff and full jitter up to
``attempts_per_target``, then the next target is tried; a request error (400
class) is returned at once, except a context-window overflow, which moves to
the model's ``context_fallback``. Every attempt is recorded on the board.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from deployments.router.board import Availability, BoardSnapshot, Lease, Observation, Outcome, TargetBoard
from deployments.router.policy import order_targets, target_key
from tollgate_core.catalog import Catalog, ResolvedTarget
from tollgate_core.config import GatewayConfig
from tollgate_core.errors import (
    DeadlineExceededError,
    RateLimitError,
    TollgateError,
    UpstreamError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from tollgate_core.metrics import GatewayMetrics, NullMetrics

__all__ = ["AttemptResult", "Failover", "RouterLink", "RouterSync", "classify", "is_context_overflow"]

logger = logging.getLogger("tollgate.routing")

T = TypeVar("T")

_CONTEXT_OVERFLOW = re.compile(
    r"context[_ ]length|context window|maximum context|prompt is too long|input is too long|too many (input )?tokens",
    re.IGNORECASE,
)


_CALLER_STATUSES = frozenset({400, 413, 422})


def classify(err: TollgateError) -> Outcome:
    """What an attempt's error says about the target.

    Only 400/413/422 blame the request. An upstream 404 means the gateway's own
    URL or model id is wrong (a deleted Azure deployment, a retired model): a
    target fault, failed over like a 5xx. A deadline the client set says nothing
    about the target.
    """
    if isinstance(err, DeadlineExceededError):
        return Outcome.CLIENT_ERROR
    if isinstance(err, UpstreamStatusError):
        if err.upstream_status == 429:
            return Outcome.RATE_LIMITED
        if err.upstream_status in _CALLER_STATUSES:
            return Outcome.CLIENT_ERROR
        return Outcome.ERROR
    if isinstance(err, UpstreamTimeoutError):
        return Outcome.TIMEOUT
    if isinstance(err, UpstreamError):
        return Outcome.ERROR
    return Outcome.CLIENT_ERROR


def is_context_overflow(err: TollgateError) -> bool:
    return err.code == "context_length_exceeded" or bool(_CONTEXT_OVERFLOW.search(err.message))


@dataclass
class AttemptResult(Generic[T]):
    """What the successful attempt returned, where, and after how many tries."""

    value: T
    target: ResolvedTarget
    attempts: int
    started: float  # time.time() when the successful attempt began
    lease: Lease
    failovers: int = 0  # moves to another target before this one answered


@dataclass
class _Tally:
    attempts: int = 0
    errors: list[tuple[ResolvedTarget, TollgateError, Outcome]] = field(default_factory=list)


class Failover:
    """Runs one request's attempts over the ordered targets of its model and fallbacks."""

    def __init__(
        self,
        config: GatewayConfig,
        catalog: Catalog,
        board: TargetBoard,
        *,
        metrics: GatewayMetrics | None = None,
        report: Callable[[Observation], None] | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._config = config
        self._catalog = catalog
        self._board = board
        self._metrics = metrics or NullMetrics()
        self._report = report or (lambda obs: None)
        self._rng = rng or random.Random()
        self._sleep = sleep

    @property
    def board(self) -> TargetBoard:
        return self._board

    def observe(self, rt: ResolvedTarget, outcome: Outcome, started: float, **extra: Any) -> None:
        """Record one attempt's outcome on the local board, for the router, and as metrics."""
        now = self._board.now()
        obs = Observation(
            key=target_key(rt.model, rt.index), outcome=outcome, at=now, duration_ms=(now - started) * 1000, **extra
        )
        self._board.record(obs)
        self._report(obs)
        self._metrics.attempt(rt.model, rt.target.label, outcome.value, obs.duration_ms or 0.0)
        if obs.ttft_ms is not None:
            self._metrics.ttft(rt.model, rt.target.label, obs.ttft_ms)
        self._metrics.circuit(rt.target.label, self._board.availability(obs.key).value)

    def _plan(
        self, model: str, allow: Callable[[ResolvedTarget], bool] | None = None, escalation: tuple[str, ...] = ()
    ) -> tuple[list[ResolvedTarget], list[ResolvedTarget]]:
        """(targets to try in order, targets left out for now) over the model, its fallbacks, then ``escalation``."""
        usable: list[ResolvedTarget] = []
        blocked: list[ResolvedTarget] = []
        # Unknown model: 404; nothing available: 503 (unless there is somewhere to escalate to).
        first = self._catalog.resolve(model, raise_if_none=not escalation)
        for name in dict.fromkeys([model, *self._config.models[model].fallbacks, *escalation]):
            resolved = first if name == model else self._catalog.resolve(name, raise_if_none=False)
            targets = {rt.index: rt for rt in resolved if allow is None or allow(rt)}
            plan = order_targets(self._board, name, self._config.models[name], list(targets), self._rng)
            usable += [targets[i] for i in plan.usable]
            blocked += [targets[i] for i in plan.blocked]
        return usable, blocked

    async def run(
        self,
        model: str,
        attempt: Callable[[ResolvedTarget, float], Awaitable[T]],
        deadline: float,
        *,
        release_on_success: bool = True,
        allow: Callable[[ResolvedTarget], bool] | None = None,
        escalation: tuple[str, ...] = (),
    ) -> AttemptResult[T]:
        """Try targets until one succeeds; ``deadline`` is a ``time.time()`` value.

        With ``release_on_success=False`` the caller releases ``result.lease`` when
        it is done with the target (a stream that is still flowing). ``escalation``
        names models tried after the model's own fallbacks (a tiering policy's Tier 2).
        """
        retry = self._config.routing.retry
        tally = _Tally()
        queue, blocked = self._plan(model, allow, escalation)
        context_fallback_used = False
        position = 0
        while position < len(queue):
            rt = queue[position]
            position += 1
            key = target_key(rt.model, rt.index)
            waited_out = False  # a short Retry-After was just waited out: this request may go ahead
            for try_no in range(retry.attempts_per_target):
                remaining = deadline - time.time()
                if remaining <= 0:
                    break
                lease = self._board.force_acquire(key) if waited_out else self._board.try_acquire(key)
                if lease is None:
                    break
                if try_no:
                    self._metrics.retry(rt.model, rt.target.label)
                tally.attempts += 1
                started = time.time()
                try:
                    value = await attempt(rt, remaining)
                except TollgateError as err:
                    self._board.release(lease)
                    outcome = classify(err)
                    wait = self._after_failure(rt, err, outcome, started, try_no)
                    tally.errors.append((rt, err, outcome))
                    if outcome is Outcome.CLIENT_ERROR:
                        fallback = self._config.models[rt.model].context_fallback
                        if fallback and not context_fallback_used and is_context_overflow(err):
                            context_fallback_used = True
                            queue[position:position] = self._catalog.resolve(fallback)
                            logger.info("%s: prompt too long for %s; trying %s", model, rt.target.label, fallback)
                            break
                        raise
                    if wait is None or try_no + 1 >= retry.attempts_per_target:
                        break
                    if time.time() + wait >= deadline:
                        break
                    await self._sleep(wait)
                    waited_out = outcome is Outcome.RATE_LIMITED
                    continue
                except BaseException:
                    # Cancelled (the client went away) or an unexpected error: never leak the hold.
                    self._board.release(lease)
                    raise
                if release_on_success:
                    self._board.release(lease)
                failovers = len({(t.model, t.index) for t, _, _ in tally.errors} - {(rt.model, rt.index)})
                return AttemptResult(value=value, target=rt, attempts=tally.attempts, started=started, lease=lease,
                                     failovers=failovers)
            if position < len(queue):
                self._metrics.failover(rt.model, rt.target.label)
        raise self._exhausted(model, tally, blocked, deadline)

    def _after_failure(
        self, rt: ResolvedTarget, err: TollgateError, outcome: Outcome, started: float, try_no: int
    ) -> float | None:
        """Record the failure; return how long to wait before retrying this target, or None to move on."""
        retry = self._config.routing.retry
        if outcome is Outcome.RATE_LIMITED:
            retry_after = err.retry_after
            short = retry_after is not None and retry_after <= retry.retry_after_max_s
            cooldown = retry_after if retry_after is not None else retry.default_cooldown_s
            self.observe(rt, outcome, started, retry_after_s=cooldown)
            logger.info("%s rate-limited (retry after %s s)", rt.target.label, retry_after)
            return retry_after if short else None
        self.observe(rt, outcome, started)
        if outcome is Outcome.CLIENT_ERROR:
            return None
        logger.warning("%s failed: %s", rt.target.label, err.message)
        return self._rng.uniform(0, min(retry.backoff_max_s, retry.backoff_base_s * 2**try_no))

    def _exhausted(
        self, model: str, tally: _Tally, blocked: list[ResolvedTarget], deadline: float
    ) -> TollgateError:
        """The error for a request no target could serve, with Retry-After at the earliest recovery."""
        now = time.time()
        keys = [target_key(rt.model, rt.index) for rt in blocked] + [
            target_key(rt.model, rt.index) for rt, _, _ in tally.errors
        ]
        recovery = min((self._board.recovers_at(k) for k in keys), default=now + 1)
        retry_after = max(1.0, recovery - now)
        outcomes = {o for _, _, o in tally.errors}
        detail = "; ".join(f"{rt.target.label}: {err.message}" for rt, err, _ in tally.errors[-3:])
        if now >= deadline:
            return DeadlineExceededError(
                f"the deadline for '{model}' passed after {tally.attempts} attempts" + (f"; {detail}" if detail else "")
            )
        if not tally.errors:
            reason = "every target is rate-limited or has an open circuit"
            states = [(rt, self._board.availability(target_key(rt.model, rt.index))) for rt in blocked]
            detail = ", ".join(f"{rt.target.label} ({state.value})" for rt, state in states)
            all_cooling = all(state is Availability.COOLING_DOWN for _, state in states)
            cls: type[TollgateError] = RateLimitError if blocked and all_cooling else UpstreamUnavailableError
            return cls(f"no target of '{model}' can serve now ({reason}: {detail})", retry_after=retry_after,
                       code="rate_limit_exceeded" if cls is RateLimitError else "no_available_target")
        if outcomes == {Outcome.RATE_LIMITED}:
            return RateLimitError(
                f"every target of '{model}' is rate-limited; last: {detail}", retry_after=retry_after
            )
        if outcomes == {Outcome.TIMEOUT}:
            return UpstreamTimeoutError(f"no target of '{model}' answered in time; {detail}", retry_after=retry_after)
        return UpstreamUnavailableError(
            f"no target of '{model}' could serve after {tally.attempts} attempts; {detail}",
            retry_after=retry_after, code="no_available_target",
        )


class RouterLink(Protocol):
    """The Router deployment as the ingress sees it."""

    async def exchange(self, observations: list[Observation]) -> BoardSnapshot: ...

    async def reset(self) -> None: ...


class RouterSync:
    """Exchanges this replica's observations with the Router deployment every ``interval`` seconds.

    Observations wait in a bounded queue (the oldest are dropped while the Router is
    away), each call is bounded by a timeout, and a reset discards any exchange that
    was in flight when it happened, so stale state cannot come back.
    """

    _MAX_PENDING = 10_000

    def __init__(self, board: TargetBoard, router: RouterLink, interval: float) -> None:
        self._board = board
        self._router = router
        self._interval = interval
        self._timeout = max(1.0, 4 * interval)
        self._pending: deque[Observation] = deque(maxlen=self._MAX_PENDING)
        self._generation = 0
        self._task: asyncio.Task[None] | None = None

    def report(self, obs: Observation) -> None:
        self._pending.append(obs)

    def ensure_started(self) -> None:
        """Start the periodic exchange (from inside the replica's event loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def sync_once(self) -> None:
        generation = self._generation
        sent = list(self._pending)
        self._pending.clear()
        try:
            # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation that arrives as the
            # exchange completes, and the periodic task would then never stop.
            async with asyncio.timeout(self._timeout):
                snapshot = await self._router.exchange(list(sent))
        except Exception as exc:  # the router being away must never fail a request
            logger.warning("router sync failed (%s); keeping local statistics", type(exc).__name__)
            if generation == self._generation:
                self._pending.extendleft(reversed(sent))
            return
        if generation != self._generation:
            return  # a reset happened meanwhile: this snapshot predates it
        self._board.load(snapshot)
        for obs in self._pending:  # seen while the exchange was in flight
            self._board.record(obs)

    async def reset(self) -> None:
        """Forget all statistics here and in the Router deployment."""
        self._generation += 1
        self._pending.clear()
        self._board.reset()
        try:
            async with asyncio.timeout(self._timeout):
                await self._router.reset()
        except TimeoutError as exc:
            raise UpstreamUnavailableError("the Router deployment did not answer; this replica was reset") from exc

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.sync_once()
