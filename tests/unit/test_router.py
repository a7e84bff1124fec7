"""Target statistics, circuit breaking and ordering policies, on a hand-moved clock."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from deployments.router.board import Availability, Observation, Outcome, TargetBoard
from deployments.router.policy import order_targets
from tollgate_core.config import CircuitConfig, ModelConfig


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _board(**circuit: float) -> tuple[TargetBoard, Clock]:
    clock = Clock()
    return TargetBoard(CircuitConfig(**circuit), clock=clock), clock  # type: ignore[arg-type]


def _obs(board: TargetBoard, key: str, outcome: Outcome, **extra: float) -> None:
    board.record(Observation(key=key, outcome=outcome, at=board.now(), **extra))  # type: ignore[arg-type]


def _model(n: int, **over: object) -> ModelConfig:
    targets = [{"provider": "openai", "model": f"m{i}", "api_key_env": "K"} for i in range(n)]
    return ModelConfig.model_validate({"targets": targets, **over})


def test_consecutive_failures_open_then_half_open_then_close() -> None:
    board, clock = _board(consecutive_failures=3, open_s=10)
    for _ in range(3):
        _obs(board, "m#0", Outcome.ERROR)
    assert board.availability("m#0") is Availability.OPEN
    assert not board.try_acquire("m#0")
    clock.now += 10
    assert board.availability("m#0") is Availability.HALF_OPEN
    probe = board.try_acquire("m#0")
    assert probe is not None and probe.probe, "one probe is let through"
    assert board.try_acquire("m#0") is None, "only one probe at a time"
    board.release(probe)
    board.release(probe)
    assert board.state("m#0").in_flight == 0, "releasing twice is harmless"
    _obs(board, "m#0", Outcome.OK, ttft_ms=20)
    assert board.availability("m#0") is Availability.HEALTHY


def test_a_non_probe_release_does_not_free_the_probe_slot() -> None:
    board, clock = _board(consecutive_failures=1, open_s=10)
    before = board.try_acquire("m#0")  # began while healthy
    assert before is not None and not before.probe
    _obs(board, "m#0", Outcome.ERROR)
    clock.now += 10
    probe = board.try_acquire("m#0")
    assert probe is not None and probe.probe
    board.release(before)
    assert board.try_acquire("m#0") is None, "the probe slot is still taken"


def test_an_attempt_begun_before_the_circuit_opened_does_not_close_it() -> None:
    board, clock = _board(consecutive_failures=1, open_s=10)
    _obs(board, "m#0", Outcome.ERROR)
    clock.now += 1
    _obs(board, "m#0", Outcome.OK, ttft_ms=5, duration_ms=5000)  # started 4 s before the circuit opened
    assert board.availability("m#0") is Availability.OPEN


def test_a_rate_limited_probe_keeps_the_target_cooling() -> None:
    board, clock = _board(consecutive_failures=1, open_s=10)
    _obs(board, "m#0", Outcome.ERROR)
    clock.now += 10
    probe = board.try_acquire("m#0")
    assert probe is not None
    board.release(probe)
    _obs(board, "m#0", Outcome.RATE_LIMITED, retry_after_s=60)
    assert board.availability("m#0") is Availability.COOLING_DOWN
    assert board.try_acquire("m#0") is None


def test_failed_probe_reopens_the_circuit() -> None:
    board, clock = _board(consecutive_failures=2, open_s=5)
    _obs(board, "m#0", Outcome.ERROR)
    _obs(board, "m#0", Outcome.TIMEOUT)
    clock.now += 5
    probe = board.try_acquire("m#0")
    assert probe is not None
    board.release(probe)
    _obs(board, "m#0", Outcome.ERROR)
    assert board.availability("m#0") is Availability.OPEN
    assert board.recovers_at("m#0") == clock.now + 5


def test_error_rate_over_the_window_opens_the_circuit() -> None:
    board, clock = _board(consecutive_failures=100, min_requests=4, error_rate=0.5, window_s=30)
    for outcome in (Outcome.OK, Outcome.ERROR, Outcome.OK, Outcome.ERROR):
        _obs(board, "m#0", outcome)
    assert board.availability("m#0") is Availability.OPEN


def test_old_errors_leave_the_window() -> None:
    board, clock = _board(consecutive_failures=100, min_requests=3, error_rate=0.5, window_s=10)
    _obs(board, "m#0", Outcome.ERROR)
    _obs(board, "m#0", Outcome.ERROR)
    clock.now += 11
    _obs(board, "m#0", Outcome.OK)
    _obs(board, "m#0", Outcome.OK)
    assert board.availability("m#0") is Availability.HEALTHY
    assert board.state("m#0").error_rate() == 0.0


def test_rate_limit_cools_down_without_counting_as_an_error() -> None:
    board, clock = _board(consecutive_failures=1)
    _obs(board, "m#0", Outcome.RATE_LIMITED, retry_after_s=30)
    assert board.availability("m#0") is Availability.COOLING_DOWN
    assert board.state("m#0").consecutive_failures == 0
    clock.now += 30
    assert board.availability("m#0") is Availability.HEALTHY


def test_client_errors_say_nothing_about_the_target() -> None:
    board, _ = _board(consecutive_failures=1)
    _obs(board, "m#0", Outcome.CLIENT_ERROR)
    assert board.availability("m#0") is Availability.HEALTHY


def test_score_prefers_fast_idle_healthy_targets_with_quota() -> None:
    board, _ = _board()
    _obs(board, "fast", Outcome.OK, ttft_ms=10)
    _obs(board, "slow", Outcome.OK, ttft_ms=100)
    assert board.expected_latency_ms("fast") < board.expected_latency_ms("slow")
    for _ in range(8):
        board.force_acquire("fast")
    assert board.expected_latency_ms("fast") > 10 * 2
    _obs(board, "quota", Outcome.OK, ttft_ms=10,
         quota={"x-ratelimit-remaining-requests": "1", "x-ratelimit-limit-requests": "100"})  # type: ignore[arg-type]
    _obs(board, "plenty", Outcome.OK, ttft_ms=10,
         quota={"x-ratelimit-remaining-requests": "90", "x-ratelimit-limit-requests": "100"})  # type: ignore[arg-type]
    assert board.expected_latency_ms("quota") > board.expected_latency_ms("plenty")


def test_snapshot_round_trip_keeps_local_counters() -> None:
    board, clock = _board(consecutive_failures=2)
    _obs(board, "m#0", Outcome.ERROR)
    _obs(board, "m#0", Outcome.ERROR)
    _obs(board, "m#1", Outcome.OK, ttft_ms=42)
    other, _ = _board(consecutive_failures=2)
    other.force_acquire("m#1")
    other.load(board.snapshot())
    assert other.availability("m#0") is Availability.OPEN
    assert other.state("m#1").ewma_ttft_ms == 42
    assert other.state("m#1").in_flight == 1
    other.reset()
    assert other.availability("m#0") is Availability.HEALTHY
    assert other.state("m#1").in_flight == 1


def test_latency_policy_sends_most_traffic_to_the_fast_target() -> None:
    board, _ = _board()
    model = _model(3)
    for i, ttft in enumerate((10.0, 12.0, 100.0)):
        _obs(board, f"m#{i}", Outcome.OK, ttft_ms=ttft)
    rng = random.Random(7)
    firsts = Counter(order_targets(board, "m", model, [0, 1, 2], rng).usable[0] for _ in range(300))
    assert firsts[2] == 0, "the slow target never wins a pair"
    assert firsts[0] > firsts[1] > 0


def test_after_the_pair_winner_targets_follow_in_latency_order() -> None:
    board, _ = _board()
    for i, ttft in enumerate((100.0, 10.0, 12.0)):  # latency order 1, 2, 0: not the index order
        _obs(board, f"m#{i}", Outcome.OK, ttft_ms=ttft)
    rng = random.Random(3)
    for _ in range(50):
        usable = order_targets(board, "m", _model(3), [0, 1, 2], rng).usable
        assert usable[1:] == [i for i in (1, 2, 0) if i != usable[0]]


def test_blocked_targets_are_left_out_and_probes_go_first() -> None:
    board, clock = _board(consecutive_failures=1, open_s=10)
    _obs(board, "m#0", Outcome.ERROR)
    _obs(board, "m#1", Outcome.RATE_LIMITED, retry_after_s=60)
    plan = order_targets(board, "m", _model(3), [0, 1, 2], random.Random(1))
    assert plan.usable == [2] and sorted(plan.blocked) == [0, 1]
    clock.now += 10
    plan = order_targets(board, "m", _model(3), [0, 1, 2], random.Random(1))
    assert plan.usable == [0, 2], "the half-open target is probed first"


@pytest.mark.parametrize("policy", ["priority", "weighted"])
def test_priority_and_weighted_policies(policy: str) -> None:
    board, _ = _board()
    over: dict[str, object] = {"policy": policy}
    if policy == "weighted":
        over["weights"] = [0.0, 1.0, 3.0]
    model = _model(3, **over)
    rng = random.Random(3)
    firsts = Counter(order_targets(board, "m", model, [0, 1, 2], rng).usable[0] for _ in range(400))
    if policy == "priority":
        assert firsts == Counter({0: 400})
    else:
        assert firsts[0] == 0 and firsts[2] > 2 * firsts[1] > 0
