"""Failover under faults: Tollgate's adaptive routing with retries against round-robin without retries.

Three targets of one model at the fake upstream, each answering in ``--base-ms``: during the fault runs
one returns 500 for 30% of requests and another answers 5x slower. Rows:

- Tollgate, all healthy (the reference for p99);
- Tollgate with the faults (latency policy, retries, failover);
- round-robin with no retries: the client calls the three targets in turn, directly at the fake, as an
  application without a gateway would.

Run from the repository root: ``.venv/bin/python benchmarks/failover.py``. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import overhead as harness

TARGETS = ("t-ok", "t-flaky", "t-slow")


@dataclass
class Row:
    name: str
    success: float
    p50: float
    p99: float
    rps: float
    share: dict[str, float]


def _rules(base_s: float, faulty: bool) -> list[dict[str, object]]:
    """Fault rules for the fake; the first matching rule applies (a probability miss falls through)."""
    slow = 5 * base_s if faulty else base_s
    rules: list[dict[str, object]] = []
    if faulty:
        rules.append({"match": {"model": "t-flaky"}, "fault": "500", "probability": 0.3})
    rules += [{"match": {"model": "t-ok"}, "fault": "slow_first_token", "delay": base_s},
              {"match": {"model": "t-flaky"}, "fault": "slow_first_token", "delay": base_s},
              {"match": {"model": "t-slow"}, "fault": "slow_first_token", "delay": slow}]
    return rules


def prepare(fake: str, base_s: float, faulty: bool) -> None:
    httpx.post(f"{fake}/_fake/reset").raise_for_status()
    httpx.post(f"{fake}/_fake/faults", json=_rules(base_s, faulty)).raise_for_status()


def share(fake: str) -> dict[str, float]:
    """Share of upstream calls per target (retries included)."""
    calls = Counter(str(r["body"].get("model")) for r in httpx.get(f"{fake}/_fake/requests").json())
    total = sum(calls.values()) or 1
    return {t: calls[t] / total for t in TARGETS}


async def drive(request: Callable[[int], tuple[str, str, str]], n: int, concurrency: int) -> tuple[list[float], int, float]:
    """``n`` requests at ``concurrency``: latencies of successes (ms), failures, and elapsed seconds."""
    latencies: list[float] = []
    failures = 0
    counter = iter(range(n))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal failures
        for i in counter:
            url, model, key = request(i)
            body = {"model": model, "messages": [{"role": "user", "content": "Say hi"}], "max_tokens": 16}
            started = time.perf_counter()
            try:
                response = await client.post(url, json=body, headers={"Authorization": f"Bearer {key}"})
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                failures += 1

    started = time.perf_counter()
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return latencies, failures, time.perf_counter() - started


def run_row(name: str, fake: str, request: Callable[[int], tuple[str, str, str]], args: argparse.Namespace,
            faulty: bool) -> Row:
    print(f"  {name}", flush=True)
    prepare(fake, args.base_ms / 1000, faulty)
    asyncio.run(drive(request, 50, 8))  # warm-up, not counted
    httpx.delete(f"{fake}/_fake/requests")
    latencies, failures, elapsed = asyncio.run(drive(request, args.requests, args.concurrency))
    p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) > 1 else float("nan")
    return Row(name, len(latencies) / args.requests, statistics.median(latencies) if latencies else float("nan"),
               p99, len(latencies) / elapsed, share(fake))


def table(rows: list[Row]) -> str:
    head = ["| run | success | p50 ms | p99 ms | RPS | " + " | ".join(f"share {t}" for t in TARGETS) + " |",
            "|---" * (5 + len(TARGETS)) + "|"]
    body = [f"| {r.name} | {r.success:.1%} | {r.p50:.1f} | {r.p99:.1f} | {r.rps:.0f} | "
            + " | ".join(f"{r.share[t]:.0%}" for t in TARGETS) + " |" for r in rows]
    return "\n".join(head + body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500, help="requests per run")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--base-ms", type=float, default=20.0, help="upstream latency of a healthy target")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tollgate-failover-") as tmp:
        workdir = Path(tmp)
        procs = harness.Processes(workdir)
        try:
            fake_port = harness.start_fake(procs)
            fake = f"http://127.0.0.1:{fake_port}"
            models = {"mixed": {"targets": [harness.fake_target(fake_port, t) for t in TARGETS]}}
            rows = []
            with harness.tollgate(procs, workdir, fake_port, haproxy=True, models=models, model="mixed") as gw:
                gateway = f"http://127.0.0.1:{gw.port}"

                def via_gateway(i: int) -> tuple[str, str, str]:
                    return f"{gateway}/v1/chat/completions", "mixed", harness.MASTER_KEY

                for name, faulty in (("Tollgate, all healthy", False), ("Tollgate, faults", True)):
                    httpx.post(f"{gateway}/admin/routing/reset",
                               headers={"Authorization": f"Bearer {harness.MASTER_KEY}"}).raise_for_status()
                    rows.append(run_row(name, fake, via_gateway, args, faulty))

            def round_robin(i: int) -> tuple[str, str, str]:
                return f"{fake}/v1/chat/completions", TARGETS[i % len(TARGETS)], harness.UPSTREAM_KEY

            rows.append(run_row("round-robin, no retries (direct), faults", fake, round_robin, args, True))
        finally:
            procs.stop_all()
    print()
    print(table(rows))
    healthy, faults = rows[0], rows[1]
    print(f"\nTollgate with faults: success {faults.success:.1%} (target 100%); "
          f"p99 {faults.p99 / healthy.p99:.2f}x the all-healthy run (target <= 2x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
