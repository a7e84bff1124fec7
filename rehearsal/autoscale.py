"""Autoscaling shown to act: a burst on one model until a deployment with ``min_replicas: 1`` scales up, then
quiet until it scales back down; the replica counts seen on the way."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

import httpx

from rehearsal.stack import GATEWAY, Stack

__all__ = ["ScalingRun", "burst_and_quiet"]

# The deployments the burst loads: claude-3-5-sonnet's targets are Anthropic and Bedrock, whose proxies have
# min_replicas 1 and target_ongoing_requests 128 in configs/prod.yaml (adaptive routing spreads the burst).
WATCHED = ("AnthropicProxy", "BedrockProxy")


@dataclass
class ScalingRun:
    timeline: list[tuple[float, str, dict[str, int]]] = field(default_factory=list)  # (seconds, phase, replicas)
    statuses: dict[int, int] = field(default_factory=dict)

    def peak(self) -> dict[str, int]:
        """The most running replicas each watched deployment had."""
        return {n: max((r.get(n, 0) for _, _, r in self.timeline), default=0) for n in WATCHED}

    def last(self) -> dict[str, int]:
        return {n: self.timeline[-1][2].get(n, 0) if self.timeline else 0 for n in WATCHED}

    def scaled_up(self) -> bool:
        return any(count > 1 for count in self.peak().values())

    def scaled_back(self) -> bool:
        return all(count == 1 for count in self.last().values())


async def _load(stack: Stack, concurrency: int, stop: threading.Event, statuses: dict[int, int]) -> None:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        async def worker(n: int) -> None:
            while not stop.is_set():
                try:
                    async with client.stream(
                            "POST", f"{GATEWAY}/v1/chat/completions",
                            headers={**stack.admin(), "x-tollgate-cache": "off"},
                            json={"model": "claude-3-5-sonnet", "max_tokens": 8, "stream": True, "messages": [
                                {"role": "user", "content": f"Burst request {n}: one word, please."}]}) as response:
                        await response.aread()
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                except httpx.HTTPError:
                    statuses[0] = statuses.get(0, 0) + 1
                    await asyncio.sleep(1)

        await asyncio.gather(*(worker(n) for n in range(concurrency)))


def burst_and_quiet(stack: Stack, *, concurrency: int = 260, upstream_s: float = 6.0, max_burst_s: float = 150,
                    max_quiet_s: float = 240, log: object = print) -> ScalingRun:
    """Hold ``concurrency`` requests open on claude-3-5-sonnet (the fake answers after ``upstream_s`` on Anthropic
    and on Bedrock, so adaptive routing cannot route around the wait) until a watched deployment has scaled up
    (or ``max_burst_s``), then stop and wait until each is back at one replica."""
    run = ScalingRun()
    httpx.post(f"{stack.fake_url}/_fake/faults", json=[{
        "match": {}, "fault": "slow_first_token", "delay": upstream_s}]).raise_for_status()
    stop = threading.Event()
    loader = threading.Thread(target=lambda: asyncio.run(_load(stack, concurrency, stop, run.statuses)), daemon=True)
    started = time.monotonic()

    def sample(phase: str) -> dict[str, int]:
        replicas = stack.replicas()
        run.timeline.append((round(time.monotonic() - started, 1), phase, replicas))
        log(f"  {time.monotonic() - started:6.1f} s  {phase:5}  " +
            "  ".join(f"{n}={replicas.get(n, 0)}" for n in sorted(replicas)))  # type: ignore[operator]
        return replicas

    loader.start()
    try:
        while time.monotonic() - started < max_burst_s:
            time.sleep(5)
            replicas = sample("burst")
            if any(replicas.get(n, 0) > 1 for n in WATCHED):
                time.sleep(5)
                sample("burst")
                break
    finally:
        stop.set()
        loader.join(timeout=upstream_s + 130)
        httpx.delete(f"{stack.fake_url}/_fake/faults")
    quiet_from = time.monotonic()
    while time.monotonic() - quiet_from < max_quiet_s:
        time.sleep(5)
        replicas = sample("quiet")
        if all(replicas.get(n, 0) <= 1 for n in WATCHED):
            break
    return run
