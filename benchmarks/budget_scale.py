"""Budgets at scale: how many reservations per second one hot team's budget rows take on PostgreSQL, from 1, 2 and
4 processes standing in for Ingress replicas, and whether any budget is overspent.

Each process opens its own connection pool and runs the governance ledger as an Ingress replica does: reserve
the worst case on the key's, team's and org's daily USD budgets and the key's requests-per-minute limit in one
transaction, then settle with the actual cost. Two shapes of traffic: one hot key, and 100 keys of the same team
(the team and org rows are shared either way). Printed per row: reservations/s, p50 and p99 of the reserve step,
the share of samples in which some backend waited on a lock (pg_stat_activity), and the overspend check.

The overspend phase gives the team a budget that runs out mid-run and checks ``used + reserved ≤ limit`` on every
counter afterwards.

Usage: ``.venv/bin/python benchmarks/budget_scale.py [--seconds 15] [--concurrency 16]``
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg

from serve_app.governance.ledger import Charge, Check, Kind, Ledger
from tests.postgres_server import PostgresServer, new_schema
from tollgate_core.entities import to_nano
from tollgate_core.errors import BudgetExceededError, RateLimitError
from tollgate_core.store import open_database
from tollgate_core.windows import Window

WORST = to_nano(0.002)   # a request's worst case
ACTUAL = to_nano(0.001)  # what it costs


def _checks(key: str, team_limit: int) -> list[Check]:
    return [
        Check(f"key:{key}", f"key '{key}'", Kind.USD, Window.DAILY, to_nano(1e6), WORST),
        Check("team:hot", "team 'hot'", Kind.USD, Window.DAILY, team_limit, WORST),
        Check("org:acme", "org 'acme'", Kind.USD, Window.DAILY, to_nano(1e6), WORST),
        Check(f"key:{key}", f"key '{key}'", Kind.REQUESTS, Window.MINUTE, 10**9, 1),
    ]


async def _replica(url: str, keys: int, seconds: float, concurrency: int, team_limit: int,
                   out: mp.Queue) -> None:  # type: ignore[type-arg]
    db = await open_database(url, migrate=False)
    ledger = Ledger(db)
    latencies: list[float] = []
    refused = 0
    deadline = time.monotonic() + seconds

    async def loop(n: int) -> None:
        nonlocal refused
        i = 0
        while time.monotonic() < deadline:
            key = f"k{(n * 7919 + i) % keys}"
            i += 1
            request_id = f"r-{uuid.uuid4().hex}"
            started = time.perf_counter()
            try:
                await ledger.reserve(request_id, _checks(key, team_limit), ttl_s=60,
                                     context={"org_id": "acme", "team_id": "hot", "key_id": key, "model": "m"})
            except (BudgetExceededError, RateLimitError):
                refused += 1
                continue
            latencies.append((time.perf_counter() - started) * 1000)
            await ledger.settle(request_id, Charge(ACTUAL, 10, 10), {"org_id": "acme", "team_id": "hot",
                                                                     "key_id": key, "model": "m"})

    await asyncio.gather(*(loop(n) for n in range(concurrency)))
    await db.close()
    out.put((latencies, refused))


def _run_replica(*args: object) -> None:
    asyncio.run(_replica(*args))  # type: ignore[arg-type]


async def _lock_waits(server_url: str, seconds: float) -> tuple[float, int]:
    """The share of 50 ms samples in which some backend was waiting on a lock, and the deadlocks detected."""
    connection = await asyncpg.connect(server_url)
    waiting = samples = 0
    deadlocks = "SELECT coalesce(sum(deadlocks), 0) FROM pg_stat_database"
    before = await connection.fetchval(deadlocks)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            count = await connection.fetchval("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            waiting += count > 0
            samples += 1
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.5)  # the statistics collector reports a little later
        after = await connection.fetchval(deadlocks)
    finally:
        await connection.close()
    return waiting / max(samples, 1), int(after - before)


def _row(server_url: str, replicas: int, keys: int, seconds: float, concurrency: int,
         team_limit: int) -> tuple[float, float, float, float, int, str, int]:
    url = new_schema(server_url)

    async def migrate() -> None:
        await (await open_database(url)).close()

    asyncio.run(migrate())
    out: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    processes = [mp.Process(target=_run_replica, args=(url, keys, seconds, concurrency, team_limit, out))
                 for _ in range(replicas)]
    for p in processes:
        p.start()
    waits, deadlocks = asyncio.run(_lock_waits(server_url, seconds))
    results = [out.get(timeout=seconds + 120) for _ in processes]
    for p in processes:
        p.join()
    latencies = sorted(x for r in results for x in r[0])
    refused = sum(r[1] for r in results)

    async def overspend() -> str:
        db = await open_database(url, migrate=False)
        try:
            rows = await db.fetchall("SELECT scope, metric, used, reserved FROM counters WHERE metric LIKE 'usd:%'")
        finally:
            await db.close()
        team = next((r for r in rows if r["scope"] == "team:hot"), None)
        if team is None:
            return "no counter"
        total = int(team["used"]) + int(team["reserved"])
        return "none" if total <= team_limit else f"OVER by {total - team_limit} nano-USD"

    verdict = asyncio.run(overspend())
    p99 = latencies[int(0.99 * len(latencies)) - 1] if latencies else float("nan")
    return (len(latencies) / seconds, statistics.median(latencies) if latencies else float("nan"), p99, waits,
            refused, verdict, deadlocks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight per process")
    parser.add_argument("--replicas", default="1,2,4", help="process counts to run, comma-separated")
    parser.add_argument("--keys", default="1,100", help="key counts to run, comma-separated")
    args = parser.parse_args()
    server = PostgresServer().start()
    try:
        url = server.url()
        print(f"PostgreSQL (Debian's), {args.concurrency} requests in flight per process, {args.seconds:.0f} s a row\n")
        print("| traffic | processes | reservations/s | reserve p50 ms | reserve p99 ms | lock-wait samples | "
              "deadlocks | refused | overspend |\n|---|---|---|---|---|---|---|---|---|")
        base = None
        for keys in [int(k) for k in args.keys.split(",")]:
            for replicas in [int(r) for r in args.replicas.split(",")]:
                rate, p50, p99, waits, refused, verdict, deadlocks = _row(url, replicas, keys, args.seconds,
                                                                          args.concurrency, to_nano(1e6))
                base = rate if replicas == 1 or base is None else base
                print(f"| {'one hot key' if keys == 1 else '100 keys, one team'} | {replicas} | {rate:,.0f} "
                      f"({rate / base:.2f}×) | {p50:.1f} | {p99:.1f} | {waits:.0%} | {deadlocks} | {refused} | "
                      f"{verdict} |", flush=True)
        # A team budget that runs out after about 2,000 requests, hit from 4 processes at once.
        limit = 2000 * ACTUAL
        rate, p50, p99, waits, refused, verdict, deadlocks = _row(url, 4, 100, args.seconds, args.concurrency, limit)
        print(f"| team budget runs out (100 keys) | 4 | {rate:,.0f} | {p50:.1f} | {p99:.1f} | {waits:.0%} | "
              f"{deadlocks} | {refused} | {verdict} |")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
