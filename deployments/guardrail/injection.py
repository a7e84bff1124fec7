"""Prompt-injection and jailbreak scoring of one text: named rules plus a small linear classifier.

The classifier is logistic regression over binary word unigrams and bigrams of the
lowercased text, L2-normalised over the window's distinct features. Its weights are
plain JSON (``injection_weights.json``, written by ``python -m training.injection.train``),
so scoring needs no ML library: tokenise, look up, sum, sigmoid. ``featurize`` is shared
with the training code, which is what keeps the two in step.

A text is read whole: the classifier scores every window of it (``injection_text.windows``)
and the rules (``injection_rules``) run over all of it, on the text as written and on its
de-obfuscated view. A text that only mentions attacks (translate or proofread this, "how do
'ignore previous instructions' attacks work?") is discounted as ``injection_rules`` explains. The score is the largest of the classifier's probabilities and the
weights of the matching rules; the classifier's logit is damped for windows shorter than
sixteen tokens, where a single word would otherwise decide.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from deployments.guardrail.injection_rules import (
    MENTION_WEIGHT,
    is_framed_as_mention,
    matching_rules,
    without_quotes,
)
from deployments.guardrail.injection_text import deobfuscated, windows

__all__ = ["DEFAULT_WEIGHTS_PATH", "InjectionDetector", "InjectionResult", "default_injection_detector", "featurize"]

DEFAULT_WEIGHTS_PATH = Path(__file__).parent / "injection_weights.json"
WEIGHTS_FORMATS = ("tollgate-injection-v1", "tollgate-injection-v2")
MAX_TOKENS = 512  # a window never holds more tokens than this
CHAR_NGRAMS = True

_TOKEN = re.compile(r"\+?\d[\d\-./:()]*\d|[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]")


def _shape(token: str) -> str:
    # Numbers and random identifiers say nothing about intent; their shape is the feature,
    # so a phone number or an API key is not an unknown (and so suspicious) token.
    if token[0] in "+0123456789" and all(c in "+0123456789-./:()" for c in token):
        return "<num>"
    if len(token) >= 8 and not token.isalpha() and any(c.isdigit() for c in token):
        return "<id>"
    return token


def _tokens(text: str, max_tokens: int) -> list[str]:
    # A token is rarely longer than 8 characters with its separator, so the first
    # 8 * max_tokens characters hold the tokens needed; the rest is never tokenised.
    return [_shape(t) for t in _TOKEN.findall(text[: 8 * max_tokens].lower())[:max_tokens]]


def _features(tokens: list[str]) -> set[str]:
    # "w:<s>" is in every text and normalised like the rest: the model's prior.
    features = {"w:<s>"}
    features.update("w:" + t for t in tokens)
    features.update(f"b:{a} {b}" for a, b in itertools.pairwise(tokens))
    if CHAR_NGRAMS:
        for token in set(tokens):
            features.update(_char_grams(token))
    return features


@lru_cache(maxsize=1 << 16)
def _char_grams(token: str) -> tuple[str, ...]:
    # Character 4-grams of each word, with its boundaries: "ignoring", "ignorez" and "ignoriere"
    # share "<ign", "igno", "gnor", which unseen inflections and languages also have. Cached: the
    # same words come back in every window, view and request.
    if len(token) < 3 or not token[0].isalpha():
        return ()
    padded = f"<{token}>"
    return tuple("c:" + padded[i : i + 4] for i in range(len(padded) - 3))


def featurize(text: str, max_tokens: int = MAX_TOKENS) -> set[str]:
    """Distinct ``w:<token>`` and ``b:<token> <token>`` features of the first ``max_tokens`` tokens, and ``w:<s>``."""
    return _features(_tokens(text, max_tokens))


@dataclass(frozen=True)
class InjectionResult:
    """A score in [0, 1] and the reasons behind it (rule names, ``classifier``)."""

    score: float
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"score": round(self.score, 4), "reasons": list(self.reasons)}


class InjectionDetector:
    """Scores texts; construct with ``from_file`` or pass the weights directly.

    ``threshold`` is the operating point the weights were calibrated for (the policy's
    default threshold); ``classifier_reason_at`` is where the classifier starts to be
    named among the reasons.
    """

    def __init__(self, weights: dict[str, float], bias: float, classifier_reason_at: float = 0.5,
                 *, threshold: float | None = None) -> None:
        self.weights = weights
        self.bias = bias
        self.classifier_reason_at = classifier_reason_at
        self.threshold = threshold

    @classmethod
    def from_file(cls, path: Path | str = DEFAULT_WEIGHTS_PATH) -> InjectionDetector:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        if data.get("format") not in WEIGHTS_FORMATS:
            raise ValueError(f"{path} is not an injection weights file; regenerate it with "
                             "python -m training.injection.train")
        threshold = data.get("threshold")
        return cls({k: float(v) for k, v in data["weights"].items()}, float(data["bias"]),
                   threshold=float(threshold) if threshold is not None else None)

    def window_score(self, text: str) -> float:
        """The classifier's probability for one window (its first ``MAX_TOKENS`` tokens)."""
        tokens = _tokens(text, MAX_TOKENS)
        features = _features(tokens)
        # filter(None, …) drops the features without a weight (None) and those weighted 0: the same sum, in C.
        logit = self.bias + sum(filter(None, map(self.weights.get, features))) / math.sqrt(len(features))
        # A text of a few words ("thanks!", "hello") gives the model too little evidence:
        # its logit is damped below 16 tokens, and the rules carry short attacks.
        return _sigmoid(logit * min(1.0, len(tokens) / _FULL_EVIDENCE_TOKENS))

    def classifier_score(self, text: str) -> float:
        """The classifier's highest probability over the windows of ``text``."""
        return max(self.window_score(window) for window in windows(text))

    def rule_hits(self, text: str) -> list[tuple[str, float]]:
        """(reason, weight) of each rule that matches ``text``."""
        return [(rule.reason, weight) for rule, weight in matching_rules(text)]

    def score(self, text: str) -> InjectionResult:
        """The text's score: its own and its de-obfuscated view's, whichever is higher."""
        result = self._score_view(text)
        view = deobfuscated(text)
        if view is not None:
            unmasked = self._score_view(view)
            if unmasked.score > result.score:
                return InjectionResult(unmasked.score, (*unmasked.reasons, "obfuscated"))
        return result

    def _score_view(self, text: str) -> InjectionResult:
        # A request to translate, proofread or classify a text, or a question quoting an attack,
        # mentions attack sentences without giving them: the classifier reads it without the
        # quotes and counts at most as a mention (the rules apply their own discount).
        unquoted = without_quotes(text)
        probability = self.classifier_score(unquoted if unquoted is not None else text) if text else 0.0
        if is_framed_as_mention(text):
            probability = min(probability, MENTION_WEIGHT)
        hits = self.rule_hits(text)
        reasons = [reason for reason, weight in hits if weight >= 0.5]
        if probability >= self.classifier_reason_at:
            reasons.append("classifier")
        return InjectionResult(max([probability, *(w for _, w in hits)]), tuple(reasons))


_FULL_EVIDENCE_TOKENS = 16


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@lru_cache(maxsize=1)
def default_injection_detector() -> InjectionDetector:
    """The detector with the shipped weights, loaded once per process."""
    return InjectionDetector.from_file()
