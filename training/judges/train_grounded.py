"""Train the ``grounded`` classifier (deployments/judges/grounded_weights.npz) and report its figures.

Data (benchmarks/data, written for this repository; the families are described in docs/judges.md):

* training: ``judge_grounded_train_a`` and ``judge_grounded_train_b`` (two authors, disjoint domains);
* held out: ``judge_grounded_b`` (a third author, other domains, never read while anything here was chosen).
  ``--evaluate`` scores it with the shipped weights; training never opens it.

Each row is (context, question, answer) and whether every claim of the answer is supported by the context. The
families: ``supported`` and ``abstain`` (grounded), ``contradicted``, ``unsupported`` and ``partial`` (not).

The operating point is chosen out of fold (folds group whole contexts, and each fold holds out whole domains'
worth of one author's contexts): the threshold with the best balanced accuracy. Deterministic given the
embeddings.

Usage: ``PYTHONPATH=. python -m training.judges.train_grounded [--evaluate] [--out PATH]``
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deployments.judges.grounded import DEFAULT_WEIGHTS, FEATURE_NAMES, featurise
from deployments.judges.logistic import LogisticClassifier
from training.judges.common import CachedEmbeddings, command_line, fit_logistic, logistic

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data"
TRAINING_SETS = ("judge_grounded_train_a", "judge_grounded_train_b")
HELD_OUT_SET = "judge_grounded_b"
SEED = 0
FOLDS = 10
C = 0.1  # chosen by out-of-fold balanced accuracy (the table train() prints)


@dataclass(frozen=True)
class Row:
    id: str
    family: str
    style: str
    grounded: bool
    context: str
    answer: str
    source: str

    @property
    def context_id(self) -> str:
        return self.id.rsplit("-", 1)[0]


def load_set(name: str) -> list[Row]:
    with open(DATA / f"{name}.jsonl", encoding="utf-8") as fh:
        return [Row(r["id"], r["family"], r.get("style", ""), bool(r["grounded"]), r["context"], r["answer"], name)
                for r in map(json.loads, filter(str.strip, fh))]


def features(rows: Sequence[Row], embed: CachedEmbeddings) -> np.ndarray:
    return np.stack([featurise(r.answer, r.context, embed) for r in rows])


def balanced_accuracy(scores: np.ndarray, failing: np.ndarray, threshold: float) -> float:
    flagged = scores >= threshold
    return float((flagged[failing].mean() + (~flagged[~failing]).mean()) / 2)


def choose_threshold(scores: np.ndarray, failing: np.ndarray) -> float:
    """The threshold with the best balanced accuracy (the middle of the best run of candidates)."""
    candidates = np.unique(np.round(scores, 4))
    accuracy = np.array([balanced_accuracy(scores, failing, t) for t in candidates])
    best = np.flatnonzero(accuracy >= accuracy.max() - 1e-9)
    return float(candidates[best[len(best) // 2]])


def report(title: str, rows: Sequence[Row], scores: np.ndarray, threshold: float) -> float:
    """Per family and style: the share judged not grounded; then the balanced accuracy."""
    print(f"\n### {title} (threshold {threshold:.3f})\n")
    print("| family | expected | rows | judged not grounded | correct |\n|---|---|---|---|---|")
    groups: dict[str, list[bool]] = defaultdict(list)
    expected: dict[str, bool] = {}
    for r, s in zip(rows, scores, strict=True):
        for key in (r.family, f"{r.family}: {r.style}"):
            groups[key].append(bool(s >= threshold))
            expected[key] = not r.grounded
    for name in sorted(groups):
        share = float(np.mean(groups[name]))
        correct = share if expected[name] else 1 - share
        indent = "  " if ":" in name else ""
        print(f"| {indent}{name} | {'not grounded' if expected[name] else 'grounded'} | {len(groups[name])} | "
              f"{share:.3f} | {correct:.3f} |")
    failing = np.array([not r.grounded for r in rows])
    accuracy = balanced_accuracy(scores, failing, threshold)
    flagged = scores >= threshold
    print(f"\nbalanced accuracy {accuracy:.3f}: not grounded caught {flagged[failing].mean():.3f} "
          f"({int(flagged[failing].sum())}/{int(failing.sum())}), grounded passed {(~flagged[~failing]).mean():.3f} "
          f"({int((~flagged[~failing]).sum())}/{int((~failing).sum())})")
    return accuracy


def fold_of(rows: Sequence[Row]) -> np.ndarray:
    """Whole contexts per fold (a context's five answers are never split), assigned by a seeded hash."""
    contexts = sorted({r.context_id for r in rows}, key=lambda c: hashlib.sha256(f"{SEED}:{c}".encode()).hexdigest())
    fold = {c: k % FOLDS for k, c in enumerate(contexts)}
    return np.array([fold[r.context_id] for r in rows])


def out_of_fold(x: np.ndarray, y: np.ndarray, folds: np.ndarray, c: float = C) -> np.ndarray:
    oof = np.zeros(len(y), dtype=np.float32)
    for k in range(FOLDS):
        test = folds == k
        oof[test] = logistic(fit_logistic(x[~test], y[~test], c), 0.5).predict(x[test])
    return oof


def train(out: Path, sets: Sequence[str] = TRAINING_SETS) -> None:
    embed = CachedEmbeddings()
    rows = [r for name in sets for r in load_set(name)]
    x = features(rows, embed)
    y = np.array([not r.grounded for r in rows], dtype=np.int8)
    folds = fold_of(rows)
    print("| C | out-of-fold balanced accuracy |\n|---|---|")
    for c in (0.01, 0.1, 1.0, 10.0):
        oof_c = out_of_fold(x, y, folds, c)
        print(f"| {c} | {balanced_accuracy(oof_c, y.astype(bool), choose_threshold(oof_c, y.astype(bool))):.3f} |")
    oof = out_of_fold(x, y, folds)
    threshold = choose_threshold(oof, y.astype(bool))
    report(f"Training sets, out of fold ({FOLDS} folds of whole contexts)", rows, oof, threshold)
    # Across authors: trained on one set, scored on the other (closer to the held-out question).
    for name in sets:
        mask = np.array([r.source == name for r in rows])
        if mask.all():
            continue
        other = logistic(fit_logistic(x[~mask], y[~mask], C), threshold).predict(x[mask])
        report(f"{name}, trained on the other set only", [r for r, m in zip(rows, mask) if m], other, threshold)
    weights = fit_logistic(x, y, C)
    print("\n| feature | weight |\n|---|---|")
    for name, w in sorted(zip(FEATURE_NAMES, weights["coef"], strict=True), key=lambda kv: -abs(kv[1])):
        print(f"| {name} | {w:+.3f} |")
    out.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = {**weights, "threshold": np.float64(threshold), "seed": np.int64(SEED),
                              "c": np.float64(C), "training_answers": np.int64(len(rows))}
    np.savez_compressed(out, **arrays)
    print(f"\nwrote {out} ({out.stat().st_size} bytes), threshold {threshold:.4f}", file=sys.stderr)


def evaluate(weights: Path, name: str = HELD_OUT_SET) -> None:
    """The shipped classifier on a set it was not trained on."""
    rows = load_set(name)
    model = LogisticClassifier.load(weights)
    report(f"Held out: {name} ({len(rows)} answers)", rows, model.predict(features(rows, CachedEmbeddings())),
           model.threshold)


def main(argv: Sequence[str] | None = None) -> int:
    return command_line(__doc__, DEFAULT_WEIGHTS, HELD_OUT_SET, TRAINING_SETS, train, evaluate, argv)


if __name__ == "__main__":
    raise SystemExit(main())
