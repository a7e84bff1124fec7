"""Semantic-cache quality: precision and recall of hits on labelled query pairs, the decision stage next to plain
cosine thresholds, all from one run of the ``tollgate cache probe`` path.

Each pair is judged on its own, as ``tollgate cache probe`` does: an empty cache in default scope seeded with the
pair's first query, then a lookup of the second through exact match, vector search and the decision stage. A hit
on a ``label 1`` pair is right, a hit on a ``label 0`` pair is a wrong answer served. The cosine rows use the same
run's similarity column.

Data, all held out from the verifier's training:

* ../shared/data/semantic_cache/qqp_pairs_every4th.jsonl: QQP duplicate-question pairs, labelled (training
  excludes every question that occurs here);
* "paraphrase vs near miss": the held-out quarter of GPTCache's mock paraphrases (mock_pairs.jsonl, split by
  ``train_verifier.split_mock``) against near misses of the same sentences made by the project's own rules
  (``training/cache/near_misses.py``). It has about 7.5 near misses per paraphrase, so the table also gives
  the class-balanced precision TPR / (TPR + FPR): what the precision would be with as many near misses as
  paraphrases.

* benchmarks/data/cache_families*.jsonl: pairs written for this repository in 18 families (8 kinds of
  paraphrase, 10 kinds of near miss that must never hit; benchmarks/data/cache_families*.md), by twelve authors.
  Five are development sets (the structured checks were written against them), three are calibration sets (the
  cross-encoder's thresholds are chosen on them; no row was read), four are held out (never read).
  Reported per family: recall for a paraphrase family, the share of pairs served a wrong answer for a near-miss
  family; then the totals.

Usage: ``.venv/bin/python benchmarks/cache_quality.py [--pairs 4000] [--all] [--families-only]``
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np

from deployments.cache.probe_cli import run_probe
from tollgate_core.config import CacheConfig
from training.cache.cross_encoder import CALIBRATION_SETS
from training.cache.train_verifier import SEED, Pairs, near_misses, split_mock

DATA = ROOT.parent / "shared" / "data" / "semantic_cache"
# Held out: never read, never used to choose a threshold or a check; docs/cache.md says when each was scored (h's and
# i's direction figures are why training/cache/data/order_pairs.jsonl was written). Calibration: never read, the
# cross-encoder's thresholds are chosen on them. Development: read while the checks were written (j after it was
# scored once as held out).
_DATA = ROOT / "benchmarks" / "data"
HELD_OUT_SETS = ("cache_families_l.jsonl", "cache_families_k.jsonl", "cache_families_i.jsonl",
                 "cache_families_h.jsonl")
DEVELOPMENT_SETS = ("cache_families.jsonl", "cache_families_d.jsonl", "cache_families_e.jsonl",
                    "cache_families_g.jsonl", "cache_families_j.jsonl")
_NOTES = {"cache_families_j.jsonl": " (held out until scored once)"}
# (file, title)
FAMILY_SETS = (
    *((_DATA / name, f"held out: {name}, never read") for name in HELD_OUT_SETS),
    *((_DATA / name, f"calibration: {name}, never read") for name in CALIBRATION_SETS),
    *((_DATA / name, f"development: {name}{_NOTES.get(name, '')}") for name in DEVELOPMENT_SETS),
)
COSINE_THRESHOLDS = (0.80, 0.92, 0.95)


def _load(name: str, limit: int | None) -> list[dict[str, object]]:
    with open(DATA / name, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    if limit is None or limit >= len(rows):
        return rows
    step = len(rows) / limit  # an even spread over the file, the same on every run
    return [rows[int(i * step)] for i in range(limit)]


def _paraphrase_vs_near_miss() -> list[dict[str, object]]:
    held_out = split_mock(DATA.parent)["test"]
    _, made = near_misses(held_out, Pairs([], [], np.zeros(0, dtype=np.int8)), "test", SEED)
    rows = [{"id": f"p{i}", "a": a, "b": b, "label": 1} for i, (a, b) in enumerate(zip(held_out.a, held_out.b))]
    return rows + [{"id": f"n{i}", "a": a, "b": b, "label": 0} for i, (a, b) in enumerate(zip(made.a, made.b))]


def _probe(rows: list[dict[str, object]], config: CacheConfig | None = None) -> list[dict[str, object]]:
    lines = "".join(json.dumps({"id": r["id"], "seed": r["a"], "query": r["b"]}) + "\n" for r in rows)
    out = io.StringIO()
    run_probe(io.StringIO(lines), out, config or CacheConfig())
    return [json.loads(line) for line in out.getvalue().splitlines()]


def _row(name: str, hits: list[bool], labels: list[int]) -> str:
    tp = sum(h and y == 1 for h, y in zip(hits, labels))
    fp = sum(h and y == 0 for h, y in zip(hits, labels))
    positives = sum(y == 1 for y in labels)
    negatives = len(labels) - positives
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / positives if positives else float("nan")
    wrong = fp / (tp + fp) if tp + fp else float("nan")
    fpr = fp / negatives if negatives else 0.0
    balanced = recall / (recall + fpr) if recall + fpr else float("nan")
    return f"| {name} | {tp + fp} | {precision:.3f} | {recall:.3f} | {wrong:.3f} | {balanced:.3f} |"


def _table(title: str, rows: list[dict[str, object]], judged: list[dict[str, object]]) -> None:
    labels = [int(r["label"]) for r in rows]  # type: ignore[call-overload]
    print(f"\n## {title} ({len(rows):,}: {sum(labels):,} paraphrases, {len(labels) - sum(labels):,} near misses)\n")
    print("| decision | hits | precision | recall | wrong hits | balanced precision |\n|---|---|---|---|---|---|")
    print(_row("decision stage (strict, default)", [bool(j["hit"]) for j in judged], labels))
    for threshold in COSINE_THRESHOLDS:
        print(_row(f"cosine ≥ {threshold:.2f}", [float(j["similarity"]) >= threshold for j in judged], labels))  # type: ignore[arg-type]


def _families(path: Path) -> list[dict[str, object]]:
    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return [{**r, "id": f"f{i}", "label": 1 if r["kind"] == "paraphrase" else 0} for i, r in enumerate(rows)]


def _family_table(title: str, rows: list[dict[str, object]], judged: list[dict[str, object]],
                  balanced: list[dict[str, object]], before: list[dict[str, object]]) -> None:
    """Per family: the decision stage (strict, balanced), the verifier in its place (the decision before the
    cross-encoder) and cosine ≥ 0.92, as the share of pairs that were served the cached answer."""
    print(f"\n## Families, {title} ({len(rows)} pairs)\n")
    print("Paraphrase families: recall (higher is better). Near-miss families: share of pairs served a wrong answer "
          "(lower is better).\n")
    print("| family | kind | pairs | strict (default) | balanced | verifier (before) | cosine ≥ 0.92 |\n"
          "|---|---|---|---|---|---|---|")
    by_family: dict[tuple[str, str], list[tuple[bool, bool, bool, bool]]] = {}
    for r, j, m, b in zip(rows, judged, balanced, before, strict=True):
        by_family.setdefault((str(r["kind"]), str(r["family"])), []).append(
            (bool(j["hit"]), bool(m["hit"]), bool(b["hit"]), float(j["similarity"]) >= 0.92))  # type: ignore[arg-type]
    for (kind, family), outcomes in sorted(by_family.items(), key=lambda kv: (kv[0][0] != "paraphrase", kv[0][1])):
        now, mid, then, cosine = (sum(o[i] for o in outcomes) / len(outcomes) for i in range(4))
        print(f"| {family} | {kind.replace('_', ' ')} | {len(outcomes)} | {now:.2f} | {mid:.2f} | {then:.2f} | "
              f"{cosine:.2f} |")
    labels = [int(r["label"]) for r in rows]  # type: ignore[call-overload]
    print("\n| decision | hits | precision | recall | wrong hits | balanced precision |\n|---|---|---|---|---|---|")
    print(_row("strict (default), all families", [bool(j["hit"]) for j in judged], labels))
    print(_row("balanced, all families", [bool(m["hit"]) for m in balanced], labels))
    print(_row("verifier, strict (before)", [bool(b["hit"]) for b in before], labels))
    print(_row("cosine ≥ 0.92, all families", [float(j["similarity"]) >= 0.92 for j in judged], labels))  # type: ignore[arg-type]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=4000, help="QQP pairs to judge (an even spread of the file)")
    parser.add_argument("--all", action="store_true", help="judge all 20,214 QQP pairs")
    parser.add_argument("--families-only", action="store_true",
                        help="only the family sets (needs no ../shared/data)")
    args = parser.parse_args()
    limit = None if args.all else args.pairs
    started = time.perf_counter()
    probes = 0
    for path, title in FAMILY_SETS:
        families = _families(path)
        _family_table(title, families, _probe(families), _probe(families, CacheConfig(operating_point="balanced")),
                      _probe(families, CacheConfig(decision="verifier")))
        probes += len(families)
    if args.families_only:
        print(f"\n{probes} probes in {time.perf_counter() - started:.0f} s.")
        return 0

    qqp = _load("qqp_pairs_every4th.jsonl", limit)
    contrast = _paraphrase_vs_near_miss()
    started = time.perf_counter()
    judged = _probe(qqp)
    contrast_judged = _probe(contrast)
    elapsed = time.perf_counter() - started
    _table("QQP pairs", qqp, judged)
    _table("Paraphrase vs near miss (held-out GPTCache paraphrases, rule-made near misses)", contrast,
           contrast_judged)
    print(f"\n{len(qqp) + len(contrast):,} probes in {elapsed:.0f} s. Target: recall ≥ 0.60 with ≤ 5 % wrong hits.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
