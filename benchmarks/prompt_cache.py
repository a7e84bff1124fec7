"""Prompt caching per provider kind: cache hits and input cost with the gateway's ``auto`` markers against ``off``.

Ten requests share a 10,000-token system prompt and ask different questions, to each provider kind's fake
(Anthropic, Bedrock, OpenAI), once with ``x-tollgate-prompt-cache: auto`` (the default) and once with
``off``, each after the fake's cache is cleared. The gateway runs in process over the fakes, with each
provider's published cache prices (Anthropic and Bedrock: reads 0.1x, writes 1.25x the $3 input price;
OpenAI: reads 0.5x of $2.50, writes free). The figures are token counts and prices, not timings, so the
run is deterministic. Prints per provider: the share of the system prompt read from cache on requests
2..10 (with ``auto``, and with ``off``: OpenAI caches on its own), and the input cost of requests 2..10 and of
all ten with ``auto`` against every input token at the uncached price.

Run from the repository root: ``.venv/bin/python benchmarks/prompt_cache.py``. See benchmarks/README.md.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deployments.providers.proxy import ProviderProxy
from fake_providers.server import FakeProviderServer
from serve_app.governance.costing import actual_cost_nano
from serve_app.http.api import create_api
from serve_app.pipeline.gateway import Gateway
from tollgate_core.config import ProviderKind, parse_gateway_config

SYSTEM_TOKENS = 10_000
REQUESTS = 10
KEY = "bench-master"
MODELS = {
    "anthropic": {"provider": "anthropic", "model": "claude-sonnet-bench", "api_key_env": "BENCH_KEY",
                  "prices": {"input": 3.0, "output": 15.0}},
    "bedrock": {"provider": "bedrock", "model": "anthropic.claude-3-5-sonnet-20241022-v2:0", "region": "us-east-1",
                "prices": {"input": 3.0, "output": 15.0}},
    "openai": {"provider": "openai", "model": "gpt-4o", "api_key_env": "BENCH_KEY", "prompt_caching": True,
               "prices": {"input": 2.5, "output": 10.0}},
}


class _Backend:
    def __init__(self, proxy: ProviderProxy) -> None:
        self._proxy = proxy

    async def complete(self, model: str, index: int, request: dict[str, Any]) -> Any:
        return await self._proxy.complete(model, index, request)

    async def complete_stream(self, model: str, index: int, request: dict[str, Any]) -> Any:
        async for item in self._proxy.complete_stream(model, index, request):
            yield item

    async def embed(self, model: str, index: int, request: dict[str, Any]) -> Any:
        return await self._proxy.embed(model, index, request)

    async def check_health(self, timeout_s: float) -> None:
        return None


def _gateway(fake_url: str) -> Gateway:
    models = {}
    for name, target in MODELS.items():
        base = f"{fake_url}/v1" if name == "openai" else fake_url
        models[name] = {"targets": [{**target, "api_base": base}]}
    config = parse_gateway_config({"models": models})
    kinds = {ProviderKind.ANTHROPIC, ProviderKind.BEDROCK, ProviderKind.OPENAI}
    backend = _Backend(ProviderProxy(config, kinds))
    return Gateway(config, {kind: backend for kind in kinds}, KEY)


async def _run(api: httpx.AsyncClient, fake_url: str, gateway: Gateway, model: str, mode: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as admin:
        (await admin.post(f"{fake_url}/_fake/reset")).raise_for_status()
    system = " ".join(f"policy{i}" for i in range(SYSTEM_TOKENS))
    usages = []
    for i in range(REQUESTS):
        body = {"model": model, "max_tokens": 20,
                "messages": [{"role": "system", "content": system}, {"role": "user", "content": f"question {i}"}]}
        response = await api.post("/v1/chat/completions", json=body,
                                  headers={"Authorization": f"Bearer {KEY}", "x-tollgate-prompt-cache": mode})
        response.raise_for_status()
        usages.append(response.json()["usage"])
    return usages


def _input_cost(gateway: Gateway, model: str, usages: list[dict[str, Any]], *, as_reported: bool = True) -> float:
    """Input cost at the target's prices: as the usage reports reads and writes, or every token uncached."""
    prices = gateway.config.models[model].targets[0].prices
    total = 0
    for u in usages:
        details = (u.get("prompt_tokens_details") or {}) if as_reported else {}
        total += actual_cost_nano(prices, u["prompt_tokens"], 0, int(details.get("cached_tokens") or 0),
                                  int(details.get("cache_write_tokens") or 0))
    return total / 1e9


async def main() -> int:
    os.environ.setdefault("BENCH_KEY", "sk-bench")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "AKIDBENCH")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench-secret")
    rows = []
    with FakeProviderServer() as fake:
        gateway = _gateway(fake.base_url)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_api(gateway)),
                                     base_url="http://gateway", timeout=60) as api:
            for model in MODELS:
                cached = await _run(api, fake.base_url, gateway, model, "auto")
                off = await _run(api, fake.base_url, gateway, model, "off")
                read = [int((u.get("prompt_tokens_details") or {}).get("cached_tokens") or 0) for u in cached[1:]]
                read_off = [int((u.get("prompt_tokens_details") or {}).get("cached_tokens") or 0) for u in off[1:]]
                later_on = _input_cost(gateway, model, cached[1:])
                later_base = _input_cost(gateway, model, cached[1:], as_reported=False)
                all_on, all_base = _input_cost(gateway, model, cached), _input_cost(gateway, model, cached,
                                                                                  as_reported=False)
                rows.append((model, min(read) / SYSTEM_TOKENS, min(read_off) / SYSTEM_TOKENS, later_base, later_on,
                             1 - later_on / later_base, all_base, all_on, 1 - all_on / all_base))
    print(f"{REQUESTS} requests, {SYSTEM_TOKENS:,}-token system prompt, different questions; input cost in USD "
          "(uncached: every input token at the input price)")
    print(f"{'provider':<10} {'read 2..10':>10} {'with off':>9} {'2..10 uncached':>15} {'2..10 auto':>11} "
          f"{'saved':>7} {'all uncached':>13} {'all auto':>9} {'saved':>7}")
    for model, hit, hit_off, base2, on2, s2, base, on, s in rows:
        print(f"{model:<10} {hit:>10.1%} {hit_off:>9.1%} {base2:>15.4f} {on2:>11.4f} {s2:>7.1%} {base:>13.4f} "
              f"{on:>9.4f} {s:>7.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
