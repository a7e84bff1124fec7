"""Reservations and settlement against the store: the authority on spend and rates.

A request reserves its worst case on every (entity, metric, window) counter it is
subject to, in one transaction, each with one conditional upsert::

    INSERT … ON CONFLICT DO UPDATE SET reserved = reserved + :x
        WHERE used + reserved + :x <= :limit RETURNING …

so either every level of org → team → key (→ end user) is reserved or none is,
whichever replica runs it. Settlement inserts the request's ledger row under a
unique request id and, in the same transaction, moves the reservation into
``used`` with the actual amount: a second settle finds the row and does nothing.
Reservations of a replica that died are settled at their worst case once they
expire, so spend can never pass a limit through a lost request.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar

from tollgate_core.entities import NANO
from tollgate_core.errors import BudgetExceededError, RateLimitError
from tollgate_core.store.base import Database, Transaction
from tollgate_core.windows import Window, window_bounds

__all__ = ["Charge", "Check", "CounterAfter", "Kind", "Ledger"]

logger = logging.getLogger("tollgate.ledger")

Clock = Callable[[], float]
T = TypeVar("T")
_DEADLOCK_RETRIES = 5

class Kind(str, Enum):
    """What a counter counts."""

    USD = "usd"  # nano-dollars; reserved, then settled with the actual cost
    TOKENS = "tok"  # tokens; reserved, then settled with the actual count
    REQUESTS = "req"  # requests; counted when admitted
    INFLIGHT = "inflight"  # requests in flight; reserved, then released

@dataclass(frozen=True)
class Check:
    """One limit a request is subject to."""

    scope: str  # "key:<id>", "team:<id>", "org:<id>", "end_user:<team id>:<user>"
    label: str  # for messages: "key 'billing-svc'"
    kind: Kind
    window: Window
    limit: int
    amount: int
    soft: int | None = None

    @property
    def metric(self) -> str:
        return f"{self.kind.value}:{self.window.value}"

@dataclass(frozen=True)
class Charge:
    """What a request actually cost, for its ledger row."""

    cost_nano: int
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    saved_nano: int = 0  # what prompt caching saved against uncached input prices
    target: str | None = None
    outcome: str = "ok"

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

@dataclass(frozen=True)
class CounterAfter:
    """A counter as a settlement left it: ``used`` after adding ``added``."""

    scope: str
    metric: str
    used: int
    added: int
    limit: int
    soft: int | None

    @property
    def crossed_soft_limit(self) -> bool:
        return self.soft is not None and self.added > 0 and self.used >= self.soft > self.used - self.added

@dataclass
class _Item:
    scope: str
    metric: str
    window_start: int
    reserved: int
    limit: int
    soft: int | None = None

    @property
    def kind(self) -> Kind:
        return Kind(self.metric.split(":", 1)[0])

_UPSERT = """
INSERT INTO counters AS c (scope, metric, window_start, used, reserved, limit_hint) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (scope, metric, window_start) DO UPDATE
    SET used = c.used + excluded.used, reserved = c.reserved + excluded.reserved, limit_hint = excluded.limit_hint
    WHERE c.used + c.reserved + excluded.used + excluded.reserved <= excluded.limit_hint
RETURNING used, reserved
"""

# PostgreSQL: every counter and the reservation in one round trip. Rows are inserted (and so locked) in
# (scope, metric) order; the result lists the checks that did not fit, which rolls the transaction back.
_PG_RESERVE = """
WITH wanted AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::int[])
        AS w(scope, metric, window_start, used, reserved, lim, ord)
), applied AS (
    INSERT INTO counters AS c (scope, metric, window_start, used, reserved, limit_hint)
    SELECT scope, metric, window_start, used, reserved, lim FROM wanted WHERE used + reserved <= lim ORDER BY ord
    ON CONFLICT (scope, metric, window_start) DO UPDATE
        SET used = c.used + excluded.used, reserved = c.reserved + excluded.reserved, limit_hint = excluded.limit_hint
        WHERE c.used + c.reserved + excluded.used + excluded.reserved <= excluded.limit_hint
    RETURNING c.scope, c.metric, c.window_start
), held AS (
    INSERT INTO reservations (id, items, context, expires_at, created_at) VALUES ($8, $9, $10, $11, $12)
    RETURNING id
)
SELECT w.ord FROM wanted w
WHERE (SELECT count(*) FROM held) = 1 AND NOT EXISTS (
    SELECT 1 FROM applied a WHERE a.scope = w.scope AND a.metric = w.metric AND a.window_start = w.window_start)
ORDER BY w.ord
"""

# PostgreSQL: the ledger row, the reservation's release and the key's last use in one round trip.
_PG_SETTLE_LEDGER = """
WITH ins AS (
    INSERT INTO spend_ledger (request_id, client_request_id, org_id, team_id, key_id, end_user, model, target,
        prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens, cost_nano, outcome, created_at, saved_nano)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
    ON CONFLICT (request_id) DO NOTHING
    RETURNING request_id
), held AS (
    DELETE FROM reservations WHERE id = $1 AND EXISTS (SELECT 1 FROM ins) RETURNING items
), touched AS (
    UPDATE api_keys SET last_used_at = $15 WHERE id = $5 AND EXISTS (SELECT 1 FROM ins) RETURNING id
)
SELECT (SELECT count(*) FROM ins) AS inserted, (SELECT items FROM held) AS items, (SELECT count(*) FROM touched) AS t
"""

# Row locks in (scope, metric, window) order, as the reservation takes them: the UPDATE below visits rows in
# whatever order its join does, and a settlement locking B then A while a reservation locks A then B deadlocks
# (PostgreSQL breaks it after deadlock_timeout, 1 s; benchmarks/budget_scale.py measured 4 s p99 before this).
_PG_LOCK_COUNTERS = """
SELECT 1 FROM counters AS c
JOIN unnest($1::text[], $2::text[], $3::bigint[]) AS u(scope, metric, window_start)
    ON c.scope = u.scope AND c.metric = u.metric AND c.window_start = u.window_start
ORDER BY c.scope, c.metric, c.window_start
FOR UPDATE OF c
"""

_PG_SETTLE_COUNTERS = """
UPDATE counters AS c SET used = c.used + u.added, reserved = c.reserved - u.released
FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])
    AS u(scope, metric, window_start, added, released)
WHERE c.scope = u.scope AND c.metric = u.metric AND c.window_start = u.window_start
RETURNING c.scope, c.metric, c.used
"""

_LEDGER_INSERT = """
INSERT INTO spend_ledger (request_id, client_request_id, org_id, team_id, key_id, end_user, model, target,
    prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens, cost_nano, outcome, created_at, saved_nano)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
ON CONFLICT (request_id) DO NOTHING
RETURNING request_id
"""

def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

def _usd(nano: int) -> str:
    return f"${nano / NANO:.4f}".rstrip("0").rstrip(".") if nano % (NANO // 100) else f"${nano / NANO:.2f}"

def _refusal(check: Check, used: int, reserved: int, end: int, now: float) -> RateLimitError:
    retry_after = max(1.0, end - now) if check.window is not Window.LIFETIME else None
    when = f"; it resets at {_utc(end)}" if retry_after is not None else "; it never resets"
    if check.kind is Kind.USD:
        return BudgetExceededError(
            f"{check.label}: {check.window.value} budget of {_usd(check.limit)} would be exceeded "
            f"({_usd(used)} spent, {_usd(reserved)} reserved by requests in flight, this request may cost up to "
            f"{_usd(check.amount)}){when}",
            code=f"{check.scope.split(':', 1)[0]}_{check.window.value}_budget_exceeded",
            retry_after=retry_after,
        )
    if check.kind is Kind.INFLIGHT:
        return RateLimitError(
            f"{check.label}: {check.limit} requests are already in flight (max_concurrency); retry when one ends",
            code="concurrency_limit_exceeded", retry_after=1.0,
        )
    what = "requests" if check.kind is Kind.REQUESTS else "tokens"
    return RateLimitError(
        f"{check.label}: limit of {check.limit} {what} per minute reached ({used + reserved} counted, this request "
        f"needs {check.amount}){when}",
        code="requests_per_minute_exceeded" if check.kind is Kind.REQUESTS else "tokens_per_minute_exceeded",
        retry_after=retry_after,
    )

def _added(item: _Item, charge: Charge) -> int:
    """What a settled request adds to a counter's ``used``."""
    return {Kind.USD: charge.cost_nano, Kind.TOKENS: charge.tokens}.get(item.kind, 0)


def _is_deadlock(exc: BaseException) -> bool:
    return type(exc).__name__ in ("DeadlockDetectedError", "SerializationError")


class Ledger:
    """Reserve, settle and report spend and rates; correct with any number of replicas."""

    def __init__(self, db: Database, clock: Clock = time.time) -> None:
        self.db = db
        self.clock = clock

    async def reserve(self, request_id: str, checks: Sequence[Check], *, ttl_s: float,
                      context: dict[str, Any]) -> None:
        """Reserve every check or none; raise the first limit that refuses (429)."""
        now = self.clock()
        items: list[_Item] = []
        # One order everywhere, so concurrent transactions never wait on each other in a cycle.
        ordered = sorted(checks, key=lambda c: (c.scope, c.metric))
        planned = []
        for check in ordered:
            start, end = window_bounds(check.window, now)
            counted = check.kind is Kind.REQUESTS
            used_add, reserved_add = (check.amount, 0) if counted else (0, check.amount)
            planned.append((check, start, end, used_add, reserved_add))
            if not counted:
                items.append(_Item(check.scope, check.metric, start, check.amount, check.limit, check.soft))
        held = (request_id, json.dumps([item.__dict__ for item in items]), json.dumps(context), now + ttl_s, now)

        async def run(tx: Transaction) -> None:
            refused = await self._reserve_counters(tx, planned, held)
            if refused is not None:
                check, start, end, _, _ = planned[refused]
                current = await tx.fetchone(
                    "SELECT used, reserved FROM counters WHERE scope = $1 AND metric = $2 AND window_start = $3",
                    check.scope, check.metric, start,
                ) or {"used": 0, "reserved": 0}
                raise _refusal(check, int(current["used"]), int(current["reserved"]), end, now)

        await self._transact(run)

    async def _reserve_counters(self, tx: Transaction, planned: list[Any], held: tuple[Any, ...]) -> int | None:
        """Apply every planned counter update and hold the reservation; the index of the first refusal, if any."""
        if self.db.dialect == "postgresql":
            columns = list(zip(*[(c.scope, c.metric, start, u, r, c.limit, i)
                                 for i, (c, start, _, u, r) in enumerate(planned)])) or [()] * 7
            rows = await tx.fetchall(_PG_RESERVE, *[list(col) for col in columns], *held)
            return int(rows[0]["ord"]) if rows else None
        for i, (check, start, _, used_add, reserved_add) in enumerate(planned):
            row = None
            if used_add + reserved_add <= check.limit:
                row = await tx.fetchone(_UPSERT, check.scope, check.metric, start, used_add, reserved_add, check.limit)
            if row is None:
                return i
        await tx.execute(
            "INSERT INTO reservations (id, items, context, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)",
            *held,
        )
        return None

    async def _transact(self, body: Callable[[Transaction], Awaitable[T]]) -> T:
        """Run ``body`` in a transaction, again if the database chose it as a deadlock's victim."""
        for attempt in range(_DEADLOCK_RETRIES):
            try:
                async with self.db.transaction() as tx:
                    return await body(tx)
            except Exception as exc:
                if attempt + 1 < _DEADLOCK_RETRIES and _is_deadlock(exc):
                    logger.info("transaction was a deadlock victim; running it again")
                    continue
                raise
        raise AssertionError("unreachable")

    async def settle(self, request_id: str, charge: Charge, context: dict[str, Any]) -> list[CounterAfter]:
        """Record what the request cost and release its reservation, exactly once per request id.

        Returns the counters the charge moved (empty on a repeated call).
        """
        return await self._transact(lambda tx: self._settle(tx, request_id, charge, context))

    async def _settle(self, tx: Transaction, request_id: str, charge: Charge,
                      context: dict[str, Any]) -> list[CounterAfter]:
        now = self.clock()
        row = (request_id, context.get("client_request_id"), context.get("org_id"), context.get("team_id"),
               context.get("key_id"), context.get("end_user"), context.get("model") or "", charge.target,
               charge.prompt_tokens, charge.completion_tokens, charge.cached_tokens, charge.cache_write_tokens,
               charge.cost_nano, charge.outcome, now, charge.saved_nano)
        if self.db.dialect == "postgresql":
            return await self._settle_pg(tx, row, charge)
        inserted = await tx.fetchone(_LEDGER_INSERT, *row)
        if inserted is None:
            return []
        held = await tx.fetchone("DELETE FROM reservations WHERE id = $1 RETURNING items", request_id)
        after: list[CounterAfter] = []
        items = [_Item(**raw) for raw in json.loads(held["items"])] if held else []
        for item in sorted(items, key=lambda i: (i.scope, i.metric)):
            add = _added(item, charge)
            row_after = await tx.fetchone(
                "UPDATE counters SET used = used + $1, reserved = reserved - $2 "
                "WHERE scope = $3 AND metric = $4 AND window_start = $5 RETURNING used",
                add, item.reserved, item.scope, item.metric, item.window_start,
            )
            if row_after is not None:
                after.append(CounterAfter(item.scope, item.metric, int(row_after["used"]), add, item.limit,
                                          item.soft))
        if context.get("key_id"):
            await tx.execute("UPDATE api_keys SET last_used_at = $1 WHERE id = $2", now, context["key_id"])
        return after

    async def _settle_pg(self, tx: Transaction, row: tuple[Any, ...], charge: Charge) -> list[CounterAfter]:
        result = await tx.fetchone(_PG_SETTLE_LEDGER, *row)
        if result is None or not result["inserted"]:
            return []
        items = sorted((_Item(**raw) for raw in json.loads(result["items"] or "[]")), key=lambda i: (i.scope, i.metric))
        if not items:
            return []
        by_key = {(i.scope, i.metric): i for i in items}
        await tx.fetchall(_PG_LOCK_COUNTERS, [i.scope for i in items], [i.metric for i in items],
                          [i.window_start for i in items])
        moved = await tx.fetchall(
            _PG_SETTLE_COUNTERS, [i.scope for i in items], [i.metric for i in items],
            [i.window_start for i in items], [_added(i, charge) for i in items], [i.reserved for i in items],
        )
        return [
            CounterAfter(m["scope"], m["metric"], int(m["used"]), _added(item, charge), item.limit, item.soft)
            for m in moved for item in [by_key[(m["scope"], m["metric"])]]
        ]

    async def settle_expired(self, limit: int = 100) -> int:
        """Charge reservations whose replica never settled them at their worst case; return how many."""
        rows = await self.db.fetchall(
            "SELECT id, items, context FROM reservations WHERE expires_at < $1 ORDER BY expires_at LIMIT $2",
            self.clock(), limit,
        )
        for row in rows:
            items = [_Item(**raw) for raw in json.loads(row["items"])]
            worst_usd = max((i.reserved for i in items if i.kind is Kind.USD), default=0)
            worst_tok = max((i.reserved for i in items if i.kind is Kind.TOKENS), default=0)
            charge = Charge(cost_nano=worst_usd, prompt_tokens=worst_tok, outcome="expired")
            await self.settle(row["id"], charge, json.loads(row["context"]))
            logger.warning("settled reservation %s at its worst case: its replica never did", row["id"])
        return len(rows)

    async def counter(self, scope: str, kind: Kind, window: Window) -> tuple[int, int]:
        """``(used, reserved)`` of one counter in the current window."""
        start, _ = window_bounds(window, self.clock())
        row = await self.db.fetchone(
            "SELECT used, reserved FROM counters WHERE scope = $1 AND metric = $2 AND window_start = $3",
            scope, f"{kind.value}:{window.value}", start,
        )
        return (int(row["used"]), int(row["reserved"])) if row else (0, 0)

    async def ledger_rows(self, since: float = 0.0) -> list[dict[str, Any]]:
        return await self.db.fetchall(
            "SELECT * FROM spend_ledger WHERE created_at >= $1 ORDER BY created_at", since
        )

    async def spend_report(self, by: str, since: float) -> list[dict[str, Any]]:
        """Requests, tokens (cache reads and writes among the prompt tokens), USD and what prompt caching saved,
        grouped by ``team``, ``key``, ``org``, ``model`` or ``end_user``."""
        column = {"team": "team_id", "key": "key_id", "org": "org_id", "model": "model", "end_user": "end_user"}[by]
        rows = await self.db.fetchall(
            f"SELECT {column} AS grp, COUNT(*) AS requests, SUM(prompt_tokens) AS prompt_tokens, "
            f"SUM(completion_tokens) AS completion_tokens, SUM(cached_tokens) AS cached_tokens, "
            f"SUM(cache_write_tokens) AS cache_write_tokens, SUM(cost_nano) AS cost_nano, "
            f"SUM(saved_nano) AS saved_nano "
            f"FROM spend_ledger WHERE created_at >= $1 GROUP BY {column} ORDER BY SUM(cost_nano) DESC",
            since,
        )
        return [
            {by: r["grp"], "requests": int(r["requests"]), "prompt_tokens": int(r["prompt_tokens"] or 0),
             "completion_tokens": int(r["completion_tokens"] or 0), "cached_tokens": int(r["cached_tokens"] or 0),
             "cache_write_tokens": int(r["cache_write_tokens"] or 0), "spend_usd": int(r["cost_nano"] or 0) / NANO,
             "saved_usd": int(r["saved_nano"] or 0) / NANO}
            for r in rows
        ]
