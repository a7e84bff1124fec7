"""The detectors compared before one was shipped, each behind the same rules, views, windows and request logic.

- ``ngram``: the shipped word uni/bigram logistic regression (``train.fit``).
- ``embedding``: logistic regression on all-MiniLM-L6-v2 sentence embeddings, the model the
  gateway already loads for its cache.
- ``finetuned``: all-MiniLM-L6-v2 fine-tuned end to end as a pair-less text classifier
  (one epoch on CPU, sequence length 128, AdamW 3e-5).
- ``rules``: the rules alone (no classifier).

Each candidate is an ``InjectionDetector`` whose ``window_score`` is its classifier, so the
comparison isolates the classifier: selection of untrusted roles, windowing, de-obfuscation
and the rules are the same for all. Window scores are memoised per text (evaluation scores
the same windows many times).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from deployments.guardrail.injection import InjectionDetector

__all__ = ["EmbeddingDetector", "FinetunedDetector", "rules_only", "train_embedding", "train_finetuned"]

FINETUNE_MAX_LENGTH = 128
FINETUNE_EPOCHS = 1
FINETUNE_BATCH = 16
FINETUNE_LR = 3e-5


def rules_only() -> InjectionDetector:
    return InjectionDetector({}, -20.0)


class EmbeddingDetector(InjectionDetector):
    """Logistic regression on MiniLM embeddings in place of the n-gram model."""

    def __init__(self, embedder: Any, coef: Sequence[float], intercept: float) -> None:
        super().__init__({}, 0.0)
        self._embedder = embedder
        self._coef = list(coef)
        self._intercept = intercept
        self._memo: dict[str, float] = {}

    def prime(self, texts: Sequence[str]) -> None:
        """Embed many windows in batches (evaluation speed); ``window_score`` then looks them up."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if todo:
            vectors = self._embedder.embed(todo)
            for text, vector in zip(todo, vectors, strict=True):
                self._memo[text] = _logistic(float(vector @ self._coef) + self._intercept)

    def window_score(self, text: str) -> float:
        if text not in self._memo:
            self.prime([text])
        return self._memo[text]


def train_embedding(embedder: Any, texts: Sequence[str], labels: Sequence[int]) -> EmbeddingDetector:
    from sklearn.linear_model import LogisticRegression

    vectors = embedder.embed(list(texts))
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000, random_state=0)
    model.fit(vectors, list(labels))
    return EmbeddingDetector(embedder, model.coef_[0].tolist(), float(model.intercept_[0]))


class FinetunedDetector(InjectionDetector):
    """A fine-tuned MiniLM sequence classifier in place of the n-gram model."""

    def __init__(self, model: Any, tokenizer: Any) -> None:
        super().__init__({}, 0.0)
        self._model = model
        self._tokenizer = tokenizer
        self._memo: dict[str, float] = {}

    def prime(self, texts: Sequence[str], batch: int = 32) -> None:
        import torch

        todo = [t for t in dict.fromkeys(texts) if t not in self._memo]
        self._model.eval()
        with torch.inference_mode():
            for i in range(0, len(todo), batch):
                chunk = todo[i : i + batch]
                encoded = self._tokenizer(chunk, truncation=True, max_length=FINETUNE_MAX_LENGTH, padding=True,
                                          return_tensors="pt")
                probs = torch.softmax(self._model(**encoded).logits, dim=-1)[:, 1].tolist()
                self._memo.update(zip(chunk, probs, strict=True))

    def window_score(self, text: str) -> float:
        if text not in self._memo:
            self.prime([text])
        return self._memo[text]


def train_finetuned(model_path: str, texts: Sequence[str], labels: Sequence[int], seed: int = 0) -> FinetunedDetector:
    """Fine-tune MiniLM for ``FINETUNE_EPOCHS`` on CPU; classes weighted by their inverse frequency."""
    import random

    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForSequenceClassification.from_pretrained(model_path, num_labels=2)
    positives = sum(labels)
    weight = torch.tensor([len(labels) / (2 * (len(labels) - positives)), len(labels) / (2 * positives)])
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
    optimiser = torch.optim.AdamW(model.parameters(), lr=FINETUNE_LR)
    order = list(range(len(texts)))
    rng = random.Random(seed)
    model.train()
    for _ in range(FINETUNE_EPOCHS):
        rng.shuffle(order)
        for i in range(0, len(order), FINETUNE_BATCH):
            idx = order[i : i + FINETUNE_BATCH]
            encoded = tokenizer([texts[j] for j in idx], truncation=True, max_length=FINETUNE_MAX_LENGTH,
                                padding=True, return_tensors="pt")
            loss = loss_fn(model(**encoded).logits, torch.tensor([labels[j] for j in idx]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return FinetunedDetector(model, tokenizer)


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
