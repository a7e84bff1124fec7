"""The retrieved context a request carries, which the ``grounded`` judge holds an answer to: the texts of its tool
results, and documents the client marks in a user, system or developer message with ``<context>``,
``<documents>``/``<document>``, ``<retrieved>`` or ``<sources>`` tags."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from deployments.judges.verdict import message_text

__all__ = ["marked_documents", "retrieved_context"]

_OPENING = re.compile(r"<(context|documents?|retrieved|sources?)\b[^>]*>", re.IGNORECASE)


def marked_documents(text: str) -> list[str]:
    """The texts between an opening tag and its closing tag (outermost first; nested tags stay in the text).
    Linear in the text: a tag that is never closed is given up at once rather than searched for again."""
    lowered = text.lower()
    found: list[str] = []
    unclosed: set[str] = set()
    position = 0
    while (opening := _OPENING.search(text, position)) is not None:
        name = opening.group(1).lower()
        closing = -1 if name in unclosed else lowered.find(f"</{name}", opening.end())
        if closing < 0:
            unclosed.add(name)
            position = opening.end()
            continue
        found.append(text[opening.end():closing])
        position = lowered.find(">", closing) + 1 or len(text)
    return found


def retrieved_context(messages: Sequence[dict[str, Any]]) -> str | None:
    """The context's texts joined by blank lines, or None when the request carries none."""
    texts: list[str] = []
    for message in messages:
        role = message.get("role")
        if role == "tool":
            texts.append(message_text(message).strip())
        elif role in ("user", "system", "developer"):
            texts += [marked.strip() for marked in marked_documents(message_text(message))]
    return "\n\n".join(t for t in texts if t) or None
