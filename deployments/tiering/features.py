"""Cheap request features for the tier classifier (numpy and ``re`` only; no tokenizer).

The classifier (:mod:`deployments.tiering.model`) adds these to the request's last-user-message embedding.
Two kinds of feature:

* **text features** of the last user message (its length, code fences and code-like lines, math, numbered /
  bulleted instructions, imperative sentences, question marks, a "step by step" cue): the training corpus
  exhibits these, so their weights are learned;
* **request-shape features** (number of turns, text before the last user message, system prompt, requested
  ``max_tokens``, ``tools``, ``response_format``): the labelled corpus is made of single user messages, so it
  cannot show how they relate to the tier. Their weights are product rules set in the model, not learned
  (see ``RULE_WEIGHTS`` in :mod:`deployments.tiering.model`).

:func:`last_user_text` picks the text the gateway embeds for the semantic cache (the last message when it is a
user message made only of text), so the classifier can reuse that vector.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from deployments.cache.query_text import last_user_text

__all__ = ["FEATURE_NAMES", "RULE_FEATURES", "TEXT_FEATURES", "last_user_text", "request_features",
           "text_features"]

TEXT_FEATURES: tuple[str, ...] = (
    "last_user_chars",  # log1p(characters of the last user message)
    "code_blocks",  # number of ``` fences (log1p)
    "code_lines",  # lines that look like code (log1p)
    "math",  # equations, operators between numbers, LaTeX (log1p of the count)
    "digits_share",  # digits / characters
    "list_items",  # numbered or bulleted lines (log1p)
    "imperatives",  # sentences opening with an instruction verb (log1p)
    "questions",  # question marks (log1p)
    "step_by_step",  # asks for reasoning: "step by step", "show your work", "explain your reasoning", "prove"
)
RULE_FEATURES: tuple[str, ...] = (
    "turns",  # log1p(number of messages)
    "context_chars",  # log1p(characters of every message but the last user message)
    "system_prompt",  # 1 when a system / developer message is present
    "max_tokens",  # log1p(max_tokens or max_completion_tokens); 0 when absent
    "has_tools",  # 1 when the request offers tools (or the legacy ``functions``)
    "json_schema",  # 1 for response_format json_schema
    "json_object",  # 1 for response_format json_object
)
FEATURE_NAMES: tuple[str, ...] = TEXT_FEATURES + RULE_FEATURES

_FENCE = re.compile(r"```")
_CODE_LINE = re.compile(
    r"^\s*(?:def |class |import |from \S+ import |return\b|#include|public |private |static |function\b|const |"
    r"let |var |SELECT\b|INSERT\b|UPDATE\b|CREATE\b|for\s*\(|while\s*\(|if\s*\(|}\s*else|fn |package |func |"
    r"@\w+)|[;{}]\s*$|^\s*(?:\w+\s*=\s*[\w\[({\"'])|^\s{4,}\S|^\s*(?:Traceback|File \"|at [\w.$]+\()",
    re.MULTILINE,
)
_MATH = re.compile(
    r"\d\s*[-+*/^×÷=<>]\s*[\d(a-z]|[a-z]\s*[=^]\s*[-\d(]|\\(?:frac|sqrt|sum|int|cdot|times|le|ge|pi|alpha|theta)|"
    r"\$[^$\n]+\$|[√∑∫π≤≥≠±]",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
_LIST_ITEM = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•]|\(?[a-h]\))\s+\S", re.MULTILINE)
_IMPERATIVE = re.compile(
    r"(?:^|[.!?:]\s+|\n\s*)(?:please\s+)?(?:write|implement|create|build|design|develop|generate|fix|debug|"
    r"refactor|optimi[sz]e|explain|describe|prove|derive|show|calculate|compute|solve|find|determine|list|"
    r"extract|compare|analy[sz]e|evaluate|plan|outline|draft|summari[sz]e|translate|classify|rewrite|convert|"
    r"identify|return|include|use|make|add|give|answer|provide|respond|read|consider|assume|tell|check|sort)\b",
    re.IGNORECASE,
)
_STEP_BY_STEP = re.compile(
    r"step[- ]by[- ]step|show (?:your|all) (?:work|steps|reasoning)|explain your reasoning|reason (?:before|first)|"
    r"chain of thought|\bprove\b|\bderive\b|\bjustify\b",
    re.IGNORECASE,
)
_SYSTEM_ROLES = frozenset({"system", "developer"})


def _loose_text(message: Mapping[str, Any]) -> str:
    """Whatever text a message holds (text parts of mixed content too), for length counts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p["text"] for p in content
                         if isinstance(p, Mapping) and isinstance(p.get("text"), str))
    return ""


def text_features(text: str) -> list[float]:
    """The values of TEXT_FEATURES for one text, in order."""
    fences = len(_FENCE.findall(text))
    return [
        math.log1p(len(text)),
        math.log1p(fences),
        math.log1p(len(_CODE_LINE.findall(text))),
        math.log1p(len(_MATH.findall(text))),
        len(_DIGIT.findall(text)) / len(text) if text else 0.0,
        math.log1p(len(_LIST_ITEM.findall(text))),
        math.log1p(len(_IMPERATIVE.findall(text))),
        math.log1p(text.count("?")),
        float(_STEP_BY_STEP.search(text) is not None),
    ]


def _max_tokens(body: Mapping[str, Any]) -> float:
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return math.log1p(float(value))
    return 0.0


def request_features(body: Mapping[str, Any]) -> np.ndarray:
    """The FEATURE_NAMES values of an OpenAI chat-completions request (float32).

    The text features describe the last user message (the empty string when the last message is not one).
    """
    messages = [m for m in (body.get("messages") or []) if isinstance(m, Mapping)]
    last = last_user_text(body)
    texts = [_loose_text(m) for m in messages]
    context_chars = sum(len(t) for t in texts) - (len(last) if last is not None else 0)
    response_format = body.get("response_format")
    format_type = response_format.get("type") if isinstance(response_format, Mapping) else None
    values = text_features(last or "")
    values += [
        math.log1p(len(messages)),
        math.log1p(max(context_chars, 0)),
        float(any(m.get("role") in _SYSTEM_ROLES for m in messages)),
        _max_tokens(body),
        float(bool(body.get("tools")) or bool(body.get("functions"))),
        float(format_type == "json_schema"),
        float(format_type == "json_object"),
    ]
    return np.asarray(values, dtype=np.float32)
