"""Budgets and rate limits: runaway keys cut off, shared team budgets, window reset, concurrency, exactly-once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from serve_app.governance.directory import Directory
from serve_app.governance.enforcer import Governance
from serve_app.governance.ledger import Kind
from tests.unit.governance.conftest import Clock
from tollgate_core.entities import NANO, Budget, Budgets, KeyCreate, OrgCreate, Principal, RateLimits, TeamCreate
from tollgate_core.errors import BudgetExceededError, PermissionDeniedError, RateLimitError
from tollgate_core.store import Database, open_database
from tollgate_core.windows import Window

TARGET_CONFIG_PRICE = 100.0 / 1_000_000  # USD per token (conftest.PRICES)


def _request(max_tokens: int = 10, user: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": max_tokens}
    if user:
        body["user"] = user
    return body


async def _hierarchy(directory: Directory, *, org: Budgets | None = None, team: Budgets | None = None,
                     team_limits: RateLimits | None = None, end_user: Budgets | None = None,
                     keys: dict[str, KeyCreate] | None = None) -> dict[str, Principal]:
    await directory.create_org(OrgCreate(name="acme", budgets=org or Budgets()))
    await directory.create_team(TeamCreate(org="acme", name="ml", budgets=team or Budgets(),
                                           limits=team_limits or RateLimits(), end_user_budgets=end_user or Budgets()))
    principals = {}
    for name, spec in (keys or {"a": KeyCreate(team="acme/ml", name="a")}).items():
        created = await directory.create_key(spec)
        principals[name] = await directory.authenticate(created["key"])
    return principals


async def _call(gov: Governance, principal: Principal, request: dict[str, Any] | None = None,
                completion: int | None = None) -> None:
    """One request through admit and settle, the provider reporting the whole worst case as used."""
    body = request or _request()
    admission = await gov.admit(principal, "m", body)
    target = gov.config.models["m"].targets[0]
    usage = {"prompt_tokens": admission.prompt_estimate,
             "completion_tokens": body["max_tokens"] if completion is None else completion}
    await gov.settle(admission, target=target, usage=usage)


async def _spent(db: Database) -> int:
    row = await db.fetchone("SELECT COALESCE(SUM(cost_nano), 0) AS s FROM spend_ledger")
    return int(row["s"]) if row else 0


async def test_a_runaway_key_is_cut_off_within_its_budget_while_its_sibling_works(
    make_governance: Callable[..., Governance], db: Database
) -> None:
    gov = make_governance()
    hourly = Budgets(hourly=Budget(hard=0.01))
    keys = await _hierarchy(gov.directory, keys={
        "runaway": KeyCreate(team="acme/ml", name="runaway", budgets=hourly),
        "sibling": KeyCreate(team="acme/ml", name="sibling", budgets=hourly),
    })
    served = 0
    with pytest.raises(BudgetExceededError) as refused:
        for _ in range(1000):
            await _call(gov, keys["runaway"])
            served += 1
    assert 0 < served < 1000
    assert refused.value.error_type == "budget_exceeded"
    assert refused.value.code == "key_hourly_budget_exceeded"
    assert "hourly budget" in refused.value.message and "'runaway'" in refused.value.message
    assert refused.value.retry_after is not None and 0 < refused.value.retry_after <= 3600
    assert await _spent(db) <= 0.01 * NANO
    await _call(gov, keys["sibling"])  # the other key of the team is not affected


async def test_a_team_budget_is_shared_by_its_keys(make_governance: Callable[..., Governance], db: Database) -> None:
    gov = make_governance()
    keys = await _hierarchy(gov.directory, team=Budgets(daily=Budget(hard=0.01)), keys={
        "one": KeyCreate(team="acme/ml", name="one"), "two": KeyCreate(team="acme/ml", name="two"),
    })
    served = {"one": 0, "two": 0}
    with pytest.raises(BudgetExceededError) as refused:
        for i in range(1000):
            name = "one" if i % 2 == 0 else "two"
            await _call(gov, keys[name])
            served[name] += 1
    assert served["one"] > 0 and served["two"] > 0
    assert refused.value.code == "team_daily_budget_exceeded"
    assert await _spent(db) <= 0.01 * NANO
    for principal in keys.values():  # both keys are now refused
        with pytest.raises(BudgetExceededError):
            await _call(gov, principal)


async def test_the_window_resets_at_the_calendar_boundary(make_governance: Callable[..., Governance],
                                                          clock: Clock) -> None:
    gov = make_governance()
    keys = await _hierarchy(gov.directory, keys={
        "k": KeyCreate(team="acme/ml", name="k", budgets=Budgets(hourly=Budget(hard=0.002)))})
    await _call(gov, keys["k"])  # worst case $0.0013 of $0.002
    with pytest.raises(BudgetExceededError) as refused:
        await _call(gov, keys["k"])
    assert refused.value.retry_after == pytest.approx(3600 - 120)  # the clock is at hh:02:00
    clock.advance(refused.value.retry_after or 0)
    await _call(gov, keys["k"])  # a new hour, a new budget


async def test_a_request_whose_worst_case_exceeds_what_remains_is_refused_up_front(
    make_governance: Callable[..., Governance], db: Database
) -> None:
    gov = make_governance()
    keys = await _hierarchy(gov.directory, keys={
        "k": KeyCreate(team="acme/ml", name="k", budgets=Budgets(daily=Budget(hard=0.01)))})
    with pytest.raises(BudgetExceededError):
        await gov.admit(keys["k"], "m", _request(max_tokens=1000))  # up to $0.1
    assert await _spent(db) == 0
    await _call(gov, keys["k"], _request(max_tokens=10))


async def test_without_max_tokens_the_configured_cap_is_reserved_and_sent_upstream(
    make_governance: Callable[..., Governance]
) -> None:
    gov = make_governance(governance={"default_max_tokens": 50})
    keys = await _hierarchy(gov.directory, keys={
        "k": KeyCreate(team="acme/ml", name="k", budgets=Budgets(daily=Budget(hard=1.0)))})
    body: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    admission = await gov.admit(keys["k"], "m", body)
    assert body["max_tokens"] == 50
    used, reserved = await gov.ledger.counter(f"key:{keys['k'].key_id}", Kind.USD, Window.DAILY)
    assert (used, reserved) == (0, round((admission.prompt_estimate + 50) * TARGET_CONFIG_PRICE * NANO))


async def test_settling_twice_charges_once(make_governance: Callable[..., Governance], db: Database) -> None:
    gov = make_governance()
    keys = await _hierarchy(gov.directory)
    admission = await gov.admit(keys["a"], "m", _request())
    target = gov.config.models["m"].targets[0]
    await gov.ledger.settle(admission.request_id, _charge(7), admission.context)
    await gov.ledger.settle(admission.request_id, _charge(7), admission.context)
    await gov.settle(admission, target=target, usage={"prompt_tokens": 1, "completion_tokens": 1})
    rows = await db.fetchall("SELECT cost_nano FROM spend_ledger")
    assert [r["cost_nano"] for r in rows] == [7]


def _charge(cost: int) -> Any:
    from serve_app.governance.ledger import Charge

    return Charge(cost_nano=cost, prompt_tokens=1, completion_tokens=1)


async def test_a_cut_stream_is_charged_for_the_text_it_produced(make_governance: Callable[..., Governance],
                                                                db: Database) -> None:
    gov = make_governance()
    keys = await _hierarchy(gov.directory)
    admission = await gov.admit(keys["a"], "m", _request(max_tokens=100))
    await gov.settle(admission, target=gov.config.models["m"].targets[0], produced_text="one two three",
                     outcome="client_disconnected")
    row = await db.fetchone("SELECT completion_tokens, prompt_tokens, outcome FROM spend_ledger")
    assert row == {"completion_tokens": 3, "prompt_tokens": admission.prompt_estimate,
                   "outcome": "client_disconnected"}


async def test_reservations_of_a_dead_replica_are_charged_at_their_worst_case_after_expiry(
    make_governance: Callable[..., Governance], db: Database, clock: Clock
) -> None:
    gov = make_governance()
    keys = await _hierarchy(gov.directory, keys={
        "k": KeyCreate(team="acme/ml", name="k", budgets=Budgets(daily=Budget(hard=1.0)))})
    admission = await gov.admit(keys["k"], "m", _request())  # never settled: its replica "died"
    assert await gov.ledger.settle_expired() == 0
    clock.advance(gov.reservation_ttl_s + 1)
    assert await gov.ledger.settle_expired() == 1
    used, reserved = await gov.ledger.counter(f"key:{keys['k'].key_id}", Kind.USD, Window.DAILY)
    worst = round((admission.prompt_estimate + 10) * TARGET_CONFIG_PRICE * NANO)
    assert (used, reserved) == (worst, 0)
    await gov.settle(admission, target=None)  # the late settle finds it settled
    assert await _spent(db) == worst


async def test_end_user_budgets_apply_per_user(make_governance: Callable[..., Governance]) -> None:
    gov = make_governance()
    keys = await _hierarchy(gov.directory, end_user=Budgets(daily=Budget(hard=0.002)))
    await _call(gov, keys["a"], _request(user="alice"))
    with pytest.raises(BudgetExceededError) as refused:
        await _call(gov, keys["a"], _request(user="alice"))
    assert refused.value.code == "end_user_daily_budget_exceeded"
    await _call(gov, keys["a"], _request(user="bob"))


async def test_requests_per_minute(make_governance: Callable[..., Governance], clock: Clock) -> None:
    gov = make_governance()
    keys = await _hierarchy(gov.directory, keys={
        "k": KeyCreate(team="acme/ml", name="k", limits=RateLimits(rpm=3))})
    for _ in range(3):
        await _call(gov, keys["k"])
    with pytest.raises(RateLimitError) as refused:
        await _call(gov, keys["k"])
    assert refused.value.code == "requests_per_minute_exceeded"
    assert refused.value.retry_after == pytest.approx(60)
    clock.advance(60)
    await _call(gov, keys["k"])


async def test_tokens_per_minute_count_actual_tokens(make_governance: Callable[..., Governance]) -> None:
    gov = make_governance()
    keys = await _hierarchy(gov.directory, team_limits=RateLimits(tpm=100))
    await _call(gov, keys["a"], _request(max_tokens=50), completion=5)  # reserves ~58, settles ~13
    await _call(gov, keys["a"], _request(max_tokens=50), completion=5)
    await _call(gov, keys["a"], _request(max_tokens=50), completion=5)
    with pytest.raises(RateLimitError) as refused:
        await gov.admit(keys["a"], "m", _request(max_tokens=90))
    assert refused.value.code == "tokens_per_minute_exceeded"


async def test_concurrency_cap(make_governance: Callable[..., Governance]) -> None:
    gov = make_governance()
    keys = await _hierarchy(gov.directory, keys={
        "k": KeyCreate(team="acme/ml", name="k", limits=RateLimits(max_concurrency=2))})
    first = await gov.admit(keys["k"], "m", _request())
    await gov.admit(keys["k"], "m", _request())
    with pytest.raises(RateLimitError) as refused:
        await gov.admit(keys["k"], "m", _request())
    assert refused.value.code == "concurrency_limit_exceeded"
    await gov.settle(first, target=None)
    await gov.admit(keys["k"], "m", _request())


async def test_a_refusal_on_one_level_reserves_nothing_on_the_others(
    make_governance: Callable[..., Governance]
) -> None:
    gov = make_governance()
    keys = await _hierarchy(gov.directory, org=Budgets(daily=Budget(hard=100.0)), keys={
        "k": KeyCreate(team="acme/ml", name="k", budgets=Budgets(daily=Budget(hard=0.0001)))})
    with pytest.raises(BudgetExceededError):
        await gov.admit(keys["k"], "m", _request())
    assert await gov.ledger.counter(f"org:{keys['k'].org_id}", Kind.USD, Window.DAILY) == (0, 0)


async def test_models_outside_the_allowed_list_are_refused(make_governance: Callable[..., Governance]) -> None:
    gov = make_governance()
    keys = await _hierarchy(gov.directory, keys={"k": KeyCreate(team="acme/ml", name="k", models=["other"])})
    with pytest.raises(PermissionDeniedError) as refused:
        await gov.admit(keys["k"], "m", _request())
    assert refused.value.code == "model_not_allowed"
    await gov.admit(keys["k"], "other", _request())


async def test_two_replicas_never_spend_past_the_budget_and_charge_each_request_once(
    store_url: str, clock: Clock
) -> None:
    """200 concurrent requests over two independent store connections (two replicas), budget for ~50."""
    replicas = [await open_database(store_url), await open_database(store_url)]
    try:
        govs = [Governance(db, _two_replica_config(), clock=clock) for db in replicas]
        budget = 50 * (8 + 10) * TARGET_CONFIG_PRICE  # ~50 requests of 8 prompt + 10 completion tokens
        keys = await _hierarchy(govs[0].directory, keys={
            "k": KeyCreate(team="acme/ml", name="k", budgets=Budgets(daily=Budget(hard=budget)))})
        outcomes = await asyncio.gather(
            *(_call_counted(govs[i % 2], keys["k"]) for i in range(200)), return_exceptions=True
        )
        served = [o for o in outcomes if o is True]
        refused = [o for o in outcomes if isinstance(o, BudgetExceededError)]
        assert len(served) + len(refused) == 200, [o for o in outcomes if o is not True and o not in refused]
        assert 25 <= len(served) <= 50
        rows = await replicas[0].fetchall("SELECT request_id, cost_nano FROM spend_ledger")
        assert len(rows) == len(served)  # exactly once each
        assert sum(r["cost_nano"] for r in rows) <= budget * NANO
        used, reserved = await govs[1].ledger.counter(f"key:{keys['k'].key_id}", Kind.USD, Window.DAILY)
        assert used == sum(r["cost_nano"] for r in rows) and reserved == 0
    finally:
        for db in replicas:
            await db.close()


def _two_replica_config() -> Any:
    from tests.unit.governance.conftest import governance_config

    return governance_config()


async def _call_counted(gov: Governance, principal: Principal) -> bool:
    await asyncio.sleep(0)
    await _call(gov, principal)
    return True
