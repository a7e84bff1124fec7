"""The model judges' classifier: a logistic regression on standardised features, evaluated in numpy from the
``.npz`` weights their training scripts write (``mean``, ``scale``, ``coef``, ``intercept``, ``threshold``)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

__all__ = ["LogisticClassifier"]


class LogisticClassifier:
    def __init__(self, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, intercept: float,
                 threshold: float) -> None:
        self.mean, self.scale = mean.astype(np.float32), scale.astype(np.float32)
        self.coef, self.intercept = coef.astype(np.float32), float(intercept)
        self.threshold = float(threshold)

    @classmethod
    @functools.cache
    def load(cls, path: Path) -> LogisticClassifier:
        with np.load(path) as w:
            return cls(w["mean"], w["scale"], w["coef"], float(w["intercept"]), float(w["threshold"]))

    def predict(self, features: np.ndarray) -> np.ndarray:
        """The probability of the positive class (the judge fails the answer) for each row of ``features``."""
        logits: np.ndarray = ((np.atleast_2d(features) - self.mean) / self.scale) @ self.coef + self.intercept
        probabilities: np.ndarray = 1.0 / (1.0 + np.exp(-logits))
        return probabilities
