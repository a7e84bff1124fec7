"""The judges behind one call: ``run(calls, messages, answer, context)`` → one outcome per call.

A call names a judge and its parameters (plain data, so it crosses a Ray boundary); the judge is built once per
distinct parameters and kept. A judge that raises gives the outcome ``error`` for itself only, never a pass.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from deployments.judges.prompt_leak import PromptLeakJudge
from deployments.judges.verdict import Judge, JudgeInput

__all__ = ["FACTORIES", "JudgeService"]

logger = logging.getLogger("tollgate.judges")

# How each built judge is made from its rule's parameters (tollgate_core/judge_policy.py).
FACTORIES: dict[str, Callable[..., Judge]] = {
    "prompt_leak": lambda threshold=0.5, confidential=(): PromptLeakJudge(threshold, confidential=tuple(confidential)),
}


class JudgeService:
    """Runs judges by name; each outcome is ``{"judge", "passed", "score", "reason", "error", "judge_ms"}``."""

    def __init__(self) -> None:
        self._judges: dict[str, Judge] = {}

    def _judge(self, name: str, params: dict[str, Any]) -> Judge:
        key = name + json.dumps(params, sort_keys=True, default=list)
        judge = self._judges.get(key)
        if judge is None:
            judge = self._judges[key] = FACTORIES[name](**params)
        return judge

    def run(self, calls: Sequence[tuple[str, dict[str, Any]]], messages: list[dict[str, Any]], answer: str,
            context: str | None = None) -> list[dict[str, Any]]:
        item = JudgeInput(messages, answer, context)
        outcomes = []
        for name, params in calls:
            started = time.perf_counter()
            try:
                verdict = self._judge(name, params).judge(item)
            except Exception as exc:  # the outcome is error, recorded and acted on by the caller's on_error
                logger.exception("judge %s failed", name)
                outcomes.append({"judge": name, "passed": False, "score": None,
                                 "reason": f"the judge failed: {type(exc).__name__}", "error": type(exc).__name__,
                                 "judge_ms": (time.perf_counter() - started) * 1000})
                continue
            outcomes.append({**verdict.to_dict(), "error": None, "judge_ms": (time.perf_counter() - started) * 1000})
        return outcomes
