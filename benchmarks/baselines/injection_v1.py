"""FROZEN BASELINE: the injection detector as it shipped before issue 14 (commit e72142e), for comparison only.

benchmarks/guardrails.py scores it beside the current detector; nothing in the product imports it.
The original docstring follows.

Prompt-injection and jailbreak detection: phrase heuristics plus a small linear classifier.

The classifier is logistic regression over binary word unigrams and bigrams of the
lowercased prompt, L2-normalised over the prompt's distinct features. Its weights are
plain JSON (``injection_weights.json``, written by ``train_injection.py``), so scoring
needs no ML library: tokenise, look up, sum, sigmoid. ``featurize`` is shared with the
training script, which is what keeps the two in step.

The heuristics name well-known attack shapes (override of earlier instructions,
system-prompt extraction, DAN / developer-mode role-play, "no restrictions" personas,
attacker scaffolding) and give the reasons a refusal reports; each runs only when its
trigger words occur. The score is the larger of the classifier's probability and the
strongest heuristic's weight; the classifier's logit is damped for prompts shorter than
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

__all__ = ["DEFAULT_WEIGHTS_PATH", "InjectionDetector", "InjectionResult", "default_injection_detector", "featurize"]

DEFAULT_WEIGHTS_PATH = Path(__file__).parent / "injection_weights_v1.json"
WEIGHTS_FORMAT = "tollgate-injection-v1"
MAX_TOKENS = 512  # the classifier reads the first 512 tokens; the heuristics read everything

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
    # "w:<s>" is in every prompt and normalised like the rest: the model's prior.
    features = {"w:<s>"}
    features.update("w:" + t for t in tokens)
    features.update(f"b:{a} {b}" for a, b in itertools.pairwise(tokens))
    return features


def featurize(text: str, max_tokens: int = MAX_TOKENS) -> set[str]:
    """Distinct ``w:<token>`` and ``b:<token> <token>`` features of the first ``max_tokens`` tokens, and ``w:<s>``."""
    return _features(_tokens(text, max_tokens))


@dataclass(frozen=True)
class _Heuristic:
    reason: str
    weight: float
    triggers: tuple[str, ...]
    pattern: re.Pattern[str]


_OBJECT = r"(?:instructions?|prompts?|rules|directions|directives|guidelines|programming|constraints|restrictions)"
_HIDDEN = r"(?:system|initial|hidden|original|secret|starting|pre-?)[ _-]?(?:prompt|instructions?|message)"
_HEURISTICS: tuple[_Heuristic, ...] = (
    _Heuristic(
        "ignore_previous_instructions",
        0.95,
        ("ignore", "disregard", "forget", "override", "bypass", "skip"),
        re.compile(
            r"(?i)\b(?:ignore|disregard|forget|override|bypass|skip)\s+(?:all\s+|any\s+|every\s+)?(?:of\s+)?"
            r"(?:the\s+|your\s+|my\s+|these\s+|those\s+)?(?:previous|prior|above|earlier|preceding|initial|original|"
            r"system|following|former|old)(?:\s+and\s+\w+)?\s+" + _OBJECT
        ),
    ),
    _Heuristic(
        "system_prompt_extraction",
        0.9,
        ("prompt", "instruction", "system", "configuration", "initial", "told", "above"),
        re.compile(
            # Addressed to the model ("your system prompt") or asked to be dumped; a developer
            # asking how to write a system prompt matches neither.
            r"(?i)\byour\s+"
            + _HIDDEN
            + r"|\b(?:show|print|repeat|reveal|output|display|leak|dump|encode|translate)\b[^.?!\n]{0,30}"
            + _HIDDEN
            + r"|systemprompt|instructions you were given|\b(?:your|my)\s+instructions\s+(?:are|were)"
            r"|\bthe system prompt is\b|(?:what|everything) (?:were|was) you told"
            r"|\b(?:repeat|output|print|show)\s+(?:me\s+)?(?:the|this|everything|all)?\s*(?:text|words|conversation)?"
            r"\s*(?:above|before this)\b"
        ),
    ),
    _Heuristic(
        "jailbreak_persona",
        0.9,
        ("dan", "developer mode", "jailbr", "do anything now", "stan", "dude", "aim", "evil", "uncensored"),
        re.compile(
            r"\b(?:DAN|STAN|DUDE|AIM)\b(?=[^\n]{0,200}(?i:mode|prompt|respond|answer|stands|character|persona))"
            r"|(?i:\bdo anything now\b|\bdeveloper mode\b|\buncensored\s+(?:ai|mode|model)|\bevil\s+(?:confidant|bot|ai)\b)"
            # "jailbreak my iPhone" is an ordinary question; a jailbroken *model* is not.
            r"|JAILBREAK|(?i:\bjailbr(?:oken|eak)\w*\b(?=[^\n]{0,40}\b(?:mode|prompt|version|response|chatgpt|gpt|ai"
            r"|assistant|model|persona)\b))"
        ),
    ),
    _Heuristic(
        "unrestricted_roleplay",
        0.85,
        ("restriction", "filter", "censor", "guideline", "rules", "limit", "moral", "ethic", "boundar"),
        re.compile(
            r"(?i)\b(?:you are|you're|act as|pretend|roleplay|role-play|from now on|simulate|imagine)\b[^\n]{0,160}?"
            r"\b(?:no|without|free (?:of|from)|not bound by|don't have|doesn't have|ignores?)\s+(?:any\s+)?"
            r"(?:ethical\s+|moral\s+|content\s+|safety\s+)?(?:restrictions?|filters?|censorship|guidelines|rules|limits"
            r"|limitations|morals|ethics|boundaries)"
        ),
    ),
    _Heuristic(
        "policy_evasion",
        0.8,
        ("polic",),
        re.compile(
            r"(?i)\b(?:ignore|bypass|break|violate|circumvent|not (?:follow|abide by|adhere to)|free from|without (?:following|respecting|regard (?:to|for)))\b"
            r"[^\n]{0,40}\b(?:openai|anthropic|content|safety|usage)(?:'s)?\s+(?:content\s+)?polic(?:y|ies)"
        ),
    ),
    _Heuristic(
        "attacker_scaffolding",
        0.8,
        ("red teaming", "jailbreaking", "[inst]", "language model output"),
        re.compile(r"(?i)red[- ]teaming assistant|jailbreaking (?:a|the) (?:language )?model|\[INST\].{0,200}red team"),
    ),
)


@dataclass(frozen=True)
class InjectionResult:
    """A score in [0, 1] and the reasons behind it (heuristic names, ``classifier``)."""

    score: float
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"score": round(self.score, 4), "reasons": list(self.reasons)}


class InjectionDetector:
    """Scores prompts; construct with ``from_file`` or pass the weights directly."""

    def __init__(self, weights: dict[str, float], bias: float, classifier_reason_at: float = 0.5) -> None:
        self.weights = weights
        self.bias = bias
        self.classifier_reason_at = classifier_reason_at

    @classmethod
    def from_file(cls, path: Path | str = DEFAULT_WEIGHTS_PATH) -> InjectionDetector:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        if data.get("format") != WEIGHTS_FORMAT:
            raise ValueError(f"{path} is not a {WEIGHTS_FORMAT} weights file; regenerate it with train_injection.py")
        return cls({k: float(v) for k, v in data["weights"].items()}, float(data["bias"]))

    def classifier_score(self, text: str) -> float:
        tokens = _tokens(text, MAX_TOKENS)
        features = _features(tokens)
        logit = self.bias + sum(self.weights.get(f, 0.0) for f in features) / math.sqrt(len(features))
        # A prompt of a few words ("thanks!", "hello") gives the model too little evidence:
        # its logit is damped below 16 tokens, and the heuristics carry short attacks.
        return _sigmoid(logit * min(1.0, len(tokens) / _FULL_EVIDENCE_TOKENS))

    def heuristics(self, text: str) -> list[tuple[str, float]]:
        """Heuristics that match; each pattern runs only near its trigger words."""
        lowered = text.lower()
        return [(h.reason, h.weight) for h in _HEURISTICS if _matches_near_triggers(h, text, lowered)]

    def score(self, text: str) -> InjectionResult:
        probability = self.classifier_score(text)
        hits = self.heuristics(text)
        reasons = [reason for reason, _ in hits]
        if probability >= self.classifier_reason_at:
            reasons.append("classifier")
        return InjectionResult(max([probability, *(w for _, w in hits)]), tuple(reasons))


_FULL_EVIDENCE_TOKENS = 16
_REACH = 300  # longer than any heuristic match, on either side of its trigger


def _matches_near_triggers(heuristic: _Heuristic, text: str, lowered: str) -> bool:
    # Every pattern's match contains one of its triggers, so searching windows around the
    # triggers finds the same matches as searching the whole text, at a fraction of the cost.
    windows: list[tuple[int, int]] = []
    for trigger in heuristic.triggers:
        i = lowered.find(trigger)
        while i >= 0:
            if i == 0 or not lowered[i - 1].isalpha():  # triggers start words
                windows.append((max(0, i - _REACH), min(len(text), i + len(trigger) + _REACH)))
            i = lowered.find(trigger, i + 1)
    windows.sort()
    merged: list[tuple[int, int]] = []
    for start, end in windows:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return any(heuristic.pattern.search(text, start, end) for start, end in merged)


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@lru_cache(maxsize=1)
def default_injection_detector() -> InjectionDetector:
    """The detector with the shipped weights, loaded once per process."""
    return InjectionDetector.from_file()
