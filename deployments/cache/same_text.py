"""Questions that are the same text but for typos, case, punctuation, courtesy words and acronyms spelled out: served
without asking the model, whose reading of a misspelt word or an acronym is a guess.

Runs after the structured checks (deployments/cache/conflicts.py), so a number, unit, identifier or name that
differs has already refused the pair; what is left to forgive here is a misspelling of a word of four letters or
more (at most two such words, each within two edits) and the greetings and thanks around a question. Two words
that are both real words ("increase"/"decrease", "import"/"export") are never a misspelling of each other: a real
word is one of the embedding model's own WordPiece vocabulary (about 30k English words, shipped with the model)."""

from __future__ import annotations

import functools
import re

from deployments.cache.verifier import _WORD

__all__ = ["same_question"]

_COURTESY = re.compile(
    r"\b(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening)|dear \w+|thanks?(?: you)?(?: so much| a lot| in advance)?"
    r"|thx|ty|cheers|please|pls|plz|kindly|quick question|just a quick one|quick one|sorry to bother you"
    r"|any help (?:is )?appreciated|much appreciated|i was wondering|can you tell me|could you tell me)\b")
_MAX_TYPOS = 2
_ACRONYM = re.compile(r"\b[A-Z]{2,6}\b")  # written in capitals: "SLA", "APR"; not "an" or "it"


@functools.cache
def _vocabulary() -> frozenset[str]:
    from deployments.cache.embedder import bundled_model_path

    with open(bundled_model_path() / "vocab.txt", encoding="utf-8") as fh:
        return frozenset(line.strip() for line in fh if line.strip().isalpha())


def _words(text: str) -> list[str]:
    return _WORD.findall(_COURTESY.sub(" ", text.lower().replace("\u2019", "'").replace("'", "")))


def _within_two_edits(a: str, b: str) -> bool:
    """Damerau–Levenshtein distance ≤ 2 (adjacent swaps count once), banded: the words are short."""
    if abs(len(a) - len(b)) > 2:
        return False
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > 2:
            return False
        previous2, previous = previous, current
    return previous[-1] <= 2


def _spelled_out(words: list[str], acronyms: set[str], other: list[str]) -> list[str]:
    """``words`` with each acronym replaced by the words of ``other`` at the same place whose initials spell it
    ("our SLA for" / "our service level agreement for")."""
    out: list[str] = []
    for word in words:
        start = len(out)
        run = other[start:start + len(word)]
        if word in acronyms and len(run) == len(word) and "".join(w[0] for w in run) == word:
            out += run
        else:
            out.append(word)
    return out


def same_question(query: str, candidate: str) -> bool:
    """The same words in the same order, but for courtesy words, acronyms spelled out on the other side and up to two
    misspelt words."""
    a, b = _words(query), _words(candidate)
    if len(a) != len(b):
        a = _spelled_out(a, {m.lower() for m in _ACRONYM.findall(query)}, b)
        b = _spelled_out(b, {m.lower() for m in _ACRONYM.findall(candidate)}, a)
    if not a or len(a) != len(b):
        return False
    typos = 0
    for x, y in zip(a, b, strict=True):
        if x == y:
            continue
        if min(len(x), len(y)) < 4 or x.isdigit() or y.isdigit() or not _within_two_edits(x, y):
            return False
        if x in _vocabulary() and y in _vocabulary():
            return False  # two real words: a different word, not a misspelling
        typos += 1
        if typos > _MAX_TYPOS:
            return False
    return True
