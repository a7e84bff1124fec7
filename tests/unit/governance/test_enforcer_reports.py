"""What governance reports besides its decisions: rejections, spend, remaining budget and soft limits in the
metrics, and how long a reservation outlives its request. Each check names the exact values, so a mix-up of
scopes, windows or amounts fails."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from serve_app.governance.enforcer import Governance
from tests.unit.governance.conftest import Clock, governance_config
from tests.unit.governance.test_budgets import _call, _hierarchy, _request
from tollgate_core.entities import Budget, Budgets, KeyCreate
from tollgate_core.errors import BudgetExceededError, PermissionDeniedError
from tollgate_core.metrics import NullMetrics
from tollgate_core.store import Database


class RecordingMetrics(NullMetrics):
    """Keeps the governance metrics it is given, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def spend(self, org: str, team: str, key: str, model: str, usd: float) -> None:
        self.calls.append(("spend", org, team, key, model, round(usd, 9)))

    def budget_remaining(self, scope: str, window: str, usd: float) -> None:
        self.calls.append(("budget_remaining", scope, window, round(usd, 9)))

    def soft_limit(self, scope: str, window: str) -> None:
        self.calls.append(("soft_limit", scope, window))

    def rejection(self, reason: str) -> None:
        self.calls.append(("rejection", reason))


@pytest.fixture
def metrics() -> RecordingMetrics:
    return RecordingMetrics()


@pytest.fixture
def governed(db: Database, clock: Clock, metrics: RecordingMetrics) -> Callable[..., Governance]:
    def make(**config: Any) -> Governance:
        return Governance(db, governance_config(**config), clock=clock, metrics=metrics)

    return make


async def test_settling_reports_the_spend_and_what_each_budget_has_left(
    governed: Callable[..., Governance], metrics: RecordingMetrics
) -> None:
    gov = governed()
    keys = await _hierarchy(gov.directory, keys={
        "k": KeyCreate(team="acme/ml", name="k", budgets=Budgets(daily=Budget(hard=1.0), monthly=Budget(hard=5.0)))})
    key = keys["k"]
    await _call(gov, key, _request(max_tokens=10), completion=10)
    # The prompt estimate plus 10 completion tokens at $0.0001 each.
    admission_cost = [c for c in metrics.calls if c[0] == "spend"]
    assert len(admission_cost) == 1
    _, org, team, key_id, model, usd = admission_cost[0]
    assert (org, team, key_id, model) == (key.org_id, key.team_id, key.key_id, "m")
    remaining = {(c[1], c[2]): c[3] for c in metrics.calls if c[0] == "budget_remaining"}
    assert remaining == {(f"key:{key.key_id}", "daily"): round(1.0 - usd, 9),
                         (f"key:{key.key_id}", "monthly"): round(5.0 - usd, 9)}
    assert usd > 0 and not [c for c in metrics.calls if c[0] in ("soft_limit", "rejection")]


async def test_passing_a_soft_limit_is_reported_once_per_window(
    governed: Callable[..., Governance], metrics: RecordingMetrics
) -> None:
    gov = governed()
    keys = await _hierarchy(gov.directory, keys={
        "k": KeyCreate(team="acme/ml", name="k", budgets=Budgets(daily=Budget(soft=0.002)))})
    key = keys["k"]
    await _call(gov, key, _request(max_tokens=5), completion=5)  # under the soft limit
    assert not [c for c in metrics.calls if c[0] == "soft_limit"]
    for _ in range(3):
        await _call(gov, key, _request(max_tokens=10), completion=10)
    assert [c for c in metrics.calls if c[0] == "soft_limit"] == [("soft_limit", f"key:{key.key_id}", "daily")]


async def test_refusals_are_counted_by_reason(governed: Callable[..., Governance], metrics: RecordingMetrics) -> None:
    gov = governed()
    keys = await _hierarchy(gov.directory, keys={
        "only_other": KeyCreate(team="acme/ml", name="o", models=["other"]),
        "poor": KeyCreate(team="acme/ml", name="p", budgets=Budgets(daily=Budget(hard=0.0001)))})
    with pytest.raises(PermissionDeniedError):
        await gov.admit(keys["only_other"], "m", _request())
    with pytest.raises(BudgetExceededError):
        await gov.admit(keys["poor"], "m", _request(max_tokens=100))
    assert metrics.calls == [("rejection", "model_not_allowed"), ("rejection", "key_daily_budget_exceeded")]


async def test_a_reservation_outlives_the_longest_request_by_the_grace_period(
    governed: Callable[..., Governance], clock: Clock
) -> None:
    gov = governed(routing={"deadline_s": 40}, governance={"reservation_grace_s": 30})
    assert gov.reservation_ttl_s == 70
    keys = await _hierarchy(gov.directory)
    await gov.admit(keys["a"], "m", _request())
    clock.advance(69)  # past any request's deadline, inside the grace: still reserved
    assert await gov.ledger.settle_expired() == 0
    clock.advance(2)
    assert await gov.ledger.settle_expired() == 1


async def test_the_ledger_row_names_the_target_and_counts_no_cache_tokens_for_a_cut_stream(
    governed: Callable[..., Governance], db: Database
) -> None:
    gov = governed()
    keys = await _hierarchy(gov.directory)
    admission = await gov.admit(keys["a"], "m", _request(max_tokens=50))
    await gov.settle(admission, target=gov.config.models["m"].targets[0], produced_text="one two",
                     outcome="client_disconnected")
    row = await db.fetchone("SELECT target, prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens "
                            "FROM spend_ledger")
    assert row == {"target": "openai/x", "prompt_tokens": admission.prompt_estimate, "completion_tokens": 2,
                   "cached_tokens": 0, "cache_write_tokens": 0}


async def test_a_request_that_reached_no_target_is_charged_nothing(
    governed: Callable[..., Governance], db: Database
) -> None:
    gov = governed()
    keys = await _hierarchy(gov.directory)
    admission = await gov.admit(keys["a"], "m", _request())
    charge = await gov.settle(admission, target=None, outcome="no_available_target")
    assert charge is not None and (charge.cost_nano, charge.prompt_tokens, charge.target) == (0, 0, None)
    row = await db.fetchone("SELECT target, cost_nano, prompt_tokens, outcome FROM spend_ledger")
    assert row == {"target": None, "cost_nano": 0, "prompt_tokens": 0, "outcome": "no_available_target"}


async def test_a_monthly_budget_alone_is_enforced(governed: Callable[..., Governance]) -> None:
    gov = governed()
    keys = await _hierarchy(gov.directory, keys={
        "k": KeyCreate(team="acme/ml", name="k", budgets=Budgets(monthly=Budget(hard=0.0001)))})
    with pytest.raises(BudgetExceededError) as refused:
        await gov.admit(keys["k"], "m", _request(max_tokens=100))
    assert refused.value.code == "key_monthly_budget_exceeded"
