"""The texts of an OpenAI chat request's messages, with where each sits and whose it is.

The gateway redacts these texts in place and the injection policy scores them by role;
``tollgate guard scan`` reads whole requests the same way.
"""

from __future__ import annotations

from typing import Any

from deployments.guardrail.injection_request import TextOrigin, normalise_role

__all__ = ["TextRef", "message_texts", "text_origins"]

# Where a text sits in a request: (message index, None) for string content, (message index, part index).
TextRef = tuple[int, int | None]


def message_texts(request: dict[str, Any]) -> tuple[list[TextRef], list[str]]:
    """Every text of the request's messages (string contents and text parts), with where it sits."""
    refs: list[TextRef] = []
    texts: list[str] = []
    for i, message in enumerate(request.get("messages") or []):
        content = message.get("content")
        if isinstance(content, str):
            refs.append((i, None))
            texts.append(content)
        elif isinstance(content, list):
            for j, part in enumerate(content):
                if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                    refs.append((i, j))
                    texts.append(part["text"])
    return refs, texts


def text_origins(request: dict[str, Any], refs: list[TextRef]) -> list[TextOrigin]:
    """``(message index, role)`` of each text ``message_texts`` found, the role as the injection policy names it."""
    messages = request.get("messages") or []
    return [(i, normalise_role(messages[i].get("role"))) for i, _ in refs]
