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

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from overhead import Target
from variants import compare, parse_args

SYSTEM = ("You are the support assistant of Northwind Outfitters. Answer questions about orders, returns, sizing "
          "and store hours. Returns are accepted within 45 days with a receipt. Never quote internal stock levels.")
VARIANTS: dict[str, dict[str, Any]] = {
    "judges off": {"judges": {"enabled": False}},
    "prompt_leak sampled 5%": {"judges": {"enabled": True,
                                          "policy": {"prompt_leak": {"mode": "sampled", "sample": 0.05}}}},
    "prompt_leak sampled 100%": {"judges": {"enabled": True,
                                            "policy": {"prompt_leak": {"mode": "sampled", "sample": 1.0}}}},
    "prompt_leak inline flag (in the Ingress)": {"judges": {
        "enabled": True, "placement": "ingress", "policy": {"prompt_leak": {"mode": "inline", "action": "flag"}}}},
}


@dataclass
class PromptedTarget(Target):
    def body(self, stream: bool = False) -> bytes:
        req = {"model": self.model, "max_tokens": 16, "messages": [{"role": "system", "content": SYSTEM},
                                                                   {"role": "user", "content": "Say hi"}]}
        return json.dumps({**req, "stream": True} if stream else req).encode()


if __name__ == "__main__":
    compare(VARIANTS, parse_args(__doc__ or ""), "a system prompt in every request",
            make_target=lambda name, server: PromptedTarget(name, server.port, server.model, server.key))
