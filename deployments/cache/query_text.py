"""Which text of a chat request is embedded: the last message, when it is a text-only user message.

The cache keys and compares on it, and the tier classifier scores its embedding, so both take it from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["last_user_text", "message_text"]


def message_text(message: Mapping[str, Any]) -> str | None:
    """A message's text when it is only text (a string, or a list of text parts joined with newlines)."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list) and content and all(
        isinstance(p, Mapping) and p.get("type") == "text" and isinstance(p.get("text"), str) for p in content
    ):
        return "\n".join(p["text"] for p in content)
    return None


def last_user_text(body: Mapping[str, Any]) -> str | None:
    """The last message's text when it is a text-only user message; else None."""
    messages = body.get("messages") or []
    if not messages or not isinstance(messages[-1], Mapping) or messages[-1].get("role") != "user":
        return None
    return message_text(messages[-1])
