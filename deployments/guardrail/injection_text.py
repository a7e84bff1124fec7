"""What the injection detector reads: windows over long texts, and de-obfuscated views of a text.

An attack hidden at the end of a 20-page document must be found, so a text is read in
overlapping windows over its whole length (``windows``). An attack written so that word
features miss it (``1gn0r3``, ``i g n o r e``, Cyrillic look-alike letters, zero-width
characters, base64) is read again after undoing the obfuscation (``deobfuscated``); each
step runs only when its sign is present, so ordinary text costs one scan per step.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import json
import re
import unicodedata
import urllib.parse
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources

__all__ = ["WINDOW_CHARS", "WINDOW_OVERLAP", "deobfuscated", "windows"]

WINDOW_CHARS = 2000
WINDOW_OVERLAP = 400  # longer than any attack sentence the heuristics look for


def windows(text: str, size: int = WINDOW_CHARS, overlap: int = WINDOW_OVERLAP) -> Iterator[str]:
    """``text`` in windows of ``size`` characters, each overlapping the last by ``overlap``.

    Cuts move to the next whitespace, so words are not split. A text no longer than
    ``size`` is one window.
    """
    if len(text) <= size:
        yield text
        return
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            space = text.find(" ", end)
            end = space if 0 <= space < end + 40 else end
        yield text[start:end]
        if end >= len(text):
            return
        nxt = end - overlap
        space = text.find(" ", nxt)
        start = space + 1 if 0 <= space < end else nxt


_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad]")
_MIXED_SCRIPT_WORD = re.compile(r"\w*[^\W\d_a-zA-Z]\w*")
_LEET_WORD = re.compile(r"(?<![\w$@])(?=[\w$@]*[a-zA-Z])(?=[\w$@]*[013457@$])[a-zA-Z013457@$]{3,}(?![\w$@])")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
# "i g n o r e  a l l" or "i-g-n-o-r-e": three or more single letters with the same separator.
_SPACED = re.compile(r"(?<!\w)(?:[a-zA-Z][ .\-_*]){2,}[a-zA-Z](?!\w)")
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_PERCENT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2}){6,}")
_HEX_RUN = re.compile(r"\b(?:[0-9A-Fa-f]{2}[ :]){7,}[0-9A-Fa-f]{2}\b")
# Emoji and pictographs between words ("forget 🙂 your 🙂 rules") are separators to a reader.
_SYMBOLS = re.compile("[\u2190-\u2bff\u2e00-\u2e7f\U0001f000-\U0001faff\ufe0f]+")
_ROT13_SIGN = re.compile(r"(?i)\brot-?13\b")
_REVERSED_SIGN = re.compile(r"(?i)\b(?:reversed?|backwards?)\b")


@lru_cache(maxsize=1)
def _latin_lookalikes() -> dict[int, str]:
    """Unicode's confusables (UTS #39, as shipped by ``confusable_homoglyphs``): letter -> the ASCII letter it imitates."""
    data = json.loads((resources.files("confusable_homoglyphs") / "confusables.json").read_text(encoding="utf-8"))
    table: dict[int, str] = {}
    for char, entries in data.items():
        if len(char) != 1 or char.isascii():
            continue
        for entry in entries:
            glyph = entry.get("c", "")
            if len(glyph) == 1 and glyph.isascii() and glyph.isalpha():
                table[ord(char)] = glyph
                break
    return table


def _fold_word(match: re.Match[str]) -> str:
    word = match.group(0)
    # Only a word that mixes Latin with look-alike letters is folded; Russian or Greek text stays itself.
    if any("a" <= c.lower() <= "z" for c in word):
        return word.translate(_latin_lookalikes())
    return word


def _unleet(match: re.Match[str]) -> str:
    word = match.group(0)
    letters = sum(c.isalpha() for c in word)
    # "h4x0r" and "1gn0r3" are words with digits for letters; "v2", "3rd", "a1b2c3d4" are not.
    return word.translate(_LEET).lower() if letters >= 2 and not word.isdigit() else word


def _unspace(match: re.Match[str]) -> str:
    return re.sub(r"[ .\-_*]", "", match.group(0))


def _decoded_base64(text: str) -> list[str]:
    out = []
    for match in _BASE64.finditer(text):
        run = match.group(0)
        try:
            raw = base64.b64decode(run + "=" * (-len(run) % 4), validate=True)
        except (binascii.Error, ValueError):
            continue
        try:
            decoded = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        # Keys and hashes decode to bytes; only decoded prose (mostly letters and spaces) is worth reading.
        letters = sum(c.isalpha() or c == " " for c in decoded)
        if len(decoded) >= 8 and letters >= 0.8 * len(decoded) and " " in decoded:
            out.append(decoded)
    return out


def _decoded_escapes(text: str) -> list[str]:
    out = [urllib.parse.unquote(run) for run in _PERCENT_RUN.findall(text)]
    for run in _HEX_RUN.findall(text):
        try:
            out.append(bytes.fromhex(re.sub(r"[ :]", "", run)).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
    return [d for d in out if sum(c.isalpha() or c == " " for c in d) >= 0.8 * len(d)]


def deobfuscated(text: str) -> str | None:
    """``text`` with obfuscation undone, or ``None`` when there was nothing to undo.

    Zero-width characters are removed, Unicode is NFKC-normalised (fullwidth and styled
    letters), emoji between words become spaces, look-alike letters in words that mix them
    with Latin are replaced by the Latin letters they imitate, leetspeak words and spaced-out
    letters are rejoined, base64, percent-encoded and hex runs that decode to prose are
    appended decoded, and ROT13 or reversed text is appended decoded when the text says so.
    """
    view = _ZERO_WIDTH.sub("", text)
    view = unicodedata.normalize("NFKC", view)
    view = _SYMBOLS.sub(" ", view)
    view = _MIXED_SCRIPT_WORD.sub(_fold_word, view)
    view = _LEET_WORD.sub(_unleet, view)
    view = _SPACED.sub(_unspace, view)
    extra = _decoded_base64(view) + _decoded_escapes(view) if len(view) >= 16 else []
    if _ROT13_SIGN.search(view):
        extra.append(codecs.decode(view, "rot13"))
    if _REVERSED_SIGN.search(view):
        extra.append(view[::-1])
    if extra:
        view = view + "\n" + "\n".join(extra)
    return None if view == text else view
