"""Reversible redaction: values become ``[TYPE_n]`` placeholders and come back on the way out.

One ``RedactionState`` lives for one request: the same value gets the same placeholder
in every message of it, and the mapping placeholder → value is all that is needed to
restore the answer. A placeholder that the caller's own text already contains is
reserved, so restoring never turns the caller's literal ``[EMAIL_1]`` into a value.

Streaming: ``StreamRestorer.feed`` returns everything except a suffix that is still a
proper prefix of a known placeholder (``[EMA``); a placeholder split over chunks is
restored once complete. Placeholders contain no ``[`` after the first character, so
only the text from the last ``[`` can be such a prefix, and restoring the part before
it gives the same result as restoring the whole text at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from deployments.guardrail.findings import EntityType, Finding

__all__ = ["PLACEHOLDER_PATTERN", "RedactionState", "StreamRestorer", "redact", "restore"]

PLACEHOLDER_PATTERN = re.compile(r"\[[A-Z][A-Z_]*_\d+\]")


class RedactionState:
    """The placeholders of one request: ``placeholders`` maps each placeholder to its value."""

    def __init__(self, placeholders: Mapping[str, str] | None = None, reserved: Iterable[str] = ()) -> None:
        self.placeholders: dict[str, str] = dict(placeholders or {})
        self._by_value: dict[str, str] = {v: k for k, v in self.placeholders.items()}
        self._reserved: set[str] = set(reserved) | set(self.placeholders)
        self._next: dict[str, int] = {}

    def reserve(self, text: str) -> None:
        """Keep placeholder-shaped strings that the caller wrote from being handed out."""
        self._reserved.update(PLACEHOLDER_PATTERN.findall(text))

    def placeholder_for(self, entity: EntityType | str, value: str) -> str:
        existing = self._by_value.get(value)
        if existing is not None:
            return existing
        name = EntityType(entity).value
        n = self._next.get(name, 1)
        while f"[{name}_{n}]" in self._reserved:
            n += 1
        placeholder = f"[{name}_{n}]"
        self._next[name] = n + 1
        self._reserved.add(placeholder)
        self.placeholders[placeholder] = value
        self._by_value[value] = placeholder
        return placeholder

    def to_dict(self) -> dict[str, Any]:
        return {"placeholders": dict(self.placeholders)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RedactionState:
        return cls(data.get("placeholders", {}))


def redact(text: str, findings: Sequence[Finding], state: RedactionState) -> str:
    """Replace each finding's span with its placeholder; ``findings`` must not overlap."""
    if not findings:
        return text
    parts: list[str] = []
    last = 0
    for finding in sorted(findings, key=lambda f: f.start):
        parts.append(text[last : finding.start])
        parts.append(state.placeholder_for(finding.type, text[finding.start : finding.end]))
        last = finding.end
    parts.append(text[last:])
    return "".join(parts)


def restore(text: str, placeholders: Mapping[str, str]) -> str:
    """Put the caller's values back; placeholders not in the mapping stay as they are."""
    if not placeholders or "[" not in text:
        return text
    return PLACEHOLDER_PATTERN.sub(lambda m: placeholders.get(m.group(), m.group()), text)


class StreamRestorer:
    """Restores placeholders in a stream of text chunks, holding back only what must wait."""

    def __init__(self, placeholders: Mapping[str, str]) -> None:
        self.placeholders = dict(placeholders)
        self._prefixes = {p[:i] for p in self.placeholders for i in range(1, len(p))}
        self._longest = max((len(p) for p in self.placeholders), default=0)
        self._pending = ""

    @property
    def pending(self) -> str:
        """Text held back because it may still become a placeholder."""
        return self._pending

    def feed(self, chunk: str) -> str:
        text = self._pending + chunk
        self._pending = ""
        if not self._prefixes:
            return text
        start = text.rfind("[", max(0, len(text) - self._longest))
        if start >= 0 and text[start:] in self._prefixes:
            text, self._pending = text[:start], text[start:]
        return restore(text, self.placeholders)

    def flush(self) -> str:
        """Release what is held (end of stream, or before a non-text part)."""
        text, self._pending = self._pending, ""
        return restore(text, self.placeholders)
