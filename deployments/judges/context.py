"""The retrieved context a request carries, which the ``grounded`` judge holds an answer to: the texts of its tool
results, and documents the client marks in a user, system or developer message with ``<context>``,
``<documents>``/``<document>``, ``<retrieved>`` or ``<sources>`` tags."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from deployments.judges.verdict import message_text

__all__ = ["retrieved_context"]

_MARKED = re.compile(r"<(context|documents?|retrieved|sources?)\b[^>]*>(.*?)</\1\s*>", re.DOTALL | re.IGNORECASE)


def retrieved_context(messages: Sequence[dict[str, Any]]) -> str | None:
    """The context's texts joined by blank lines, or None when the request carries none."""
    texts: list[str] = []
    for message in messages:
        role = message.get("role")
        if role == "tool":
            texts.append(message_text(message).strip())
        elif role in ("user", "system", "developer"):
            texts += [marked.strip() for _, marked in _MARKED.findall(message_text(message))]
    return "\n\n".join(t for t in texts if t) or None
