"""The tier classifier on prompts written for this check and never used to train or tune it.

``benchmarks/data/tier_probes.jsonl`` holds 40 prompts in the brief's categories (sentiment, triage, routing, facts,
rewrites, translation, one-fact extraction for Tier 1; code, multi-step math and logic, document extraction and
review, design, analysis, long writing for Tier 2), each labelled with the tier it should get. The script scores
them with the shipped model, as the TierClassifier deployment does, and prints how many land where intended at the
default policy threshold (0.5). Usage::

    .venv/bin/python benchmarks/tier_probes.py [--threshold 0.5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deployments.tiering.service import TierClassifierService, local_embed

PROBES = Path(__file__).resolve().parent / "data" / "tier_probes.jsonl"


async def _scores(texts: list[str]) -> list[float]:
    service = TierClassifierService(local_embed())
    return [(await service.classify({"messages": [{"role": "user", "content": t}]})).score for t in texts]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=0.5)
    args = parser.parse_args()
    rows = [json.loads(line) for line in PROBES.read_text(encoding="utf-8").splitlines() if line.strip()]
    scores = asyncio.run(_scores([r["text"] for r in rows]))
    placed = [2 if s >= args.threshold else 1 for s in scores]
    total, right = Counter(), Counter()
    for row, tier in zip(rows, placed, strict=True):
        total[row["tier"]] += 1
        right[row["tier"]] += tier == row["tier"]
    print(f"\n{len(rows)} prompts written for this check, threshold {args.threshold}\n")
    print("| intended tier | prompts | placed as intended |")
    print("|---|---|---|")
    for tier in (1, 2):
        print(f"| {tier} | {total[tier]} | {right[tier]} |")
    print(f"| all | {len(rows)} | {sum(right.values())} ({sum(right.values()) / len(rows):.1%}) |")
    misses = [(r, s) for r, s, t in zip(rows, scores, placed, strict=True) if t != r["tier"]]
    if misses:
        print("\nmisses:")
        for row, score in misses:
            print(f"- intended Tier {row['tier']} ({row['category']}), score {score:.3f}: {row['text'][:90]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
