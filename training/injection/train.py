"""Train the injection classifier, calibrate its threshold, write ``injection_weights.json``; deterministic.

    python -m training.injection.train [--data ../shared/data] [--out PATH] [--report]

``--threshold T`` skips the calibration (about a minute and a half here) and writes T; the
test that the shipped weights reproduce byte for byte passes the shipped threshold.

Training uses only the families outside ``corpus.HELD_OUT_FAMILIES``. The threshold is
chosen without looking at the held-out families either: each training family is scored
by a model trained on the other families (leave-one-family-out), whole requests as the
gateway scores them, and the threshold is the lowest at which at most ``TARGET_FPR`` of
those out-of-family benign requests are flagged. The held-out figures are printed last,
for the record; nothing is chosen from them. Needs scikit-learn at training time only;
the runtime reads the JSON with the standard library.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from deployments.guardrail.injection import DEFAULT_WEIGHTS_PATH, InjectionDetector, featurize
from deployments.guardrail.injection_text import WINDOW_CHARS, windows
from training.injection.corpus import DEFAULT_DATA, held_out, load_samples, training_set
from training.injection.evaluate import rates, request_scorer, request_texts
from training.injection.samples import Sample

__all__ = ["TARGET_FPR", "calibrate", "classifier_examples", "fit", "main"]

FORMAT = "tollgate-injection-v2"
C = 0.5
MIN_DF = 2
PRUNE_BELOW = 0.01
TARGET_FPR = 0.01
_GRID = [round(0.5 + 0.01 * i, 2) for i in range(50)]


def classifier_examples(samples: Sequence[Sample]) -> tuple[list[str], list[int], list[str]]:
    """(texts, labels, families) for the classifier: windows of benign texts (all roles), attack messages that fit
    a window.

    An attack text longer than a window is left out: the label belongs to the one window
    that holds the payload, and which one that is, the data does not say.
    """
    texts: list[str] = []
    labels: list[int] = []
    families: list[str] = []
    for sample in samples:
        for text, (index, _role) in zip(*request_texts(sample), strict=True):
            if not text.strip():
                continue
            if sample.label == 0:
                for window in windows(text):
                    texts.append(window)
                    labels.append(0)
                    families.append(sample.family)
            elif index == sample.attack_index and len(text) <= WINDOW_CHARS:
                texts.append(text)
                labels.append(1)
                families.append(sample.family)
    return texts, labels, families


def _matrix(features: Sequence[set[str]], vocabulary: dict[str, int]):  # type: ignore[no-untyped-def]
    from scipy.sparse import csr_matrix

    rows, cols, values = [], [], []
    for i, found in enumerate(features):
        norm = 1.0 / math.sqrt(len(found))
        for f in found:
            j = vocabulary.get(f)
            if j is not None:
                rows.append(i)
                cols.append(j)
                values.append(norm)
    return csr_matrix((values, (rows, cols)), shape=(len(features), len(vocabulary)))


def fit(texts: Sequence[str], labels: Sequence[int], families: Sequence[str]) -> dict[str, float]:
    """Logistic regression over the texts' features; the pruned weights (the prior is ``w:<s>``'s).

    Every family weighs the same in total, and both classes too: 2,948 tiering prompts or 650
    in-the-wild jailbreaks would otherwise decide what "benign" and "attack" look like.
    """
    from sklearn.linear_model import LogisticRegression

    features = [featurize(t) for t in texts]
    df: Counter[str] = Counter()
    for found in features:
        df.update(found)
    vocabulary = {f: i for i, f in enumerate(sorted(f for f, n in df.items() if n >= MIN_DF))}
    per_family = Counter(families)
    class_families = {label: len({f for f, l in zip(families, labels, strict=True) if l == label}) for label in (0, 1)}
    weights = [len(texts) / (2 * class_families[label] * per_family[family])
               for label, family in zip(labels, families, strict=True)]
    # No intercept: the prior is the weight of "w:<s>", scaled like every other feature, so a
    # short text of unknown words is not scored by a constant learnt from long jailbreaks.
    model = LogisticRegression(C=C, solver="liblinear", fit_intercept=False, max_iter=2000, random_state=0)
    model.fit(_matrix(features, vocabulary), list(labels), sample_weight=weights)
    coef = model.coef_[0]
    return {f: round(float(coef[j]), 4) for f, j in vocabulary.items() if abs(coef[j]) >= PRUNE_BELOW}


def out_of_family_scores(samples: Sequence[Sample]) -> list[float]:
    """Each sample's request score from a model trained without its family."""
    scores: dict[str, float] = {}
    for family in sorted({s.family for s in samples}):
        inside = [s for s in samples if s.family == family]
        rest = [s for s in samples if s.family != family]
        detector = InjectionDetector(fit(*classifier_examples(rest)), 0.0)
        score = request_scorer(detector)
        for sample in inside:
            scores[sample.id] = score(sample)
    return [scores[s.id] for s in samples]


def calibrate(samples: Sequence[Sample], scores: Sequence[float], target_fpr: float = TARGET_FPR) -> float:
    """The lowest grid threshold at which the benign families flag at most ``target_fpr`` on average.

    The average is over families (each family counts once), so the largest family does not
    set the operating point alone.
    """
    benign: dict[str, list[float]] = {}
    for sample, score in zip(samples, scores, strict=True):
        if sample.label == 0:
            benign.setdefault(sample.family, []).append(score)
    for threshold in _GRID:
        rates_ = [sum(s >= threshold for s in family) / len(family) for family in benign.values()]
        if sum(rates_) / len(rates_) <= target_fpr:
            return threshold
    return _GRID[-1]


def _print_rates(title: str, samples: Sequence[Sample], scores: Sequence[float], threshold: float) -> None:
    print(f"\n{title} (threshold {threshold})")
    for row in rates(samples, scores, threshold):
        kind = "TPR" if row.label else "FPR"
        print(f"  {row.family:34s} {kind} {row.rate:.3f}  ({row.flagged}/{row.n})")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared/data folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS_PATH, help="where to write the weights")
    parser.add_argument("--report", action="store_true", help="also print per-family figures")
    parser.add_argument("--threshold", type=float, help="write this threshold instead of calibrating one")
    args = parser.parse_args(argv)

    samples = load_samples(args.data)
    train = training_set(samples)
    oof = out_of_family_scores(train) if args.threshold is None or args.report else []
    threshold = args.threshold if args.threshold is not None else calibrate(train, oof)
    texts, labels, families = classifier_examples(train)
    weights = fit(texts, labels, families)
    payload = {
        "format": FORMAT,
        "features": "binary word unigrams (w:), bigrams (b:) and character 4-grams of words (c:), L2-normalised over "
                    "the window's distinct features",
        "trained_on": {"attack_texts": sum(labels), "benign_texts": len(labels) - sum(labels), "C": C,
                       "min_df": MIN_DF, "families": sorted({s.family for s in train})},
        "threshold": threshold,
        "calibration": f"leave-one-family-out request scores of the training families, at most {TARGET_FPR:.0%} "
                       "of benign requests flagged",
        "bias": 0.0,
        "weights": dict(sorted(weights.items())),
    }
    args.out.write_text(json.dumps(payload, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(weights)} weights, {args.out.stat().st_size} bytes), threshold {threshold}")
    if args.report:
        _print_rates("out-of-family (training families)", train, oof, threshold)
        test = held_out(samples)
        score = request_scorer(InjectionDetector(weights, 0.0))
        _print_rates("held-out families, whole requests", test, [score(s) for s in test], threshold)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
