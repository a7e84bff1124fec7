"""An answer split into sentences and list items: the unit the model judges embed and compare."""

from __future__ import annotations

import re

__all__ = ["MAX_SENTENCES", "sentences"]

MAX_SENTENCES = 64  # of an answer, the first ones: a 10 KB answer is judged on about its first 6 KB
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+|(?<=\S)\s+(?=(?:\d+[.)]|[-*•])\s)")
_MIN_WORDS = 3


def sentences(answer: str) -> list[str]:
    """The answer's sentences and list items of at least three words (the whole answer when it has none)."""
    parts = [p.strip(" \t-*•") for p in _SENTENCE_END.split(answer)]
    kept = [p for p in parts if len(p.split()) >= _MIN_WORDS]
    return kept[:MAX_SENTENCES] or [answer.strip()[:2000]]
