"""Prompt-injection decisions for whole requests: score what is untrusted, say where it was found.

The system and developer prompts are the application's own text and the assistant turns
are the model's; what an attacker controls is the user turns, tool and function results,
and whatever documents the application pastes into them. A policy names the roles it
scores (``InjectionPolicy.roles``, by default ``user`` and ``tool``). Each text is scored
whole (``InjectionDetector.score``); the request's score is the highest, and the verdict
names the message it came from (its index and the reasons, never its text).

A payload split over several user turns ("remember the word 'ignore'" ... "now do it")
scores low in each turn; the last user turns are also scored joined, and when that scores
higher it is reported at the last of them with the reason ``split_across_turns``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from deployments.guardrail.injection import InjectionDetector
from tollgate_core.guardrail_policy import ROLES, Role

__all__ = ["ROLES", "InjectionVerdict", "Role", "TextOrigin", "normalise_role", "score_request"]

# Where a text sits: (message index, role).
TextOrigin = tuple[int, str]

_JOINED_TURNS = 6
_JOINED_CHARS = 2000  # of each turn's end: split payloads are short, and this bounds the cost


def normalise_role(role: object) -> str:
    """A message's role as the policy names it (``function`` results are tool results)."""
    if role == "function":
        return "tool"
    return role if isinstance(role, str) and role in ROLES else "user"


@dataclass
class InjectionVerdict:
    """The request's injection decision: highest score, where it was found, and what the policy does."""

    score: float = 0.0
    flagged: bool = False
    reasons: list[str] = field(default_factory=list)
    message_index: int | None = None
    action: Literal["allow", "flag", "block"] = "allow"



def score_request(detector: InjectionDetector, texts: Sequence[str], origins: Sequence[TextOrigin],
                  roles: Sequence[str], threshold: float, action: Literal["block", "flag"]) -> InjectionVerdict:
    """Score the texts whose role the policy names; ``origins[i]`` says where ``texts[i]`` sits."""
    scored = set(roles)
    best = InjectionVerdict()
    user_turns: dict[int, list[str]] = {}
    for text, (index, role) in zip(texts, origins, strict=True):
        if role not in scored or not text.strip():
            continue
        result = detector.score(text)
        if result.score > best.score:
            best = InjectionVerdict(result.score, reasons=list(result.reasons), message_index=index)
        if role == "user":
            user_turns.setdefault(index, []).append(text)
    if len(user_turns) >= 2:
        last = sorted(user_turns)[-_JOINED_TURNS:]
        joined = "\n".join(" ".join(user_turns[i])[-_JOINED_CHARS:] for i in last)
        result = detector.score(joined)
        if result.score > best.score:
            best = InjectionVerdict(result.score, reasons=[*result.reasons, "split_across_turns"],
                                    message_index=last[-1])
    best.score = round(best.score, 4)
    best.flagged = best.score >= threshold
    best.action = action if best.flagged else "allow"
    if not best.flagged:
        best.message_index = None
    return best
