"""Where the guardrail scans a request, measured from outside: the Guardrail deployment (a Ray hop each way) or the
Ingress process (``guardrails.placement: ingress``), side by side in the same run, with the guardrail disabled as
the floor. benchmarks/overhead.py's harness: Serve with HAProxy, a zero-latency fake upstream, wrk. Usage::

    .venv/bin/python benchmarks/guardrail_placement.py [--rounds 3] [--requests 300] [--duration 10]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from variants import compare, parse_args  # noqa: E402

VARIANTS: dict[str, dict[str, Any]] = {
    "Guardrail deployment": {"guardrails": {"placement": "deployment"}},
    "guardrail in the Ingress": {"guardrails": {"placement": "ingress"}},
    "guardrail off": {"guardrails": {"enabled": False}},
}

if __name__ == "__main__":
    compare(VARIANTS, parse_args(__doc__ or ""))
