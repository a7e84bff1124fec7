"""``rubric``: an LLM judge with an operator-written rubric ("answers only about our products", a tone, a safety
taxonomy), run by a chat model of the catalog through the gateway's own routing.

This module is the judge's wire: the chat request it sends (:func:`rubric_request`) and how it reads the model's
reply (:func:`read_rubric_reply`). The call itself goes through the gateway (admission against the judge's own
key, failover, settlement, an audit record), so its cost is visible where every other request's is.
"""

from __future__ import annotations

import re
from typing import Any

from deployments.judges.verdict import message_text

__all__ = ["read_rubric_reply", "rubric_request"]

_VERDICT = re.compile(r"\b(PASS|FAIL)\b", re.IGNORECASE)
_SYSTEM = ("You check an AI assistant's answer against a rubric.\n\nRubric: {rubric}\n\n"
           "Reply with one word first, PASS if the answer follows the rubric or FAIL if it does not, then a short "
           "reason.")
_USER = ("The user wrote:\n{question}\n\nThe assistant answered:\n{answer}\n\n"
         "Does the answer follow the rubric? Reply PASS or FAIL.")
_MAX_CHARS = 6000  # of the question and of the answer each: the judge model's context is not the answered one's


def rubric_request(model: str, rubric: str, messages: list[dict[str, Any]], answer: str,
                   max_tokens: int) -> dict[str, Any]:
    """The chat request that asks ``model`` whether ``answer`` follows ``rubric``."""
    users = [message_text(m) for m in messages if m.get("role") == "user"]
    question = (users[-1] if users else "")[-_MAX_CHARS:]
    return {"model": model, "temperature": 0, "max_tokens": max_tokens, "messages": [
        {"role": "system", "content": _SYSTEM.format(rubric=rubric)},
        {"role": "user", "content": _USER.format(question=question, answer=answer[:_MAX_CHARS])},
    ]}


def read_rubric_reply(reply: str) -> dict[str, Any]:
    """The judge model's reply as an outcome; neither PASS nor FAIL in it is an error, never a pass."""
    found = _VERDICT.search(reply)
    if found is None:
        return {"judge": "rubric", "passed": False, "score": None, "error": "unreadable",
                "reason": "the judge model's reply had neither PASS nor FAIL"}
    passed = found.group(1).upper() == "PASS"
    return {"judge": "rubric", "passed": passed, "score": 0.0 if passed else 1.0, "error": None,
            "reason": "the judge model said " + ("PASS" if passed else "FAIL")}
