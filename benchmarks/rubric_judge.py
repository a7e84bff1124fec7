"""What the laptop profile's judge model can judge: the ``rubric`` judge's own request and reply reading
(``deployments/judges/rubric.py``) with SmolLM2-135M-Instruct, greedy, on CPU through transformers (the same weights
the local tier serves; prepare them with ``tollgate prepare-model``).

``benchmarks/data/judge_rubric.jsonl``: 32 answers written for this repository under two rubrics (stays on our
products; polite to the customer), half passing, half failing. Prints agreement with the labels, how often the
model's reply was unreadable (neither PASS nor FAIL: the judge's outcome is then ``error``), and what it says per
rubric. Usage::

    .venv/bin/python benchmarks/rubric_judge.py [--model ~/.tollgate/models/smollm2]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deployments.judges.rubric import read_rubric_reply, rubric_request

DATA = Path(__file__).parent / "data" / "judge_rubric.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=os.path.expanduser("~/.tollgate/models/smollm2"))
    parser.add_argument("--max-tokens", type=int, default=16)
    args = parser.parse_args()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32)
    rows = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
    per_rubric: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    said: collections.Counter[str] = collections.Counter()
    started = time.perf_counter()
    for row in rows:
        request = rubric_request("judge", row["rubric"], [{"role": "user", "content": row["user"]}], row["answer"],
                                 args.max_tokens)
        ids = tokenizer.apply_chat_template(request["messages"], add_generation_prompt=True, return_tensors="pt",
                                            return_dict=True)
        with torch.no_grad():
            out = model.generate(**ids, max_new_tokens=args.max_tokens, do_sample=False)
        reply = tokenizer.decode(out[0][ids["input_ids"].shape[1]:], skip_special_tokens=True)
        outcome = read_rubric_reply(reply)
        verdict = "unreadable" if outcome["error"] else ("PASS" if outcome["passed"] else "FAIL")
        said[verdict] += 1
        counts = per_rubric[row["rubric"][:40]]
        counts["rows"] += 1
        counts["right"] += verdict != "unreadable" and outcome["passed"] == row["passes"]
        counts["unreadable"] += verdict == "unreadable"
        counts[f"said {verdict} when {'pass' if row['passes'] else 'fail'}"] += 1
    elapsed = time.perf_counter() - started
    print(f"SmolLM2-135M-Instruct as the rubric judge, {len(rows)} answers, {elapsed / len(rows):.2f} s each on CPU")
    print(f"{'rubric':<42} {'rows':>5} {'agree':>6} {'unreadable':>11}  replies")
    for name, c in per_rubric.items():
        detail = ", ".join(f"{k}: {v}" for k, v in sorted(c.items()) if k.startswith("said"))
        print(f"{name:<42} {c['rows']:>5} {c['right'] / c['rows']:>6.0%} {c['unreadable']:>11}  {detail}")
    right = sum(c["right"] for c in per_rubric.values())
    print(f"{'all':<42} {len(rows):>5} {right / len(rows):>6.0%} {said['unreadable']:>11}  "
          f"PASS {said['PASS']}, FAIL {said['FAIL']}")


if __name__ == "__main__":
    main()
