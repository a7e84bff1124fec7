"""Hops out of the hot path, measured from outside: the guardrail's scan and the providers' calls in their own
deployments (a Ray hop each way) or in the Ingress process (``guardrails.placement: ingress``,
``routing.proxy_placement: ingress``), side by side in the same run. benchmarks/overhead.py's harness: Serve with
HAProxy, a zero-latency fake upstream, wrk. Usage::

    .venv/bin/python benchmarks/placement.py [--rounds 3] [--requests 300] [--duration 10]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from variants import compare, parse_args


# Each placement spelled out: the generated config defaults to configs/local.yaml's (both in the Ingress).
def _placed(guardrail: str, providers: str) -> dict[str, Any]:
    return {"guardrails": {"placement": guardrail}, "routing": {"proxy_placement": providers}}


VARIANTS: dict[str, dict[str, Any]] = {
    "Guardrail and OpenAIProxy deployments": _placed("deployment", "deployment"),
    "guardrail in the Ingress": _placed("ingress", "deployment"),
    "guardrail and provider calls in the Ingress": _placed("ingress", "ingress"),
}

if __name__ == "__main__":
    compare(VARIANTS, parse_args(__doc__ or ""))
