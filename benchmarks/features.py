"""What the guardrail, the audit log and governance add to a request: the gateway in process, a zero-latency
backend.

Runs the same sequential and concurrent requests through ``Gateway.chat`` side by side: nothing (the
master key, no store, no guardrail); the guardrail alone (in process: the Ray hop to the Guardrail
deployment is not included); the audit log alone on SQLite with two group-commit intervals; a virtual key with a daily budget, rpm and tpm limits (four counters
reserved and settled per request) on SQLite and on a throw-away PostgreSQL. Prints p50/p95 per request
and what each adds to the bare p50. Usage::

    .venv/bin/python benchmarks/features.py [--requests 400] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("BENCH_KEY", "unused")  # the backend is in process; the catalog only checks it is set

from deployments.guardrail.service import GuardrailService
from deployments.guardrail.step import LocalGuardrailLink
from serve_app.audit.writer import AuditWriter
from serve_app.governance.enforcer import Governance
from serve_app.http.protocol import ChatCompletionRequest
from serve_app.pipeline.gateway import Bookkeeping, Deployments, Gateway
from tests.postgres_server import PostgresServer
from tollgate_core.config import ProviderKind, parse_gateway_config
from tollgate_core.entities import MASTER, Budget, Budgets, KeyCreate, OrgCreate, RateLimits, TeamCreate
from tollgate_core.store import open_database

CONFIG = parse_gateway_config({"models": {"bench": {"targets": [{
    "provider": "openai", "model": "bench", "api_key_env": "BENCH_KEY", "prices": {"input": 2.5, "output": 10}}]}}})
REQUEST = ChatCompletionRequest.model_validate(
    {"model": "bench", "messages": [{"role": "user", "content": "Summarise our remote work policy."}], "max_tokens": 64})
REPLY = {"id": "chatcmpl-bench", "object": "chat.completion", "created": 0, "model": "bench",
         "choices": [{"index": 0, "message": {"role": "assistant", "content": "It is allowed."},
                      "finish_reason": "stop"}],
         "usage": {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16}}


class InstantBackend:
    async def complete(self, model: str, index: int, request: dict[str, Any]) -> dict[str, Any]:
        return {"body": REPLY, "upstream_ms": 0.0, "headers": {}}

    async def complete_stream(self, model: str, index: int, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        raise NotImplementedError
        yield {}

    async def check_health(self, timeout_s: float) -> None:
        return None


async def _measure(gateway: Gateway, principal: Any, requests: int, concurrency: int) -> tuple[list[float], float]:
    async def one() -> float:
        started = time.perf_counter()
        await gateway.chat(REQUEST.model_copy(), started, time.time() + 60, principal=principal)
        return (time.perf_counter() - started) * 1000

    for _ in range(20):
        await one()
    latencies = [await one() for _ in range(requests)]
    started = time.perf_counter()
    remaining = requests

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await one()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, requests / (time.perf_counter() - started)


async def _governed(url: str) -> tuple[Gateway, Any, Any]:
    db = await open_database(url)
    governance = Governance(db, CONFIG)
    await governance.directory.create_org(OrgCreate(name="bench"))
    await governance.directory.create_team(TeamCreate(org="bench", name="t", limits=RateLimits(rpm=10**6)))
    created = await governance.directory.create_key(KeyCreate(
        team="bench/t", name="k", budgets=Budgets(daily=Budget(hard=10**6)), limits=RateLimits(rpm=10**6, tpm=10**9)))
    principal = await governance.authenticate(created["key"])
    return Gateway(CONFIG, {ProviderKind.OPENAI: InstantBackend()}, "m", books=Bookkeeping(governance=governance)), principal, db


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


async def main(requests: int, concurrency: int) -> None:
    rows: list[tuple[str, list[float], float]] = []
    baseline = Gateway(CONFIG, {ProviderKind.OPENAI: InstantBackend()}, "m")
    rows.append(("bare", *await _measure(baseline, MASTER, requests, concurrency)))
    service = GuardrailService({}, {}, {})
    guarded = Gateway(CONFIG, {ProviderKind.OPENAI: InstantBackend()}, "m",
                      Deployments(guardrail=LocalGuardrailLink(service), guards=service))
    rows.append(("guardrail (in process)", *await _measure(guarded, MASTER, requests, concurrency)))
    with tempfile.TemporaryDirectory() as tmp:
        for flush_ms in (5.0, 0.0):
            db = await open_database(f"sqlite:///{tmp}/audit-{flush_ms}.db")
            writer = AuditWriter(db, hmac_key=b"bench", flush_interval_s=flush_ms / 1000)
            audited = Gateway(CONFIG, {ProviderKind.OPENAI: InstantBackend()}, "m", books=Bookkeeping(audit=writer))
            rows.append((f"audit, SQLite, flush {flush_ms:g} ms", *await _measure(audited, MASTER, requests, concurrency)))
            await writer.close()
            await db.close()
    server = PostgresServer().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name, url in (("virtual key, SQLite", f"sqlite:///{tmp}/state.db"),
                              ("virtual key, PostgreSQL", server.create_database("bench"))):
                gateway, principal, db = await _governed(url)
                rows.append((name, *await _measure(gateway, principal, requests, concurrency)))
                await db.close()
    finally:
        server.stop()
    base_p50 = _pct(rows[0][1], 50)
    print(f"\n{requests} sequential requests, then {requests} at concurrency {concurrency}; zero-latency backend\n")
    print(f"| {'variant':<24} | p50 ms | p95 ms | p50 added ms | RPS (c={concurrency}) |")
    print(f"|{'-' * 26}|-------:|-------:|-------------:|--------:|")
    for name, latencies, rps in rows:
        p50 = _pct(latencies, 50)
        print(f"| {name:<24} | {p50:6.2f} | {_pct(latencies, 95):6.2f} | {p50 - base_p50:12.2f} | {rps:7.0f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency))
