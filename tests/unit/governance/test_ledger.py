"""The ledger on its own, on both stores: what a reservation holds, what a settlement moves, the refusal's words.

The budget and enforcer tests reach the ledger through governance; these pin the ledger's own
contract with exact values, so a changed amount, window, message or SQL statement fails here on
SQLite and on PostgreSQL (whose reserve and settle are separate single-round-trip statements).
"""

from __future__ import annotations

import time
from contextlib import asynccontextmanager
from typing import Any

import pytest

from serve_app.governance.ledger import Charge, Check, CounterAfter, Kind, Ledger
from tests.unit.governance.conftest import Clock
from tollgate_core.entities import to_nano
from tollgate_core.errors import BudgetExceededError, RateLimitError
from tollgate_core.store import Database
from tollgate_core.windows import Window

# The conftest clock starts at 2026-01-01T03:02:00Z.
DAY_END = "2026-01-02T00:00:00Z"
SECONDS_TO_DAY_END = 21 * 3600 - 120


def usd(scope: str = "key:k1", limit: float = 10.0, amount: float = 1.0, *, window: Window = Window.DAILY,
        soft: float | None = None) -> Check:
    return Check(scope, f"{scope.split(':')[0]} '{scope.split(':')[-1]}'", Kind.USD, window, to_nano(limit),
                 to_nano(amount), to_nano(soft) if soft is not None else None)


def rate(kind: Kind, limit: int, amount: int, scope: str = "key:k1") -> Check:
    window = Window.LIFETIME if kind is Kind.INFLIGHT else Window.MINUTE
    return Check(scope, f"key '{scope.split(':')[-1]}'", kind, window, limit, amount)


CONTEXT = {"org_id": "o1", "team_id": "t1", "key_id": "k1", "model": "m", "client_request_id": "c-1"}


async def test_a_reservation_holds_every_counter_and_counts_requests_at_once(db: Database, clock: Clock) -> None:
    ledger = Ledger(db, clock)
    checks = [usd("team:t1", 50.0, 2.0), usd("key:k1", 10.0, 2.0), rate(Kind.TOKENS, 1000, 300),
              rate(Kind.REQUESTS, 5, 1), rate(Kind.INFLIGHT, 3, 1)]
    await ledger.reserve("r1", checks, ttl_s=60, context=CONTEXT)

    assert await ledger.counter("key:k1", Kind.USD, Window.DAILY) == (0, to_nano(2.0))
    assert await ledger.counter("team:t1", Kind.USD, Window.DAILY) == (0, to_nano(2.0))
    assert await ledger.counter("key:k1", Kind.TOKENS, Window.MINUTE) == (0, 300)
    assert await ledger.counter("key:k1", Kind.REQUESTS, Window.MINUTE) == (1, 0)
    assert await ledger.counter("key:k1", Kind.INFLIGHT, Window.LIFETIME) == (0, 1)
    assert await ledger.counter("key:k1", Kind.USD, Window.HOURLY) == (0, 0)
    assert await ledger.counter("org:o1", Kind.USD, Window.DAILY) == (0, 0)


async def test_settling_moves_the_actual_amounts_and_reports_each_counter(db: Database, clock: Clock) -> None:
    ledger = Ledger(db, clock)
    checks = [usd("team:t1", 50.0, 2.0, soft=1.0), usd("key:k1", 10.0, 2.0), rate(Kind.TOKENS, 1000, 300),
              rate(Kind.REQUESTS, 5, 1), rate(Kind.INFLIGHT, 3, 1)]
    await ledger.reserve("r1", checks, ttl_s=60, context=CONTEXT)
    clock.advance(5)
    charge = Charge(cost_nano=to_nano(1.5), prompt_tokens=100, completion_tokens=50, cached_tokens=20,
                    cache_write_tokens=10, target="openai:x", outcome="ok")

    after = await ledger.settle("r1", charge, CONTEXT)

    assert sorted(after, key=lambda a: (a.scope, a.metric)) == [
        CounterAfter("key:k1", "inflight:lifetime", 0, 0, 3, None),
        CounterAfter("key:k1", "tok:minute", 150, 150, 1000, None),
        CounterAfter("key:k1", "usd:daily", to_nano(1.5), to_nano(1.5), to_nano(10.0), None),
        CounterAfter("team:t1", "usd:daily", to_nano(1.5), to_nano(1.5), to_nano(50.0), to_nano(1.0)),
    ]
    assert await ledger.counter("key:k1", Kind.USD, Window.DAILY) == (to_nano(1.5), 0)
    assert await ledger.counter("key:k1", Kind.TOKENS, Window.MINUTE) == (150, 0)
    assert await ledger.counter("key:k1", Kind.REQUESTS, Window.MINUTE) == (1, 0)
    assert await ledger.counter("key:k1", Kind.INFLIGHT, Window.LIFETIME) == (0, 0)
    [row] = await ledger.ledger_rows()
    assert {k: row[k] for k in row if k != "created_at"} == {
        "request_id": "r1", "client_request_id": "c-1", "org_id": "o1", "team_id": "t1", "key_id": "k1",
        "end_user": None, "model": "m", "target": "openai:x", "prompt_tokens": 100, "completion_tokens": 50,
        "cached_tokens": 20, "cache_write_tokens": 10, "cost_nano": to_nano(1.5), "outcome": "ok", "saved_nano": 0,
    }
    assert row["created_at"] == clock.now


async def test_a_second_settlement_of_one_request_changes_nothing(db: Database, clock: Clock) -> None:
    ledger = Ledger(db, clock)
    await ledger.reserve("r1", [usd(amount=2.0)], ttl_s=60, context=CONTEXT)
    assert len(await ledger.settle("r1", Charge(cost_nano=to_nano(1.0)), CONTEXT)) == 1

    assert await ledger.settle("r1", Charge(cost_nano=to_nano(7.0)), CONTEXT) == []
    assert await ledger.counter("key:k1", Kind.USD, Window.DAILY) == (to_nano(1.0), 0)
    assert [r["cost_nano"] for r in await ledger.ledger_rows()] == [to_nano(1.0)]


async def test_a_request_that_reserved_nothing_still_gets_its_ledger_row(db: Database, clock: Clock) -> None:
    ledger = Ledger(db, clock)
    assert await ledger.settle("r1", Charge(cost_nano=5, outcome="error"), {"model": None}) == []
    [row] = await ledger.ledger_rows()
    assert (row["request_id"], row["model"], row["cost_nano"], row["outcome"], row["key_id"]) == (
        "r1", "", 5, "error", None)


async def test_a_refusal_reserves_nothing_on_any_level(db: Database, clock: Clock) -> None:
    ledger = Ledger(db, clock)
    await ledger.reserve("r0", [usd("team:t1", 3.0, 2.5)], ttl_s=60, context=CONTEXT)
    checks = [usd("key:k1", 10.0, 1.0), usd("team:t1", 3.0, 1.0), rate(Kind.REQUESTS, 5, 1)]

    with pytest.raises(BudgetExceededError) as refused:
        await ledger.reserve("r1", checks, ttl_s=60, context=CONTEXT)

    assert refused.value.code == "team_daily_budget_exceeded"
    assert await ledger.counter("key:k1", Kind.USD, Window.DAILY) == (0, 0)
    assert await ledger.counter("key:k1", Kind.REQUESTS, Window.MINUTE) == (0, 0)
    assert await ledger.counter("team:t1", Kind.USD, Window.DAILY) == (0, to_nano(2.5))
    # r1 holds no reservation: settling it releases nothing and charges what it is told.
    assert await ledger.settle("r1", Charge(cost_nano=0), CONTEXT) == []


async def test_a_request_larger_than_its_limit_is_refused_on_an_empty_counter(db: Database, clock: Clock) -> None:
    ledger = Ledger(db, clock)
    with pytest.raises(BudgetExceededError) as refused:
        await ledger.reserve("r1", [usd("key:k1", 1.0, 1.25)], ttl_s=60, context=CONTEXT)
    assert refused.value.message == (
        f"key 'k1': daily budget of $1.00 would be exceeded ($0.00 spent, $0.00 reserved by requests in flight, "
        f"this request may cost up to $1.25); it resets at {DAY_END}"
    )
    assert await ledger.counter("key:k1", Kind.USD, Window.DAILY) == (0, 0)
    # Exactly the limit fits.
    await ledger.reserve("r2", [usd("key:k1", 1.0, 1.0)], ttl_s=60, context=CONTEXT)
    assert await ledger.counter("key:k1", Kind.USD, Window.DAILY) == (0, to_nano(1.0))


async def test_a_budget_refusal_says_what_is_spent_reserved_and_asked(db: Database, clock: Clock) -> None:
    ledger = Ledger(db, clock)
    await ledger.reserve("spent", [usd(limit=10.0, amount=9.5)], ttl_s=60, context=CONTEXT)
    await ledger.settle("spent", Charge(cost_nano=to_nano(9.123)), CONTEXT)
    await ledger.reserve("held", [usd(limit=10.0, amount=0.0125)], ttl_s=60, context=CONTEXT)

    with pytest.raises(BudgetExceededError) as refused:
        await ledger.reserve("r1", [usd(limit=10.0, amount=1.0)], ttl_s=60, context=CONTEXT)

    error = refused.value
    assert error.message == (
        "key 'k1': daily budget of $10.00 would be exceeded ($9.123 spent, $0.0125 reserved by requests in flight, "
        f"this request may cost up to $1.00); it resets at {DAY_END}"
    )
    assert (error.code, error.status_code, error.retry_after) == (
        "key_daily_budget_exceeded", 429, float(SECONDS_TO_DAY_END))


async def test_the_reset_time_is_utc_on_a_server_in_another_time_zone(
        db: Database, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        with pytest.raises(BudgetExceededError) as refused:
            await Ledger(db, clock).reserve("r1", [usd("key:k1", 1.0, 2.0)], ttl_s=60, context=CONTEXT)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert refused.value.message.endswith(f"it resets at {DAY_END}")


async def test_amounts_are_shown_to_a_hundredth_of_a_cent_without_trailing_zeros(db: Database, clock: Clock) -> None:
    ledger = Ledger(db, clock)
    await ledger.reserve("held", [usd(limit=3.0, amount=1.00001)], ttl_s=60, context=CONTEXT)
    with pytest.raises(BudgetExceededError) as refused:
        await ledger.reserve("r1", [usd(limit=3.0, amount=2.001)], ttl_s=60, context=CONTEXT)
    assert "($0.00 spent, $1 reserved by requests in flight, this request may cost up to $2.001)" in (
        refused.value.message)


async def test_a_request_with_no_limits_still_holds_and_settles_a_reservation(db: Database, clock: Clock) -> None:
    ledger = Ledger(db, clock)
    await ledger.reserve("r1", [], ttl_s=60, context=CONTEXT)
    assert await db.fetchone("SELECT id FROM reservations WHERE id = $1", "r1") is not None
    assert await ledger.settle("r1", Charge(cost_nano=7), CONTEXT) == []
    assert await db.fetchone("SELECT id FROM reservations WHERE id = $1", "r1") is None
    assert [r["cost_nano"] for r in await ledger.ledger_rows()] == [7]


async def test_settling_marks_the_keys_last_use(db: Database, clock: Clock) -> None:
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO orgs (id, name, created_at) VALUES ('o1', 'acme', 0)")
        await tx.execute("INSERT INTO teams (id, org_id, name, created_at) VALUES ('t1', 'o1', 'ml', 0)")
        for key in ("k1", "k2"):
            await tx.execute("INSERT INTO api_keys (id, team_id, name, key_hash, key_prefix, created_at) "
                             "VALUES ($1, 't1', $1, $2, 'tg-', 0)", key, f"hash-{key}")
    clock.advance(30)
    await Ledger(db, clock).settle("r1", Charge(cost_nano=1), CONTEXT)
    used = {r["id"]: r["last_used_at"] for r in await db.fetchall("SELECT id, last_used_at FROM api_keys")}
    assert used == {"k1": clock.now, "k2": None}


async def test_a_lifetime_budget_never_resets(db: Database, clock: Clock) -> None:
    ledger = Ledger(db, clock)
    with pytest.raises(BudgetExceededError) as refused:
        await ledger.reserve("r1", [usd("org:o1", 1.0, 2.0, window=Window.LIFETIME)], ttl_s=60, context=CONTEXT)
    assert refused.value.message.endswith("this request may cost up to $2.00); it never resets")
    assert (refused.value.code, refused.value.retry_after) == ("org_lifetime_budget_exceeded", None)


@pytest.mark.parametrize(("kind", "words", "code"), [
    (Kind.REQUESTS, "requests", "requests_per_minute_exceeded"),
    (Kind.TOKENS, "tokens", "tokens_per_minute_exceeded"),
])
async def test_a_rate_refusal_says_what_was_counted_and_when_it_resets(
        db: Database, clock: Clock, kind: Kind, words: str, code: str) -> None:
    ledger = Ledger(db, clock)
    await ledger.reserve("r0", [rate(kind, 3, 2)], ttl_s=60, context=CONTEXT)
    clock.advance(59.5)  # half a second before the minute ends: Retry-After is never under 1 s

    with pytest.raises(RateLimitError) as refused:
        await ledger.reserve("r1", [rate(kind, 3, 2)], ttl_s=60, context=CONTEXT)

    error = refused.value
    assert not isinstance(error, BudgetExceededError)
    assert error.message == (
        f"key 'k1': limit of 3 {words} per minute reached (2 counted, this request needs 2); "
        "it resets at 2026-01-01T03:03:00Z"
    )
    assert (error.code, error.retry_after) == (code, 1.0)
    clock.advance(0.5)  # the next minute's counter is a new one
    await ledger.reserve("r2", [rate(kind, 3, 2)], ttl_s=60, context=CONTEXT)


async def test_a_concurrency_refusal_is_released_by_a_settlement(db: Database, clock: Clock) -> None:
    ledger = Ledger(db, clock)
    for request in ("r1", "r2"):
        await ledger.reserve(request, [rate(Kind.INFLIGHT, 2, 1)], ttl_s=60, context=CONTEXT)

    with pytest.raises(RateLimitError) as refused:
        await ledger.reserve("r3", [rate(Kind.INFLIGHT, 2, 1)], ttl_s=60, context=CONTEXT)
    assert refused.value.message == (
        "key 'k1': 2 requests are already in flight (max_concurrency); retry when one ends")
    assert (refused.value.code, refused.value.retry_after) == ("concurrency_limit_exceeded", 1.0)

    await ledger.settle("r1", Charge(cost_nano=0), CONTEXT)
    await ledger.reserve("r3", [rate(Kind.INFLIGHT, 2, 1)], ttl_s=60, context=CONTEXT)
    assert await ledger.counter("key:k1", Kind.INFLIGHT, Window.LIFETIME) == (0, 2)


async def test_expired_reservations_are_charged_their_worst_case_oldest_first(db: Database, clock: Clock) -> None:
    ledger = Ledger(db, clock)
    worst = [usd("key:k1", 10.0, 2.0), usd("team:t1", 10.0, 3.0), rate(Kind.TOKENS, 10_000, 700),
             rate(Kind.TOKENS, 10_000, 400, scope="team:t1")]
    await ledger.reserve("later", [usd("key:k1", 10.0, 1.0)], ttl_s=20, context={**CONTEXT, "key_id": "k2"})
    await ledger.reserve("first", worst, ttl_s=10, context=CONTEXT)
    await ledger.reserve("alive", [usd("key:k1", 10.0, 1.0)], ttl_s=1000, context=CONTEXT)

    clock.advance(10)
    assert await ledger.settle_expired() == 0  # expiry is strictly after expires_at
    clock.advance(15)
    assert await ledger.settle_expired(limit=1) == 1

    [row] = await ledger.ledger_rows()
    assert (row["request_id"], row["key_id"], row["cost_nano"], row["prompt_tokens"], row["outcome"]) == (
        "first", "k1", to_nano(3.0), 700, "expired")
    assert await ledger.counter("team:t1", Kind.USD, Window.DAILY) == (to_nano(3.0), 0)
    assert await ledger.counter("key:k1", Kind.TOKENS, Window.MINUTE) == (700, 0)

    assert await ledger.settle_expired() == 1
    assert [r["request_id"] for r in await ledger.ledger_rows()] == ["first", "later"]
    assert await ledger.counter("key:k1", Kind.USD, Window.DAILY) == (to_nano(4.0), to_nano(1.0))
    assert await ledger.settle_expired() == 0


async def test_an_expired_reservation_without_a_budget_or_a_token_limit_charges_nothing_for_it(
        db: Database, clock: Clock) -> None:
    ledger = Ledger(db, clock)
    await ledger.reserve("tokens-only", [rate(Kind.TOKENS, 10_000, 500)], ttl_s=10, context=CONTEXT)
    await ledger.reserve("usd-only", [usd(amount=2.0)], ttl_s=10, context=CONTEXT)
    clock.advance(11)
    assert await ledger.settle_expired() == 2
    rows = {r["request_id"]: (r["cost_nano"], r["prompt_tokens"]) for r in await ledger.ledger_rows()}
    assert rows == {"tokens-only": (0, 500), "usd-only": (to_nano(2.0), 0)}


async def test_spend_reports_group_and_order_by_spend(db: Database, clock: Clock) -> None:
    ledger = Ledger(db, clock)
    rows = [("a", "t1", "k1", "m1", 1.0, 10, 1), ("b", "t2", "k2", "m1", 4.0, 20, 2),
            ("c", "t1", "k3", "m2", 2.5, 30, 3)]
    for request, team, key, model, cost, prompt, completion in rows:
        context = {"org_id": "o1", "team_id": team, "key_id": key, "model": model, "end_user": f"u-{team}"}
        await ledger.settle(request, Charge(to_nano(cost), prompt, completion), context)
        clock.advance(10)

    assert await ledger.spend_report("team", since=0) == [
        {"team": "t2", "requests": 1, "prompt_tokens": 20, "completion_tokens": 2, "cached_tokens": 0,
         "cache_write_tokens": 0, "spend_usd": 4.0, "saved_usd": 0.0},
        {"team": "t1", "requests": 2, "prompt_tokens": 40, "completion_tokens": 4, "cached_tokens": 0,
         "cache_write_tokens": 0, "spend_usd": 3.5, "saved_usd": 0.0},
    ]
    assert [(r["model"], r["spend_usd"]) for r in await ledger.spend_report("model", since=0)] == [
        ("m1", 5.0), ("m2", 2.5)]
    assert [r["key"] for r in await ledger.spend_report("key", since=0)] == ["k2", "k3", "k1"]
    assert [r["org"] for r in await ledger.spend_report("org", since=0)] == ["o1"]
    assert [r["end_user"] for r in await ledger.spend_report("end_user", since=0)] == ["u-t2", "u-t1"]
    # Only rows at or after ``since``: the first was written 30 s ago, the second 20 s ago.
    since = clock.now - 20
    assert [r["team"] for r in await ledger.spend_report("team", since=since)] == ["t2", "t1"]
    assert [r["request_id"] for r in await ledger.ledger_rows(since)] == ["b", "c"]
    assert await ledger.spend_report("team", since=clock.now + 1) == []


async def test_the_report_sums_cache_reads_writes_and_savings(db: Database, clock: Clock) -> None:
    ledger = Ledger(db, clock)
    context = {"org_id": "o1", "team_id": "t1", "key_id": "k1", "model": "claude"}
    await ledger.settle("a", Charge(to_nano(0.5), 1000, 10, cache_write_tokens=900, saved_nano=-to_nano(0.02)),
                        context)
    await ledger.settle("b", Charge(to_nano(0.1), 1000, 10, cached_tokens=900, saved_nano=to_nano(0.24)), context)
    [row] = await ledger.spend_report("model", since=0)
    assert row == {"model": "claude", "requests": 2, "prompt_tokens": 2000, "completion_tokens": 20,
                   "cached_tokens": 900, "cache_write_tokens": 900, "spend_usd": 0.6, "saved_usd": 0.22}


@pytest.mark.parametrize(("used", "added", "soft", "crossed"), [
    (150, 100, 100, True),   # from 50 to 150: crossed
    (100, 50, 100, True),    # landing exactly on the soft limit crosses it
    (99, 50, 100, False),    # still under
    (250, 100, 100, False),  # was already over before this charge
    (200, 100, 100, False),  # from 100: it was reached by an earlier charge
    (150, 0, 100, False),    # nothing added
    (150, 100, None, False),  # no soft limit
])
def test_a_soft_limit_is_crossed_once(used: int, added: int, soft: int | None, crossed: bool) -> None:
    assert CounterAfter("key:k1", "usd:daily", used, added, 1000, soft).crossed_soft_limit is crossed


class _Flaky:
    """A real database whose first ``failures`` transactions end in ``name``, a database error's class name."""

    def __init__(self, db: Database, failures: int, name: str = "DeadlockDetectedError") -> None:
        self.db, self.failures, self.attempts = db, failures, 0
        self.error = type(name, (Exception,), {})
        self.dialect = db.dialect

    @asynccontextmanager
    async def transaction(self) -> Any:
        self.attempts += 1
        async with self.db.transaction() as tx:
            yield tx
            if self.attempts <= self.failures:
                raise self.error("deadlock detected")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)


@pytest.mark.parametrize("error", ["DeadlockDetectedError", "SerializationError"])
async def test_a_deadlock_victim_is_run_again(db: Database, clock: Clock, error: str) -> None:
    flaky = _Flaky(db, failures=4, name=error)
    ledger = Ledger(flaky, clock)  # type: ignore[arg-type]
    await ledger.reserve("r1", [usd(amount=2.0)], ttl_s=60, context=CONTEXT)
    assert flaky.attempts == 5
    assert await ledger.counter("key:k1", Kind.USD, Window.DAILY) == (0, to_nano(2.0))


async def test_a_deadlock_that_keeps_happening_or_another_error_is_raised(db: Database, clock: Clock) -> None:
    always = _Flaky(db, failures=99)
    with pytest.raises(always.error):
        await Ledger(always, clock).reserve("r1", [usd()], ttl_s=60, context=CONTEXT)  # type: ignore[arg-type]
    assert always.attempts == 5

    other = _Flaky(db, failures=99, name="UniqueViolationError")
    with pytest.raises(other.error):
        await Ledger(other, clock).settle("r1", Charge(cost_nano=1), CONTEXT)  # type: ignore[arg-type]
    assert other.attempts == 1
    assert await Ledger(db, clock).counter("key:k1", Kind.USD, Window.DAILY) == (0, 0)
