"""What the judges add to a request: ``Gateway.chat`` in process with the guardrail and the audit log on SQLite (as
every request has them), a zero-latency backend, a 200-word system prompt and a 1 KB answer, side by side in the
same run:

- judges off;
- ``prompt_leak`` sampled on every answer (``sample: 1.0``) and on 5 %, judged in another process, as the Judge
  deployment is in the graph (the ingress only queues the judgement and ships it);
- ``prompt_leak`` inline in process (``placement: ingress``), for comparison: that one is on the path by design.

Rounds interleave the variants so machine noise hits all of them alike; prints p50/p99 per request and each
variant's ratio to judges off. Usage::

    .venv/bin/python benchmarks/judge_path.py [--requests 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("BENCH_KEY", "unused")  # the backend is in process; the catalog only checks it is set

from deployments.guardrail.service import GuardrailService
from deployments.guardrail.step import LocalGuardrailLink
from deployments.judges.service import JudgeService
from serve_app.audit.writer import AuditWriter
from serve_app.http.protocol import ChatCompletionRequest
from serve_app.pipeline.gateway import Bookkeeping, Deployments, Gateway
from tollgate_core.config import ProviderKind, parse_gateway_config
from tollgate_core.store import open_database

SYSTEM = ("You are the support assistant of Northwind Outfitters. Answer questions about orders, returns, sizing "
          "and store hours. Returns are accepted within 45 days with a receipt; store credit after that. Escalate "
          "damaged-item claims over $250 to a human agent with code NW-ESC-19. Never quote internal stock levels. "
          "Our loyalty tier Summit gives free shipping over $35 and early access to sales. ") * 3
ANSWER = ("Thanks for reaching out! You can return the jacket within 45 days if you still have your receipt. "
          "Bring it to any store or start a return online from your order page, and we will email a prepaid "
          "label. Refunds go back to the original payment method within five business days of the return "
          "arriving at our warehouse. ") * 3
REQUEST = {"model": "bench", "max_tokens": 256,
           "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "How do I return a jacket?"}]}
REPLY = {"id": "chatcmpl-bench", "object": "chat.completion", "created": 0, "model": "bench",
         "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}],
         "usage": {"prompt_tokens": 300, "completion_tokens": 200, "total_tokens": 500}}
MODELS = {"bench": {"targets": [{"provider": "openai", "model": "bench", "api_key_env": "BENCH_KEY"}]}}


class InstantBackend:
    async def complete(self, model: str, index: int, request: dict[str, Any]) -> dict[str, Any]:
        return {"body": {**REPLY, "choices": [{**REPLY["choices"][0], "message": dict(REPLY["choices"][0]["message"])}]},
                "upstream_ms": 0.0, "headers": {}}

    async def check_health(self, timeout_s: float) -> None:
        return None


_SERVICE: JudgeService | None = None


def _judge_in_worker(calls: list[tuple[str, dict[str, Any]]], messages: list[dict[str, Any]], answer: str,
                     context: str | None) -> list[dict[str, Any]]:
    global _SERVICE
    _SERVICE = _SERVICE or JudgeService()
    return _SERVICE.run(calls, messages, answer, context)


class OtherProcessLink:
    """The Judge deployment's place in the graph: another process, reached by shipping the call to it."""

    def __init__(self, pool: ProcessPoolExecutor) -> None:
        self._pool = pool

    async def judge(self, calls: list[tuple[str, dict[str, Any]]], messages: list[dict[str, Any]], answer: str,
                    context: str | None) -> list[dict[str, Any]]:
        return await asyncio.get_running_loop().run_in_executor(self._pool, _judge_in_worker, calls, messages,
                                                                answer, context)


async def gateway(judges: dict[str, Any] | None, link: Any, state: Path) -> Gateway:
    config = parse_gateway_config({"models": MODELS, "judges": judges or {"enabled": False}})
    db = await open_database(f"sqlite:///{state}")
    guards = GuardrailService({}, {}, {})
    return Gateway(config, {ProviderKind.OPENAI: InstantBackend()}, "bench-master",
                   Deployments(judge=link, guardrail=LocalGuardrailLink(guards), guards=guards),
                   Bookkeeping(audit=AuditWriter(db, hmac_key=b"bench")))


async def timed(gw: Gateway, n: int) -> list[float]:
    request = ChatCompletionRequest.model_validate(REQUEST)
    out = []
    for _ in range(n):
        started = time.perf_counter()
        await gw.chat(request, started, time.time() + 30)
        out.append((time.perf_counter() - started) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per variant per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    pool = ProcessPoolExecutor(max_workers=1)
    link = OtherProcessLink(pool)
    await link.judge([("prompt_leak", {})], REQUEST["messages"], "warm-up", None)
    leak = {"mode": "sampled", "sample": 1.0}
    tmp = Path(tempfile.mkdtemp(prefix="judge-path-"))
    variants = {
        "judges off": await gateway(None, None, tmp / "off.db"),
        "prompt_leak sampled 100% (other process)": await gateway(
            {"enabled": True, "policy": {"prompt_leak": leak}}, link, tmp / "all.db"),
        "prompt_leak sampled 5% (other process)": await gateway(
            {"enabled": True, "policy": {"prompt_leak": {**leak, "sample": 0.05}}}, link, tmp / "five.db"),
        "prompt_leak inline (in process)": await gateway(
            {"enabled": True, "placement": "ingress", "policy": {"prompt_leak": {"mode": "inline"}}}, None,
            tmp / "inline.db"),
    }
    results: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, gw in variants.items():
            await timed(gw, 50)  # warm
            results[name] += await timed(gw, args.requests)
            await gw.drain()  # the sampled work of this variant does not run into the next one's timing
    pool.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)
    base = results["judges off"]
    print(f"{args.rounds} rounds x {args.requests} sequential requests per variant; 1 KB answer, 200-word system prompt")
    print(f"{'variant':<44} {'p50 ms':>8} {'p99 ms':>8} {'p50 ratio':>10} {'p99 ratio':>10}")
    for name, values in results.items():
        print(f"{name:<44} {pct(values, 50):>8.3f} {pct(values, 99):>8.3f} "
              f"{pct(values, 50) / pct(base, 50):>10.2f} {pct(values, 99) / pct(base, 99):>10.2f}")


if __name__ == "__main__":
    asyncio.run(main())
