"""What the judges add to a request measured from outside: the gateway as ``make run`` starts it (Serve with
HAProxy, a zero-latency fake upstream), a request with a system prompt, side by side in the same run:

- judges off;
- ``prompt_leak`` sampled on 5 % of answers and on every answer (the Judge deployment judges them after the
  response);
- ``prompt_leak`` inline with action flag (``placement: ingress``, as ``configs/local.yaml``), for comparison.

p50/p99 of sequential requests, streamed time to the first byte and requests/s at 32 connections (wrk), each
variant's ratio to judges off, the median of ``--rounds`` rounds. Uses benchmarks/overhead.py's harness; every
process it starts is stopped at the end. Usage::

    .venv/bin/python benchmarks/judge_overhead.py [--rounds 3] [--requests 300] [--duration 10]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from overhead import Processes, Result, Target, measure, medians, start_fake, tollgate  # noqa: E402

SYSTEM = ("You are the support assistant of Northwind Outfitters. Answer questions about orders, returns, sizing "
          "and store hours. Returns are accepted within 45 days with a receipt. Never quote internal stock levels.")
LEAK = {"prompt_leak": {"mode": "sampled", "sample": 1.0}}
VARIANTS: dict[str, dict[str, Any]] = {
    "judges off": {"enabled": False},
    "prompt_leak sampled 5%": {"enabled": True, "policy": {"prompt_leak": {"mode": "sampled", "sample": 0.05}}},
    "prompt_leak sampled 100%": {"enabled": True, "policy": LEAK},
    "prompt_leak inline flag (in the Ingress)": {"enabled": True, "placement": "ingress",
                                                 "policy": {"prompt_leak": {"mode": "inline", "action": "flag"}}},
}


@dataclass
class PromptedTarget(Target):
    def body(self, stream: bool = False) -> bytes:
        req = {"model": self.model, "max_tokens": 16, "messages": [{"role": "system", "content": SYSTEM},
                                                                   {"role": "user", "content": "Say hi"}]}
        return json.dumps({**req, "stream": True} if stream else req).encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        parser.error("needs wrk, the HTTP load generator: apt-get install wrk")
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="tollgate-judges-") as tmp:
        workdir, procs = Path(tmp), Processes(Path(tmp))
        try:
            fake_port = start_fake(procs)
            for round_no in range(args.rounds):
                names = list(VARIANTS) if round_no % 2 == 0 else list(reversed(VARIANTS))
                for name in names:
                    print(f"round {round_no + 1}: {name}", flush=True)
                    with tollgate(procs, workdir, fake_port, True, args_override={"judges": VARIANTS[name]}) as t:
                        target = PromptedTarget(name, t.port, t.model, t.key)
                        results.append(measure(target, args, procs, workdir))
        finally:
            procs.stop_all()
    rows = {r.name: r for r in medians(results)}
    base = rows["judges off"]
    print(f"\nmedian of {args.rounds} rounds; {args.requests} sequential requests, wrk -t1 -c{args.concurrency} "
          f"{args.duration:g} s; HAProxy; a system prompt in every request\n")
    print("| variant | p50 ms | p99 ms | stream TTFB p50 ms | RPS | errors | p50 ÷ off | p99 ÷ off | RPS ÷ off |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in VARIANTS:
        r = rows[name]
        print(f"| {name} | {r.p50:.2f} | {r.p99:.2f} | {r.ttfb_p50:.2f} | {r.rps:.0f} | {r.errors} | "
              f"{r.p50 / base.p50:.2f}× | {r.p99 / base.p99:.2f}× | {r.rps / base.rps:.2f}× |")
    spread = {name: [r.p50 for r in results if r.name == name] for name in VARIANTS}
    print("\np50 of each round: " + "; ".join(f"{n}: {', '.join(f'{v:.2f}' for v in vs)}"
                                              for n, vs in spread.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
