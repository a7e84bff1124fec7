"""The judges behind one call: ``run(calls, messages, answer, context)`` → one outcome per call.

A call names a judge and its parameters (plain data, so it crosses a Ray boundary); the judge is built once per
distinct parameters and kept. A judge that raises gives the outcome ``error`` for itself only, never a pass.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from deployments.judges.denied_topics import DeniedTopicsJudge, Topic
from deployments.judges.grounded import GroundedJudge
from deployments.judges.prompt_leak import PromptLeakJudge
from deployments.judges.verdict import Judge, JudgeInput

if TYPE_CHECKING:
    from tollgate_core.config import JudgesConfig

__all__ = ["FACTORIES", "MODEL_JUDGES", "JudgeService", "prepared_service", "run_judges"]

logger = logging.getLogger("tollgate.judges")

# How each built judge is made from its rule's parameters (tollgate_core/judge_policy.py).
FACTORIES: dict[str, Callable[..., Judge]] = {
    "prompt_leak": lambda threshold=0.5, confidential=(): PromptLeakJudge(threshold, confidential=tuple(confidential)),
    "denied_topics": lambda topics, threshold=None: DeniedTopicsJudge(
        [Topic(t["name"], t["description"], tuple(t["examples"])) for t in topics], threshold),
    "grounded": lambda threshold=None: GroundedJudge(threshold),
}
# Judges that run a model: an event loop hands them to a worker thread (LocalJudgeLink, the Judge deployment).
MODEL_JUDGES = frozenset({"denied_topics", "grounded"})


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

    def prepare(self, calls: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Build these judges now (a model judge loads its model), so the first answer does not wait for it."""
        for name, params in calls:
            self._judge(name, params)


def prepared_service(config: JudgesConfig, inline_only: bool = False) -> JudgeService:
    """A JudgeService with the judges the config can call already built (a model judge loads its model now, not
    on the first answer, which would otherwise wait for it or time out)."""
    service = JudgeService()
    service.prepare([(name, rule.params()) for name, rule in config.every_rule()
                     if not rule.routed and (rule.mode == "inline" or not inline_only)])
    return service


async def run_judges(service: JudgeService, calls: list[tuple[str, dict[str, Any]]], messages: list[dict[str, Any]],
                     answer: str, context: str | None) -> list[dict[str, Any]]:
    """``service.run``, in a worker thread when a judge runs a model (cheap judges stay on the loop: a thread hop
    costs more than they do)."""
    if any(name in MODEL_JUDGES for name, _ in calls):
        return await asyncio.to_thread(service.run, calls, messages, answer, context)
    return service.run(calls, messages, answer, context)
