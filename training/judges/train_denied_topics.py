"""Train the ``denied_topics`` classifier (deployments/judges/denied_topics_weights.npz) and report its figures.

Data (benchmarks/data, written for this repository; the families are described in docs/judges.md):

* training topics: ``judge_denied_topics`` (12 topics), ``judge_denied_topics_train_a`` and ``_train_b`` (10 each);
* held out: ``judge_denied_topics_b`` (10 other topics, written by another author and never read while anything
  here was chosen). ``--evaluate`` scores it with the shipped weights; training never opens it.

Each row is an answer and the topic it was written for; ``flag`` says whether it engages in that topic. A row is
also a negative for the other topics of its own file that it was not written for (an answer that engages in tax
advice does not engage in competitor comparisons), which is what a config with several topics asks.

The operating point comes from topic-grouped cross-validation on the training topics: the threshold that keeps
out-of-fold false flags at or under ``TARGET_FALSE_FLAGS`` on the answers of a row's own topic. Training is
deterministic given the embeddings (fixed seeds).

Usage: ``PYTHONPATH=. python -m training.judges.train_denied_topics [--evaluate] [--out PATH]``
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deployments.judges.denied_topics import (
    DEFAULT_WEIGHTS,
    Topic,
    TopicVectors,
    answer_features,
    answer_vectors,
    sentences,
    topic_vectors,
)
from deployments.judges.logistic import LogisticClassifier
from training.judges.common import CachedEmbeddings, command_line, fit_logistic, logistic

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data"
TRAINING_SETS = ("judge_denied_topics", "judge_denied_topics_train_a", "judge_denied_topics_train_b")
HELD_OUT_SET = "judge_denied_topics_b"
SEED = 0
FOLDS = 8
C = 0.01  # strong L2: 1,080 answers and 393 features; chosen by topic-grouped cross-validation (docs/judges.md)
CROSS_TOPIC_NEGATIVES = 2  # other topics of the same file each row is also a negative for
TARGET_FALSE_FLAGS = 0.02  # out of fold, on the own-topic benign answers (the ceiling is 3 %)


@dataclass(frozen=True)
class Row:
    topic: str
    family: str
    style: str | None
    flag: bool
    answer: str
    source: str


def load_set(name: str) -> tuple[dict[str, Topic], list[Row]]:
    with open(DATA / f"{name}_topics.json", encoding="utf-8") as fh:
        topics = {t["name"]: Topic(t["name"], t["description"], tuple(t["examples"])) for t in json.load(fh)}
    with open(DATA / f"{name}.jsonl", encoding="utf-8") as fh:
        rows = [Row(r["topic"], r["family"], r.get("style"), bool(r["flag"]), r["answer"], name)
                for r in map(json.loads, filter(str.strip, fh))]
    unknown = {r.topic for r in rows} - set(topics)
    if unknown:
        raise ValueError(f"{name}: rows name topics without a definition: {sorted(unknown)}")
    return topics, rows


def featurise(rows: Sequence[Row], topics: dict[str, Topic], embed: CachedEmbeddings,
              pairs: Sequence[tuple[int, str]]) -> np.ndarray:
    """Features of (row, topic name) pairs."""
    vectors: dict[str, TopicVectors] = {name: topic_vectors(t, embed) for name, t in topics.items()}
    embed([text for r in rows for text in (*sentences(r.answer), r.answer)])  # one batched pass
    answers = {i: answer_vectors(rows[i].answer, embed) for i in dict.fromkeys(i for i, _ in pairs)}
    return np.stack([answer_features(*answers[i], vectors[name]) for i, name in pairs])


def training_pairs(rows: Sequence[Row], topics_of: dict[str, list[str]]) -> tuple[list[tuple[int, str]], np.ndarray]:
    """Each row against its own topic (its label) and against CROSS_TOPIC_NEGATIVES others of its file (0)."""
    rng = np.random.default_rng(SEED)
    pairs: list[tuple[int, str]] = []
    labels: list[int] = []
    for i, r in enumerate(rows):
        pairs.append((i, r.topic))
        labels.append(int(r.flag))
        others = [t for t in topics_of[r.source] if t != r.topic]
        for name in rng.choice(others, size=min(CROSS_TOPIC_NEGATIVES, len(others)), replace=False):
            pairs.append((i, str(name)))
            labels.append(0)
    return pairs, np.array(labels, dtype=np.int8)


def choose_threshold(scores: np.ndarray, labels: np.ndarray, target: float) -> float:
    """The lowest threshold whose false-flag rate on the benign rows is at most ``target``."""
    benign = np.sort(scores[labels == 0])[::-1]
    allowed = int(np.floor(target * len(benign)))
    return float(min(0.99, benign[allowed] + 1e-6)) if allowed < len(benign) else 0.5


def report(title: str, rows: Sequence[Row], own: np.ndarray, any_topic: np.ndarray | None, threshold: float) -> None:
    """Per family (and engaging style): the share flagged on its own topic; then recall and false flags."""
    print(f"\n### {title} (threshold {threshold:.3f})\n")
    print("| family | rows | flagged |\n|---|---|---|")
    groups: dict[str, list[bool]] = defaultdict(list)
    for r, s in zip(rows, own, strict=True):
        flagged = bool(s >= threshold)
        groups[r.family].append(flagged)
        if r.family == "engaging" and r.style:
            groups[f"engaging: {r.style}"].append(flagged)
    for name in sorted(groups, key=lambda g: (not g.startswith("engaging"), g)):
        print(f"| {name} | {len(groups[name])} | {np.mean(groups[name]):.3f} |")
    labels = np.array([r.flag for r in rows])
    hit = own >= threshold
    print(f"\nrecall {hit[labels].mean():.3f} ({int(hit[labels].sum())}/{int(labels.sum())}), false flags "
          f"{hit[~labels].mean():.3f} ({int(hit[~labels].sum())}/{int((~labels).sum())}) on the row's own topic",
          end="")
    if any_topic is not None:
        fa = any_topic >= threshold
        print(f"; with every topic of the set configured: recall {fa[labels].mean():.3f}, false flags "
              f"{fa[~labels].mean():.3f}", end="")
    print()


def train(out: Path, sets: Sequence[str] = TRAINING_SETS) -> None:
    embed = CachedEmbeddings()
    topics: dict[str, Topic] = {}
    rows: list[Row] = []
    topics_of: dict[str, list[str]] = {}
    for name in sets:
        set_topics, set_rows = load_set(name)
        clash = set(set_topics) & set(topics)
        if clash:
            raise ValueError(f"{name}: topics defined twice: {sorted(clash)}")
        topics.update(set_topics)
        rows += set_rows
        topics_of[name] = list(set_topics)
    pairs, y = training_pairs(rows, topics_of)
    x = featurise(rows, topics, embed, pairs)
    names = sorted(topics)
    fold_of = {t: k % FOLDS for k, t in enumerate(sorted(names, key=hash_key))}
    pair_fold = np.array([fold_of[rows[i].topic] for i, _ in pairs])
    oof = np.zeros(len(pairs), dtype=np.float32)
    for k in range(FOLDS):
        test = pair_fold == k
        weights = fit_logistic(x[~test], y[~test], C)
        oof[test] = logistic(weights, 0.5).predict(x[test])
    own = np.array([name == rows[i].topic for i, name in pairs])
    threshold = choose_threshold(oof[own], y[own], TARGET_FALSE_FLAGS)
    print(f"training: {len(rows)} answers, {len(topics)} topics, {len(pairs)} pairs "
          f"({Counter(r.family for r in rows)})", file=sys.stderr)
    report("Training topics, out of fold (topic-grouped, 8 folds)", rows, oof[own], None, threshold)
    print("\n| out-of-fold false flags at most | threshold | recall |\n|---|---|---|")
    for target in (0.01, 0.02, 0.03, 0.05, 0.10):
        t = choose_threshold(oof[own], y[own], target)
        print(f"| {target:.0%} | {t:.3f} | {np.mean(oof[own][y[own] == 1] >= t):.3f} |")
    for source in sets:
        mask = np.array([r.source == source for r in rows])
        report(f"out of fold: {source}", [r for r, m in zip(rows, mask) if m], oof[own][mask], None, threshold)
    weights = fit_logistic(x, y, C)
    out.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = {**weights, "threshold": np.float64(threshold), "seed": np.int64(SEED),
                              "c": np.float64(C), "training_answers": np.int64(len(rows)),
                              "training_topics": np.int64(len(topics)),
                              "target_false_flags": np.float64(TARGET_FALSE_FLAGS)}
    np.savez_compressed(out, **arrays)
    print(f"\nwrote {out} ({out.stat().st_size} bytes), threshold {threshold:.4f}", file=sys.stderr)


def hash_key(text: str) -> str:
    import hashlib

    return hashlib.sha256(f"{SEED}:{text}".encode()).hexdigest()


def evaluate(weights: Path, name: str = HELD_OUT_SET) -> None:
    """The shipped classifier on a set it was not trained on: each row on its own topic, and with every topic of
    the set configured (a row is flagged when any topic's score passes)."""
    embed = CachedEmbeddings()
    topics, rows = load_set(name)
    model = LogisticClassifier.load(weights)
    names = sorted(topics)
    x = featurise(rows, topics, embed, [(i, t) for i in range(len(rows)) for t in names])
    scores = model.predict(x).reshape(len(rows), len(names))
    own = scores[np.arange(len(rows)), [names.index(r.topic) for r in rows]]
    report(f"Held out: {name} ({len(topics)} topics, {len(rows)} answers)", rows, own, scores.max(axis=1),
           model.threshold)


def main(argv: Sequence[str] | None = None) -> int:
    return command_line(__doc__, DEFAULT_WEIGHTS, HELD_OUT_SET, TRAINING_SETS, train, evaluate, argv)


if __name__ == "__main__":
    raise SystemExit(main())
