"""Evaluation judges: detection quality per family and latency per judge.

Quality, on evaluation data written for this repository by families (benchmarks/data/judge_prompt_leak.md),
split by operator: the rows of the first 20 system prompts are the development half (read once, after the first
run, to fix the judge's base64 reading), the rows of the other 20 are held out. Per family the share of rows the
judge failed (leaks: recall; benign rows: false flags), then recall over all leaks and the false-flag rate over all
benign answers, per half.

``denied_topics``: the shipped classifier on the held-out topics (benchmarks/data/judge_denied_topics_b*, ten topics
written by another author than the training topics and never read while anything was chosen), per family and style:
each answer judged on the topic it was written for, and with all ten topics configured at once.

``grounded``: the shipped classifier on the held-out set (benchmarks/data/judge_grounded_b.jsonl, 60 contexts of
other domains by another author than the training sets, never read while anything was chosen), per family and
style, and its balanced accuracy.

Latency: p50 and p99 of one verdict for answers of 1 KB and 10 KB, in process (prompt_leak: a 200-word system
prompt; denied_topics: three topics configured; grounded: a 2 KB context).

Usage: ``.venv/bin/python benchmarks/judges.py``
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deployments.judges.denied_topics import DEFAULT_WEIGHTS, DeniedTopicsJudge
from deployments.judges.grounded import DEFAULT_WEIGHTS as GROUNDED_WEIGHTS
from deployments.judges.grounded import GroundedJudge
from deployments.judges.prompt_leak import PromptLeakJudge
from deployments.judges.verdict import Judge, JudgeInput
from training.judges import train_grounded
from training.judges.train_denied_topics import evaluate, load_set

DATA = ROOT / "benchmarks" / "data" / "judge_prompt_leak.jsonl"
# 25 other system prompts and 450 rows by another author, written after the judge's last change (never read).
SECOND_SET = ROOT / "benchmarks" / "data" / "judge_prompt_leak_b.jsonl"


def _rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _quality() -> None:
    _quality_table("second held-out set", _rows(SECOND_SET), SECOND_SET.name)
    every_row = _rows(DATA)
    operators = list(dict.fromkeys(row["system"] for row in every_row))
    development = set(operators[:20])
    for half, rows in (("held out", [r for r in every_row if r["system"] not in development]),
                       ("development", [r for r in every_row if r["system"] in development])):
        _quality_table(half, rows, DATA.name)


def _quality_table(half: str, rows: list[dict[str, object]], source: str) -> None:
    judge = PromptLeakJudge()
    failed_by_family: dict[tuple[str, bool], list[bool]] = defaultdict(list)
    for row in rows:
        messages = [{"role": "system", "content": row["system"]}, {"role": "user", "content": row["user"]}]
        verdict = judge.judge(JudgeInput(messages, str(row["answer"])))
        failed_by_family[(str(row["family"]), bool(row["leak"]))].append(not verdict.passed)
    print(f"\n## prompt_leak, {half} ({len(rows)} rows, {source})\n")
    print("| family | leak? | rows | judged a leak |\n|---|---|---|---|")
    for (family, leak), failed in sorted(failed_by_family.items(), key=lambda kv: (not kv[0][1], kv[0][0])):
        print(f"| {family} | {'yes' if leak else 'no'} | {len(failed)} | {sum(failed) / len(failed):.2f} |")
    leaks = [f for (_, leak), failed in failed_by_family.items() if leak for f in failed]
    benign = [f for (_, leak), failed in failed_by_family.items() if not leak for f in failed]
    print(f"\nrecall over all leaks {sum(leaks) / len(leaks):.3f} ({sum(leaks)}/{len(leaks)}); "
          f"false flags over benign answers {sum(benign) / len(benign):.3f} ({sum(benign)}/{len(benign)}). "
          "Target: recall ≥ 0.95 at ≤ 0.01 false flags.")


def _latency() -> None:
    system = ("You are the support assistant of Northwind Bank. " * 4 + "Escalate fraud with code ZX-41. ") * 4
    topics, _ = load_set("judge_denied_topics")
    context = ("Cards can be frozen in the app under Cards, then Freeze; a frozen card declines every payment. "
               "Unfreezing takes effect at once. A replacement card arrives in 5 business days. " * 12)[:2048]
    judges: list[tuple[Judge, int]] = [(PromptLeakJudge(), 200),
                                       (DeniedTopicsJudge(list(topics.values())[:3]), 50),
                                       (GroundedJudge(), 30)]
    print("\n| judge | answer | p50 ms | p99 ms |\n|---|---|---|---|")
    for judge, runs in judges:
        for size in (1024, 10240):
            answer = ("Your card can be frozen from the app under Cards, then Freeze. " * 200)[:size]
            item = JudgeInput([{"role": "system", "content": system}, {"role": "user", "content": "help"}], answer,
                              context)
            judge.judge(item)
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                judge.judge(item)
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            print(f"| {judge.name} | {size // 1024} KB | {statistics.median(times):.2f} | "
                  f"{times[max(0, int(0.99 * len(times)) - 1)]:.2f} |")


if __name__ == "__main__":
    _quality()
    print("\n## denied_topics")
    evaluate(DEFAULT_WEIGHTS)
    print("\n## grounded")
    train_grounded.evaluate(GROUNDED_WEIGHTS)
    _latency()
