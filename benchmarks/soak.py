"""Soak: the gateway under steady load for a long time, every feature on, then an overload burst.

The whole graph on Ray (``serve run`` with HAProxy, as ``make run``) against the fake providers: guardrail
(PII redaction, injection scoring), exact and semantic cache, tiering (``model: "auto"``), a virtual key with a
daily budget and rate limits on SQLite, the audit log. Clients: ``--concurrency`` loops sending a mix of plain,
streamed, repeated (cache hits), PII-carrying and ``auto`` requests. Every minute it samples the resident memory
of every process of the gateway (Ray's workers and HAProxy included), their open file descriptors and TCP
connections, and the minute's requests, failures and latency; the table is printed at the end with the growth
from minute ``--warmup`` to the last. Then ``--burst`` clients at once against an upstream that holds each answer
for 2 s, with ``server.max_in_flight`` at ``--max-in-flight``: what is refused must be refused fast, with
Retry-After. Usage (from the repository root)::

    .venv/bin/python benchmarks/soak.py [--minutes 30] [--concurrency 32] [--warmup 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.overhead import MASTER_KEY, Processes, _session, fake_target, start_fake, tollgate

PROMPTS = [
    "Summarise our travel expense policy in two sentences.",
    "Write a haiku about continuous integration.",
    "Extract the date from: the invoice was issued on 3 March 2026.",
    "My card is 4111 1111 1111 1111 and my email is dana@example.com; why was I charged twice?",
    "Explain step by step how a hash chain makes an audit log tamper-evident, with an example.",
]


@dataclass
class Minute:
    requests: int = 0
    failures: int = 0
    latencies: list[float] = field(default_factory=list)


def models(fake_port: int) -> dict[str, Any]:
    return {"gpt-4o": {"targets": [{**fake_target(fake_port, "gpt-4o-fake"), "prices": {"input": 2.5, "output": 10}}]},
            "small": {"targets": [{**fake_target(fake_port, "small-fake"), "prices": {"input": 0.15, "output": 0.6}}]},
            "held": {"targets": [{**fake_target(fake_port, "held-fake"), "timeout_s": 30}]}}


def gateway_args(fake_port: int, max_in_flight: int) -> dict[str, Any]:
    """Every feature on (the defaults, and tiering with a policy); the local tier is left out: on 2 cores the
    CPU model, not the gateway, would be measured."""
    return {"server": {"max_in_flight": max_in_flight},
            "models": models(fake_port),
            "tiering": {"placement": "ingress",
                        "policies": {"auto": {"tier1": "small", "tier2": "gpt-4o", "threshold": 0.5}}},
            "cache": {"enabled": True, "semantic": True, "scope": "team"},
            "audit": {"hmac_key_env": "TOLLGATE_AUDIT_HMAC_KEY", "flush_interval_ms": 0}}


def gateway_processes(port: int) -> list[psutil.Process]:
    """Every process of the gateway: the session of the process that serves ``port``'s parent ``serve run``."""
    listeners = {c.pid for c in psutil.net_connections("tcp")
                 if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN and c.pid}
    return [psutil.Process(pid) for sid in {os.getsid(pid) for pid in listeners} for pid in _session(sid)]


def sample(processes: list[psutil.Process]) -> tuple[float, int, int]:
    """Resident memory (MiB), open file descriptors and TCP connections, summed over ``processes``."""
    rss = fds = conns = 0
    for proc in processes:
        try:
            rss += proc.memory_info().rss
            fds += proc.num_fds()
            conns += len(proc.net_connections("tcp"))
        except psutil.Error:
            continue
    return rss / 2**20, fds, conns


def body(i: int) -> dict[str, Any]:
    kind = i % 5
    prompt = PROMPTS[i % len(PROMPTS)] if kind != 1 else f"{PROMPTS[i % len(PROMPTS)]} (request {i})"
    return {"model": "auto" if kind == 4 else "gpt-4o", "max_tokens": 32, "stream": kind == 2,
            "messages": [{"role": "system", "content": "You are a concise assistant."},
                         {"role": "user", "content": prompt}]}


async def client(url: str, key: str, stop: float, minutes: list[Minute], started: float, offset: int) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60, headers={"authorization": f"Bearer {key}"}) as http:
        i = offset
        while time.monotonic() < stop:
            i += 97
            minute = minutes[min(int((time.monotonic() - started) // 60), len(minutes) - 1)]
            t0 = time.perf_counter()
            try:
                response = await http.post("/v1/chat/completions", json=body(i))
                ok = response.status_code == 200 and (b"[DONE]" in response.content or b'"choices"' in response.content)
            except httpx.HTTPError:
                ok = False
            minute.requests += 1
            minute.failures += not ok
            minute.latencies.append((time.perf_counter() - t0) * 1000)


async def soak(url: str, key: str, port: int, args: argparse.Namespace) -> list[tuple[int, Minute, float, int, int]]:
    minutes = [Minute() for _ in range(args.minutes)]
    started = time.monotonic()
    stop = started + args.minutes * 60
    load = [asyncio.create_task(client(url, key, stop, minutes, started, n)) for n in range(args.concurrency)]
    rows = []
    for m in range(args.minutes):
        await asyncio.sleep(max(0.0, started + (m + 1) * 60 - time.monotonic()))
        rss, fds, conns = sample(gateway_processes(port))
        rows.append((m + 1, minutes[m], rss, fds, conns))
        print(f"minute {m + 1}: {minutes[m].requests} requests, {minutes[m].failures} failed, rss {rss:.0f} MiB, "
              f"fds {fds}, conns {conns}", flush=True)
    await asyncio.gather(*load)
    return rows


async def burst(url: str, key: str, fake_url: str, clients: int) -> tuple[list[tuple[int, float, str | None]], float]:
    """``clients`` requests at once to a model whose upstream holds each answer 2 s."""
    async with httpx.AsyncClient() as admin:
        await admin.post(f"{fake_url}/_fake/faults", json=[{"match": {"model": "held-fake"}, "fault": "slow_first_token",
                                                             "delay": 2.0}])
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits,
                                 headers={"authorization": f"Bearer {key}"}) as http:

        async def one(i: int) -> tuple[int, float, str | None]:
            t0 = time.perf_counter()
            try:
                r = await http.post("/v1/chat/completions", json={
                    "model": "held", "max_tokens": 8, "messages": [{"role": "user", "content": f"burst {i}"}]})
                return r.status_code, (time.perf_counter() - t0) * 1000, r.headers.get("retry-after")
            except httpx.HTTPError as exc:
                return -1, (time.perf_counter() - t0) * 1000, type(exc).__name__

        t0 = time.perf_counter()
        results = await asyncio.gather(*(one(i) for i in range(clients)))
        return list(results), time.perf_counter() - t0


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) >= 2 else (values[0] if values else float("nan"))


def report(rows: list[tuple[int, Minute, float, int, int]], warmup: int) -> list[str]:
    lines = ["| minute | requests | failed | p50 ms | p99 ms | RSS MiB | fds | TCP conns |", "|---|---|---|---|---|---|---|---|"]
    for m, minute, rss, fds, conns in rows:
        lines.append(f"| {m} | {minute.requests} | {minute.failures} | {pct(minute.latencies, 50):.0f} | "
                     f"{pct(minute.latencies, 99):.0f} | {rss:.0f} | {fds} | {conns} |")
    base = next((r for r in rows if r[0] == warmup), rows[0])
    last = rows[-1]
    growth = {name: (last[i] - base[i]) / base[i] * 100 if base[i] else 0.0
              for name, i in (("RSS", 2), ("fds", 3), ("TCP conns", 4))}
    failed = sum(r[1].failures for r in rows)
    total = sum(r[1].requests for r in rows)
    lines.append("")
    changes = ", ".join(f"{k} {v:+.1f}%" for k, v in growth.items())
    lines.append(f"From minute {warmup} to minute {last[0]}: {changes}; {total} requests, {failed} failed.")
    verdict = all(v <= 5.0 for v in growth.values()) and failed == 0
    lines.append(f"Verdict: {'PASS' if verdict else 'FAIL'} (growth <= 5% and no failed request)")
    return lines


def burst_report(results: list[tuple[int, float, str | None]], wall_s: float, limit: int) -> list[str]:
    by_status: dict[int, list[float]] = {}
    for status, ms, _ in results:
        by_status.setdefault(status, []).append(ms)
    title = (f"Overload: {len(results)} requests at once, upstream holding each answer 2 s, max_in_flight {limit}; "
             f"all done in {wall_s:.1f} s.")
    lines = [title, "", "| status | count | p50 ms | p99 ms |", "|---|---|---|---|"]
    for status in sorted(by_status):
        values = by_status[status]
        lines.append(f"| {status} | {len(values)} | {pct(values, 50):.0f} | {pct(values, 99):.0f} |")
    refused = [r for r in results if r[0] in (429, 503)]
    lines.append("")
    lines.append(f"Refused with Retry-After: {sum(1 for r in refused if r[2])} of {len(refused)}; "
                 f"hung or failed otherwise: {sum(1 for r in results if r[0] not in (200, 429, 503))}.")
    return lines


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="tollgate-soak-") as tmp:
        workdir = Path(tmp)
        procs = Processes(workdir)
        try:
            fake_port = start_fake(procs)
            fake_url = f"http://127.0.0.1:{fake_port}"
            with tollgate(procs, workdir, fake_port, haproxy=True, models=None, model="gpt-4o",
                          args_override=gateway_args(fake_port, args.max_in_flight)) as target:
                url = f"http://127.0.0.1:{target.port}"
                async with httpx.AsyncClient(base_url=url, headers={"authorization": f"Bearer {MASTER_KEY}"}) as admin:
                    await admin.post("/admin/orgs", json={"name": "soak"})
                    await admin.post("/admin/teams", json={"org": "soak", "name": "load"})
                    created = await admin.post("/admin/keys", json={
                        "team": "soak/load", "name": "soak", "budgets": {"daily": {"hard": 10000}},
                        "limits": {"rpm": 1000000, "tpm": 1000000000}})
                    created.raise_for_status()
                    key = created.json()["key"]
                rows = await soak(url, key, target.port, args)
                results, wall = await burst(url, key, fake_url, args.burst)
                lines = report(rows, args.warmup) + [""] + burst_report(results, wall, args.max_in_flight)
                print("\n".join(lines))
        finally:
            procs.stop_all()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=5, help="the minute growth is measured from")
    parser.add_argument("--burst", type=int, default=400, help="clients at once in the overload phase")
    parser.add_argument("--max-in-flight", type=int, default=64, help="server.max_in_flight during the run")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
