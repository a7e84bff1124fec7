"""What an Ingress setting buys on the path users run: configs/local.yaml with every feature on (a virtual key with
budgets and limits, the guardrail, the audit log, the ledger, inline prompt_leak), measured from outside side by
side. Requests are unique and at temperature 1, so the response cache is not consulted and the Ingress is what is
measured (benchmarks/overhead.py's cache-miss row adds the embedding). benchmarks/overhead.py's harness: Serve with
HAProxy, a zero-latency fake upstream, wrk; rounds in alternating order; medians.

    .venv/bin/python benchmarks/ingress_tuning.py [--rounds 3]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from overhead import Target, virtual_key
from variants import compare, parse_args

# configs/local.yaml runs two Ingress replicas with gc_freeze on; each other variant undoes one of the two.
VARIANTS: dict[str, dict[str, Any]] = {
    "configs/local.yaml": {},
    "gc_freeze: false": {"server": {"gc_freeze": False}},
    "Ingress: 1 replica": {"deployments": {"Ingress": {"num_replicas": 1}}},
}


def client(name: str, server: Target) -> Target:
    return Target(name, server.port, "bench", virtual_key(server.port), "unique", temperature=1.0)


if __name__ == "__main__":
    compare(VARIANTS, parse_args(__doc__ or ""), local=True, make_target=client,
            what="configs/local.yaml, every feature, unique requests at temperature 1")
