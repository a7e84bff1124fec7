"""The failover loop on its own: fake attempts, a recorded sleep, no HTTP and no Ray."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import pytest

from deployments.router.board import Availability, BoardSnapshot, Observation, Outcome, TargetBoard
from deployments.router.failover import Failover, RouterSync, is_context_overflow
from tollgate_core.catalog import Catalog, ResolvedTarget
from tollgate_core.config import parse_gateway_config
from tollgate_core.errors import (
    BadRequestError,
    DeadlineExceededError,
    RateLimitError,
    TollgateError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)


def _config(**routing: Any) -> Any:
    def t(model: str) -> dict[str, str]:
        return {"provider": "openai", "model": model, "api_key_env": "FAILOVER_KEY"}

    return parse_gateway_config({
        "models": {
            "main": {"targets": [t("a"), t("b")], "policy": "priority", "fallbacks": ["spare"],
                     "context_fallback": "big"},
            "spare": {"targets": [t("s")]},
            "big": {"targets": [t("big")]},
        },
        "routing": {"retry": {"attempts_per_target": 2, "backoff_base_s": 0.01, "retry_after_max_s": 2,
                              "default_cooldown_s": 30}, **routing},
    })


class Script:
    """Attempt function whose answers are scripted per upstream model."""

    def __init__(self, **answers: list[Any]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    async def __call__(self, rt: ResolvedTarget, remaining: float) -> str:
        self.calls.append(rt.target.model)
        queue = self.answers.get(rt.target.model, [])
        answer = queue.pop(0) if queue else "ok"
        if isinstance(answer, TollgateError):
            raise answer
        return f"{answer} from {rt.target.model}"


@pytest.fixture
def setup(monkeypatch: pytest.MonkeyPatch) -> tuple[Failover, list[float]]:
    monkeypatch.setenv("FAILOVER_KEY", "k")
    config = _config()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    board = TargetBoard(config.routing.circuit)
    return Failover(config, Catalog(config), board, rng=random.Random(1), sleep=sleep), slept


def _deadline() -> float:
    return time.time() + 60


def err(status: int, retry_after: float | None = None, message: str = "boom", code: str | None = None) -> Any:
    return UpstreamStatusError(message, upstream_status=status, retry_after=retry_after, code=code)


async def test_retry_then_success(setup: tuple[Failover, list[float]]) -> None:
    failover, slept = setup
    script = Script(a=[err(500)])
    result = await failover.run("main", script, _deadline())
    assert result.value == "ok from a" and result.attempts == 2
    assert script.calls == ["a", "a"]
    assert len(slept) == 1 and 0 <= slept[0] <= 0.01


async def test_short_retry_after_is_waited_long_one_cools_down(setup: tuple[Failover, list[float]]) -> None:
    failover, slept = setup
    script = Script(a=[err(429, retry_after=1.5)])
    assert (await failover.run("main", script, _deadline())).value == "ok from a"
    assert slept == [1.5]
    failover.board.reset()  # the fake sleep moved no clock: forget the 1.5 s cooldown
    script = Script(a=[err(429, retry_after=60)])
    assert (await failover.run("main", script, _deadline())).value == "ok from b"
    assert script.calls == ["a", "b"]
    assert failover.board.availability("main#0") is Availability.COOLING_DOWN


async def test_all_targets_failing_use_the_fallback_model(setup: tuple[Failover, list[float]]) -> None:
    failover, _ = setup
    script = Script(a=[err(500), err(502)], b=[err(503), err(503)])
    result = await failover.run("main", script, _deadline())
    assert result.value == "ok from s"
    assert script.calls == ["a", "a", "b", "b", "s"]


async def test_client_error_is_raised_at_once(setup: tuple[Failover, list[float]]) -> None:
    failover, _ = setup
    script = Script(a=[err(400)])
    with pytest.raises(UpstreamStatusError):
        await failover.run("main", script, _deadline())
    assert script.calls == ["a"]


async def test_context_overflow_goes_to_the_context_fallback(setup: tuple[Failover, list[float]]) -> None:
    failover, _ = setup
    script = Script(a=[err(400, code="context_length_exceeded")])
    result = await failover.run("main", script, _deadline())
    assert result.value == "ok from big"
    assert script.calls == ["a", "big"]


@pytest.mark.parametrize(
    ("message", "overflow"),
    [("prompt is too long: 20 tokens > 16 maximum", True), ("Input is too long for requested model.", True),
     ("This model's maximum context length is 8192 tokens", True), ("temperature must be below 2", False)],
)
def test_context_overflow_messages(message: str, overflow: bool) -> None:
    assert is_context_overflow(BadRequestError(message)) is overflow


async def test_exhausted_by_rate_limits_is_429_with_earliest_recovery(setup: tuple[Failover, list[float]]) -> None:
    failover, _ = setup
    script = Script(a=[err(429, retry_after=40)], b=[err(429, retry_after=9)], s=[err(429, retry_after=20)])
    with pytest.raises(RateLimitError) as info:
        await failover.run("main", script, _deadline())
    assert info.value.retry_after is not None and 8 <= info.value.retry_after <= 9
    with pytest.raises(RateLimitError):
        await failover.run("main", script, _deadline())
    assert script.calls == ["a", "b", "s"], "cooling targets are not called again"


async def test_exhausted_by_timeouts_is_504(setup: tuple[Failover, list[float]]) -> None:
    failover, _ = setup
    t = UpstreamTimeoutError("slow")
    script = Script(a=[t, t], b=[t, t], s=[t, t])
    with pytest.raises(UpstreamTimeoutError):
        await failover.run("main", script, _deadline())


async def test_exhausted_by_errors_is_503(setup: tuple[Failover, list[float]]) -> None:
    failover, _ = setup
    script = Script(a=[err(500)] * 2, b=[err(500)] * 2, s=[err(500)] * 2)
    with pytest.raises(UpstreamUnavailableError) as info:
        await failover.run("main", script, _deadline())
    assert info.value.code == "no_available_target" and info.value.retry_after is not None


async def test_passed_deadline_makes_no_attempt(setup: tuple[Failover, list[float]]) -> None:
    failover, _ = setup
    script = Script()
    with pytest.raises(TollgateError):
        await failover.run("main", script, time.time() - 1)
    assert script.calls == []


class _Router:
    """A Router link whose exchange can be held open or made to fail."""

    def __init__(self) -> None:
        self.board = TargetBoard(_config().routing.circuit)
        self.fail = False
        self.gate: asyncio.Event | None = None

    async def exchange(self, observations: list[Observation]) -> BoardSnapshot:
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise UpstreamUnavailableError("router away")
        for obs in observations:
            self.board.record(obs)
        return self.board.snapshot()

    async def reset(self) -> None:
        self.board.reset()


def _failure(key: str) -> Observation:
    return Observation(key=key, outcome=Outcome.ERROR, at=time.time())


async def test_router_sync_merges_and_keeps_observations_while_the_router_is_away() -> None:
    local = TargetBoard(_config().routing.circuit)
    router = _Router()
    sync = RouterSync(local, router, interval=0.01)
    router.board.record(_failure("main#1"))  # seen by another replica
    router.fail = True
    sync.report(_failure("main#0"))
    await sync.sync_once()
    assert router.board.state("main#0").consecutive_failures == 0
    router.fail = False
    await sync.sync_once()
    assert router.board.state("main#0").consecutive_failures == 1, "kept and delivered later"
    assert local.state("main#1").consecutive_failures == 1, "the other replica's view arrived"


async def test_router_sync_drops_a_snapshot_taken_before_a_reset() -> None:
    local = TargetBoard(_config().routing.circuit)
    router = _Router()
    for _ in range(5):
        router.board.record(_failure("main#0"))
    sync = RouterSync(local, router, interval=0.01)
    router.gate = asyncio.Event()
    pending = asyncio.ensure_future(sync.sync_once())
    await asyncio.sleep(0)
    router.gate.set()
    await sync.reset()
    await pending
    assert local.availability("main#0") is Availability.HEALTHY


async def test_a_cancelled_attempt_releases_its_hold(setup: tuple[Failover, list[float]]) -> None:
    failover, _ = setup

    async def hang(rt: ResolvedTarget, remaining: float) -> str:
        await asyncio.sleep(60)
        return "never"

    task = asyncio.ensure_future(failover.run("main", hang, _deadline()))
    await asyncio.sleep(0.01)
    assert failover.board.state("main#0").in_flight == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert failover.board.state("main#0").in_flight == 0


async def test_the_clients_deadline_is_not_held_against_the_target(setup: tuple[Failover, list[float]]) -> None:
    failover, _ = setup
    script = Script(a=[DeadlineExceededError("too slow for this client")] * 10)
    with pytest.raises(DeadlineExceededError):
        await failover.run("main", script, _deadline())
    assert script.calls == ["a"]
    assert failover.board.state("main#0").consecutive_failures == 0


async def test_an_upstream_404_is_a_target_fault_and_fails_over(setup: tuple[Failover, list[float]]) -> None:
    failover, _ = setup
    script = Script(a=[err(404), err(404)])
    result = await failover.run("main", script, _deadline())
    assert result.value == "ok from b"
    assert failover.board.state("main#0").consecutive_failures == 2
