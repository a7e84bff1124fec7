"""``grounded``: every factual claim of the answer is supported by the retrieved context the request carried
(documents the client marked, tool results).

The answer is split into claims (sentences and list items); each claim is aligned with the context passage closest
to it in the embedding space of the model the gateway already loads (all-MiniLM-L6-v2), and compared with it on
what embeddings blur: the claim's content words, numbers, names and codes that the context never states, and a
negation the passage does not share. A claim that says the documents do not cover something is a statement about
the context, not about the world, and is not held to it. A small classifier trained across many domains turns the
worst claim's evidence and the answer's overall evidence into a score (``training/judges/train_grounded.py``;
docs/judges.md has its held-out figures per family).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import snowballstemmer

from deployments.judges.logistic import LogisticClassifier
from deployments.judges.sentences import sentences
from deployments.judges.verdict import JudgeInput, Verdict

__all__ = [
    "FEATURE_NAMES",
    "GroundedJudge",
    "abstains",
    "answer_features",
    "claims",
    "content_words",
    "context_units",
    "numbers",
]

DEFAULT_WEIGHTS = Path(__file__).with_name("grounded_weights.npz")
MAX_CONTEXT_UNITS = 160  # of the context, the first passages: about 16 KB of prose
MAX_CLAIMS = 32

Embed = Callable[[list[str]], np.ndarray]  # texts -> unit-length rows

_WORD = re.compile(r"[a-z][a-z']*[a-z]|[a-z]")
_NUMBER = re.compile(r"(?<![\d.,])\d[\d,]*(?:\.\d+)?")  # also inside codes and dates: 2024-05-07, T13:42
_CODE = re.compile(r"\b(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z\d][\w-]*\b")  # letters and digits: SKU-42, X200, v2
_CAPITALISED = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][a-zA-Z]+\b")
_NEGATION = re.compile(r"\b(?:not|no|never|none|nor|neither|without|cannot|can't|won't|isn't|aren't|wasn't|"
                       r"weren't|doesn't|don't|didn't|hasn't|haven't|hadn't|shouldn't|mustn't|excluded|ineligible|"
                       r"non-refundable|prohibited)\b", re.IGNORECASE)
# A sentence about what the context does not say: a negation near a reference to the documents, or the assistant
# saying it cannot tell. ("Water damage is not covered" is a claim about the world, and is not matched.)
_DOCUMENT = (r"(?:page|pages|documents?|docs?|records?|section|terms|notice|sheet|results?|context|article|excerpts?|"
             r"passages?|sources?|material|calendar|listing|log|data|information|kb-?\d*|here|manual|guide|faq)")
_ABSTAIN = re.compile(
    r"\b(?:not|no|nothing|never|none|isn't|aren't|doesn't|don't|didn't|without)\b[^.;!?]{0,60}\b" + _DOCUMENT + r"\b"
    r"|\b" + _DOCUMENT + r"\b[^.;!?]{0,60}\b(?:not|no|nothing|never|none|isn't|aren't|doesn't|don't|only)\b"
    r"|\b(?:i|we)\s+(?:can't|cannot|can not|couldn't|could not|don't|do not|am unable to|have no)\s+"
    r"(?:\w+\s+){0,2}(?:confirm|tell|say|see|find|answer|know|give|break|work out|have|speak)"
    r"|\bnothing\s+(?:here|to go on)", re.IGNORECASE)
_NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "fifteen": "15", "twenty": "20",
    "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "ninety": "90", "hundred": "100",
    "once": "1", "twice": "2", "single": "1", "double": "2", "half": "50", "dozen": "12",
}
_STOP = frozenset("""
a about above after again against all also am an and any are as at be because been before being below between both
but by can could did do does doing down during each either else etc even ever every few for from further get gets
got had has have having he her here hers him his how i if in into is it its itself just let me more most my
no nor not of off on once only or other our ours out over own per same she should so some such than that the
their theirs them then there these they this those through to too under until up upon us very via was we were
what when where which while who whom why will with within would yes yet you your yours
around whether may might must shall
sure great hope helps help happy glad feel free questions question anything else thanks thank please note
answer based according documents document context information provided says said listed shown mentioned
since put go goes going went gone leave leaves leaving use uses used using add adds added need needs needed buy
keep keeps come comes came take takes took taken make makes made give gives given gets getting still new now
full least less much many lot just well way like want see look find try show tell know remain remains plain
extra another whole currently already simply right first instead though although however therefore thus means
versus vs able unable ok okay
""".split())  # noqa: SIM905 (a word list reads better as a block)
_STEMMER = snowballstemmer.stemmer("english")


def abstains(claim: str) -> bool:
    """Whether the claim says what the context does not cover, rather than stating a fact about the world."""
    return bool(_ABSTAIN.search(claim))


def claims(answer: str) -> list[str]:
    """The answer's claims: its sentences and list items (at least three words each)."""
    return sentences(answer)[:MAX_CLAIMS]


def context_units(context: str) -> list[str]:
    """The context as passages to align claims with: its sentences, and for a JSON tool result one line per
    field (``order status shipped``)."""
    units: list[str] = []
    for block in re.split(r"\n\s*\n", context):
        data = _json(block)
        if data is not None:
            units += [f"{path} {value}".strip() for path, value in _flatten(data)]
        else:
            units += sentences(block)
    return [u for u in units if u.strip()][:MAX_CONTEXT_UNITS] or [context[:2000]]


def _json(block: str) -> Any:
    text = block.strip()
    if not text or text[0] not in "[{":
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested beyond what the parser follows: read it as prose
        return None


def _flatten(data: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _flatten(value, f"{path} {str(key).replace('_', ' ')}".strip())
    elif isinstance(data, list):
        for value in data:
            yield from _flatten(value, path)
    else:
        yield path, "" if data is None else str(data)


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def content_words(text: str) -> set[str]:
    """Snowball stems of the words that carry content (not function words, not contractions such as "it's")."""
    return {_stem(w) for w in _WORD.findall(text.lower().replace("’", "'"))
            if w not in _STOP and w not in _NUMBER_WORDS and len(w) > 1 and "'" not in w}


def numbers(text: str) -> set[str]:
    found = {_number(n) for n in _NUMBER.findall(text)}
    found |= {_NUMBER_WORDS[w] for w in _WORD.findall(text.lower()) if w in _NUMBER_WORDS}
    return found


def _number(raw: str) -> str:
    value = raw.replace(",", "")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value.lstrip("0") or "0"  # "07" in a date is 7


def names(text: str) -> set[str]:
    """Codes and capitalised words that are not a sentence's first word."""
    found = {m.lower() for m in _CODE.findall(text)}
    found |= {m.lower() for m in _CAPITALISED.findall(text) if m.lower() not in _STOP}
    return found


@dataclass(frozen=True)
class _Context:
    units: list[str]
    vectors: np.ndarray       # (n, d)
    words: set[str]
    numbers: set[str]
    text: str                 # lower case, for names


FEATURE_NAMES = (
    "min_similarity", "mean_similarity", "min_window_coverage", "mean_window_coverage", "min_coverage",
    "mean_coverage", "max_missing_words", "max_missing_numbers", "any_missing_number", "max_missing_names",
    "negation_mismatches", "unsupported_claims", "claims", "abstaining_claims", "answer_similarity",
)


def _claim_evidence(claim: str, vector: np.ndarray, ctx: _Context) -> tuple[float, ...]:
    sims = ctx.vectors @ vector
    best = int(np.argmax(sims))
    window = " ".join(ctx.units[max(0, best - 1): best + 2])
    words = content_words(claim)
    window_words = content_words(window)
    missing = words - ctx.words
    coverage = 1.0 - len(missing) / len(words) if words else 1.0
    window_coverage = len(words & window_words) / len(words) if words else 1.0
    missing_numbers = numbers(claim) - ctx.numbers
    missing_names = {n for n in names(claim) if n not in ctx.text}
    negation = bool(_NEGATION.search(claim)) != bool(_NEGATION.search(ctx.units[best]))
    return (float(sims[best]), window_coverage, coverage, float(len(missing)), float(len(missing_numbers)),
            float(len(missing_names)), float(negation))


def answer_features(answer_claims: Sequence[str], claim_vectors: np.ndarray, answer_vector: np.ndarray,
                    ctx: _Context) -> np.ndarray:
    """One row of FEATURE_NAMES for (answer, context): the worst claim's evidence and the answer's overall. Claims
    that say what the context does not cover, and claims without a content word, are not held to the context."""
    abstaining = [abstains(c) for c in answer_claims]
    factual = [(c, v) for c, v, a in zip(answer_claims, claim_vectors, abstaining, strict=True)
               if not a and content_words(c)]  # "Hope that helps!" states nothing
    if not factual:
        evidence = np.array([[1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]])
    else:
        evidence = np.array([_claim_evidence(c, v, ctx) for c, v in factual])
    sim, window_cov, cov, missing_words, missing_numbers, missing_names, negation = evidence.T
    unsupported = float(np.sum((cov < 0.75) | (missing_numbers > 0)))
    return np.array([
        sim.min(), sim.mean(), window_cov.min(), window_cov.mean(), cov.min(), cov.mean(), missing_words.max(),
        missing_numbers.max(), float(missing_numbers.max() > 0), missing_names.max(), negation.sum(), unsupported,
        np.log1p(len(factual)), float(sum(abstaining)), float(np.max(ctx.vectors @ answer_vector)),
    ], dtype=np.float32)


def featurise(answer: str, context: str, embed: Embed) -> np.ndarray:
    """The features of one (answer, context) pair, embedding its claims, the answer and the context in one call."""
    answer_claims = claims(answer)
    units = context_units(context)
    vectors = embed([*answer_claims, answer, *units])
    n = len(answer_claims)
    ctx = _Context(units, vectors[n + 1:], content_words(context), numbers(context), context.lower())
    return answer_features(answer_claims, vectors[:n], vectors[n], ctx)


class GroundedJudge:
    """Fails an answer with a claim its context does not support; passes when the request carried no context."""

    name = "grounded"

    def __init__(self, threshold: float | None = None, embed: Embed | None = None,
                 classifier: LogisticClassifier | None = None) -> None:
        if embed is None:
            from deployments.cache.embedder import shared_embedder

            embed = shared_embedder().embed
        self._embed = embed
        self._classifier = classifier or LogisticClassifier.load(DEFAULT_WEIGHTS)
        self.threshold = self._classifier.threshold if threshold is None else float(threshold)

    def score(self, answer: str, context: str) -> float:
        return float(self._classifier.predict(featurise(answer, context, self._embed))[0])

    def judge(self, item: JudgeInput) -> Verdict:
        if not item.context or not item.context.strip():
            return Verdict(self.name, True, 0.0, "no context to check the answer against")
        if not item.answer.strip():
            return Verdict(self.name, True, 0.0, "nothing to judge")
        score = self.score(item.answer, item.context)
        if score >= self.threshold:
            return Verdict(self.name, False, score, "a claim of the answer is not supported by the context")
        return Verdict(self.name, True, score, "the answer's claims are supported by the context")
