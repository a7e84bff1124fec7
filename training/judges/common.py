"""What the model judges' training scripts share: embeddings computed once per text, the logistic regression they
fit, and their command line (``--evaluate``, ``--set``, ``--sets``, ``--out``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from deployments.judges.logistic import LogisticClassifier

__all__ = ["CachedEmbeddings", "command_line", "fit_logistic", "logistic"]


class CachedEmbeddings:
    """Every text embedded once (the model is the gateway's: all-MiniLM-L6-v2)."""

    def __init__(self) -> None:
        from deployments.cache.embedder import shared_embedder

        self._embedder = shared_embedder()
        self._cache: dict[str, np.ndarray] = {}

    def __call__(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            for text, vec in zip(missing, self._embedder.embed(missing), strict=True):
                self._cache[text] = vec
        return np.stack([self._cache[t] for t in texts])


def fit_logistic(x: np.ndarray, y: np.ndarray, c: float) -> dict[str, np.ndarray]:
    """scikit-learn's L2 logistic regression on standardised features, as the arrays the judge loads."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    model = LogisticRegression(C=c, max_iter=5000).fit((x - mean) / scale, y)
    return {"mean": mean.astype(np.float32), "scale": scale.astype(np.float32),
            "coef": model.coef_[0].astype(np.float32), "intercept": np.float64(model.intercept_[0])}


def logistic(weights: dict[str, np.ndarray], threshold: float) -> LogisticClassifier:
    return LogisticClassifier(weights["mean"], weights["scale"], weights["coef"], float(weights["intercept"]),
                              threshold)


def command_line(doc: str | None, weights: Path, held_out: str, training_sets: Sequence[str],
                 train: Callable[[Path, Sequence[str]], None], evaluate: Callable[[Path, str], None],
                 argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=weights)
    parser.add_argument("--evaluate", action="store_true", help="score the held-out set with the weights at --out")
    parser.add_argument("--set", default=held_out, help="the set --evaluate scores")
    parser.add_argument("--sets", default=",".join(training_sets), help="the training sets, comma-separated")
    args = parser.parse_args(argv)
    if args.evaluate:
        evaluate(args.out, args.set)
    else:
        train(args.out, args.sets.split(","))
    return 0
