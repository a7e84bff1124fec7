"""The gateway's own request path, without Ray or a proxy: this tree against another commit, in process.

Ray Serve, HAProxy and the load generator make end-to-end figures on a shared 2-core machine move by more than
a small change costs (benchmarks/overhead.py). This isolates the code the gateway runs per request: the HTTP
API over ASGI, the pipeline (auth, admission without governance, routing, the provider proxy) and the fake
OpenAI upstream over real HTTP. Each run is a fresh process; runs alternate between the two trees.

Run from the repository root: ``.venv/bin/python benchmarks/request_path.py --compare-ref 9397ffe``.
Prints p50 and p99 (ms) of sequential non-streamed requests per tree, medians over the runs, and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


async def _measure(fake_url: str, requests: int) -> tuple[float, float]:
    import httpx

    from deployments.providers.proxy import ProviderProxy
    from serve_app.http.api import create_api
    from serve_app.pipeline.gateway import Gateway
    from tollgate_core.config import ProviderKind, parse_gateway_config

    class Backend:
        def __init__(self, proxy: ProviderProxy) -> None:
            self._proxy = proxy

        async def complete(self, model: str, index: int, request: dict) -> dict:  # type: ignore[type-arg]
            return await self._proxy.complete(model, index, request)

        async def complete_stream(self, model: str, index: int, request: dict):  # type: ignore[no-untyped-def]
            async for item in self._proxy.complete_stream(model, index, request):
                yield item

        async def check_health(self, timeout_s: float) -> None:
            return None

    target = {"provider": "openai", "model": "gpt-4o", "api_base": f"{fake_url}/v1", "api_key_env": "BENCH_KEY"}
    config = parse_gateway_config({"models": {"m": {"targets": [target]}}})
    gateway = Gateway(config, {ProviderKind.OPENAI: Backend(ProviderProxy(config, {ProviderKind.OPENAI}))}, "k")
    body = {"model": "m", "messages": [{"role": "system", "content": "You are helpful. " * 50},
                                       {"role": "user", "content": "Say hi"}]}
    headers = {"Authorization": "Bearer k"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_api(gateway)),
                                 base_url="http://gateway") as client:
        for _ in range(50):  # warm up
            await client.post("/v1/chat/completions", json=body, headers=headers)
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            response = await client.post("/v1/chat/completions", json=body, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99)]


def _child(tree: str, fake_url: str, requests: int) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": tree, "BENCH_KEY": "sk-bench"}
    done = subprocess.run([sys.executable, __file__, "--child", fake_url, "--requests", str(requests)],
                          cwd=tree, env=env, capture_output=True, text=True, check=True)
    p50, p99 = done.stdout.strip().splitlines()[-1].split()
    return float(p50), float(p99)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare-ref", required=False, help="a git commit to measure beside the working tree")
    parser.add_argument("--runs", type=int, default=4, help="runs per tree, alternating (default 4)")
    parser.add_argument("--requests", type=int, default=400, help="sequential requests per run (default 400)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("{:.3f} {:.3f}".format(*asyncio.run(_measure(args.child, args.requests))))
        return 0
    sys.path.insert(0, str(ROOT))
    from fake_providers.server import FakeProviderServer

    with tempfile.TemporaryDirectory(prefix="tollgate-ref-") as scratch, FakeProviderServer() as fake:
        trees = {"working tree": str(ROOT)}
        if args.compare_ref:
            worktree = str(Path(scratch) / "ref")
            subprocess.run(["git", "worktree", "add", "--detach", "-q", worktree, args.compare_ref], cwd=ROOT,
                           check=True)
            trees[f"@ {args.compare_ref}"] = worktree
        try:
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
            for run in range(args.runs):
                order = list(trees) if run % 2 == 0 else list(reversed(trees))
                for name in order:
                    results[name].append(_child(trees[name], fake.base_url, args.requests))
        finally:
            if args.compare_ref:
                subprocess.run(["git", "worktree", "remove", "--force", trees[f"@ {args.compare_ref}"]], cwd=ROOT,
                               check=False)
    print(f"{args.requests} sequential requests per run, {args.runs} runs per tree, medians (ms)")
    print(f"{'tree':<20} {'p50':>8} {'p99':>8}")
    medians = {}
    for name, runs in results.items():
        medians[name] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
        print(f"{name:<20} {medians[name][0]:>8.3f} {medians[name][1]:>8.3f}")
    if len(medians) == 2:
        (_, new), (_, old) = list(medians.items())
        print(f"working tree / ref: p50 {new[0] / old[0]:.2f}x, p99 {new[1] / old[1]:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
