"""Tollgate under several configs, measured from outside side by side: benchmarks/overhead.py's harness (Serve with
HAProxy, a zero-latency fake upstream, wrk) with only some ``args`` changed per variant, rounds in alternating
order, and one table of medians with each variant's ratio to the first. Used by judge_overhead.py and
placement.py."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from overhead import Processes, Result, Target, measure, medians, start_fake, tollgate

__all__ = ["compare", "parse_args"]


def parse_args(doc: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        parser.error("needs wrk, the HTTP load generator: apt-get install wrk")
    return args


def compare(variants: dict[str, dict[str, Any]], args: argparse.Namespace, what: str = "", local: bool = False,
            make_target: Callable[[str, Target], Target] | None = None) -> None:
    """Measure each variant (``args`` overrides of the generated config, or with ``local`` of configs/local.yaml's)
    ``args.rounds`` times and print the table. ``make_target`` builds what the client sends from the variant's name
    and the started server (default: a fixed small question with the server's model and key)."""
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="tollgate-variants-") as tmp:
        workdir, procs = Path(tmp), Processes(Path(tmp))
        try:
            fake_port = start_fake(procs)
            for round_no in range(args.rounds):
                names = list(variants) if round_no % 2 == 0 else list(reversed(variants))
                for name in names:
                    print(f"round {round_no + 1}: {name}", flush=True)
                    with tollgate(procs, workdir, fake_port, True, args_override=variants[name], local=local) as t:
                        client = make_target(name, t) if make_target else Target(name, t.port, t.model, t.key)
                        results.append(measure(client, args, procs, workdir))
        finally:
            procs.stop_all()
    rows = {r.name: r for r in medians(results)}
    base = rows[next(iter(variants))]
    print(f"\nmedian of {args.rounds} rounds; {args.requests} sequential requests, wrk -t1 -c{args.concurrency} "
          f"{args.duration:g} s; HAProxy{'; ' + what if what else ''}\n")
    print("| variant | p50 ms | p99 ms | stream TTFB p50 ms | RPS | errors | p50 ratio | p99 ratio | RPS ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in variants:
        r = rows[name]
        print(f"| {name} | {r.p50:.2f} | {r.p99:.2f} | {r.ttfb_p50:.2f} | {r.rps:.0f} | {r.errors} | "
              f"{r.p50 / base.p50:.2f}× | {r.p99 / base.p99:.2f}× | {r.rps / base.rps:.2f}× |")
    print("\np50 of each round: " + "; ".join(
        f"{n}: {', '.join(f'{r.p50:.2f}' for r in results if r.name == n)}" for n in variants))
