"""Ordinary traffic passes the default injection policy: the tiering prompts and the benchmarks' requests.

The previous detector refused 139 of 300 tiering prompts and 100 of 300 benchmark requests;
these are the requests the project itself sends, so none of them may be refused, and at
most one in a thousand flagged.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deployments.guardrail.guard import Guard
from deployments.guardrail.policy import GuardrailPolicy

from .conftest import shared_jsonl

TIER_PROMPTS = Path(__file__).resolve().parents[3] / "training" / "tiering" / "data" / "tier_prompts.jsonl"
BENCHMARK_REQUESTS = ["Say hi", "Summarise our remote work policy."]  # benchmarks/overhead.py, failover.py, features.py


def _benchmark_questions() -> list[str]:
    # benchmarks/cache_latency.py sends the paraphrase pairs of this file.
    questions: list[str] = []
    for row in shared_jsonl("semantic_cache/qqp_pairs_every4th.jsonl"):
        if row["label"] == 1:
            questions += [row["a"], row["b"]]
        if len(questions) >= 2000:
            break
    return questions


def _tier_prompts() -> list[str]:
    with open(TIER_PROMPTS, encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh if line.strip()]


@pytest.mark.parametrize("source", ["tiering", "benchmarks"])
def test_the_projects_own_traffic_passes_the_default_policy(source: str) -> None:
    texts = _tier_prompts() if source == "tiering" else _benchmark_questions() + BENCHMARK_REQUESTS
    assert len(texts) > 1000
    default = Guard()
    blocking = Guard(GuardrailPolicy.model_validate({"injection": {"action": "block"}}))
    flagged = [t for t in texts if default.check_request([t], "external", [(0, "user")]).injection.flagged]
    assert len(flagged) <= len(texts) // 1000, [t[:80] for t in flagged]
    # Even a policy that blocks refuses nothing more than the default flags.
    refused = [t for t in texts if blocking.check_request([t], "external", [(0, "user")]).decision != "allow"]
    assert refused == flagged
