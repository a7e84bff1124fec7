"""The one interface of every judge: ``(messages, answer, context) -> Verdict``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Judge", "JudgeInput", "Verdict", "message_text", "verdict_of"]


@dataclass(frozen=True)
class JudgeInput:
    messages: list[dict[str, Any]]  # the request's messages, OpenAI chat shape
    answer: str
    context: str | None = None       # retrieved documents the client marked, if any
    confidential: tuple[str, ...] = field(default_factory=tuple)  # values the operator marks as never to be repeated


@dataclass(frozen=True)
class Verdict:
    judge: str
    passed: bool
    score: float   # 0: clearly fine … 1: clearly failed
    reason: str    # what the judge saw, never the texts themselves

    def to_dict(self) -> dict[str, Any]:
        return {"judge": self.judge, "passed": self.passed, "score": round(self.score, 4), "reason": self.reason}


class Judge(Protocol):
    name: str

    def judge(self, item: JudgeInput) -> Verdict: ...


def message_text(message: dict[str, Any]) -> str:
    """The text of one chat message: a string content, or its text parts joined."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def verdict_of(outcome: dict[str, Any]) -> str:
    """A judge's outcome (``JudgeService.run``) as a verdict: ``error`` when it could not judge, never a pass."""
    if outcome.get("error"):
        return "error"
    return "pass" if outcome.get("passed") else "fail"
