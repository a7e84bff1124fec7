"""``tollgate judge scan``: JSON lines ``{"id", "messages": [...], "answer": "...", "context"?: "..."}`` in, one
line out per input:
``{"id", "verdicts": [{"judge", "mode", "passed", "score", "reason"}], "action": "allow"|"flag"|"block"}``.
Without ``context``, the context is what the gateway would find in the messages (tool results, marked documents).

The action is the one the gateway would take under the rules given: an inline judge's failure does its ``action``
(block or flag), a sampled judge's is reported but cannot stop an answer that was already sent, and a judge that
errors blocks only where its rule fails closed. A line that cannot be judged gets ``{"id", "error"}`` and the scan
goes on; the exit status is then 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import IO, Any

from deployments.judges.context import retrieved_context
from deployments.judges.service import JudgeService
from deployments.judges.verdict import verdict_of
from tollgate_core.judge_policy import JudgeRule

__all__ = ["judge_line", "run_judge_scan"]


def _problem(record: Any) -> str | None:
    if not isinstance(record, dict):
        return 'expected an object like {"id": 1, "messages": […], "answer": "…"}'
    messages = record.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        return "messages: a list of chat messages ({\"role\", \"content\"}) is required"
    if not isinstance(record.get("answer"), str):
        return "answer: a string is required"
    if record.get("context") is not None and not isinstance(record.get("context"), str):
        return "context: a string, when given"
    return None


def judge_line(service: JudgeService, rules: Mapping[str, JudgeRule], line: str) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"id": None, "error": f"not JSON: {exc.msg} at column {exc.colno}"}
    problem = _problem(record)
    if problem is not None:
        return {"id": record.get("id") if isinstance(record, dict) else None, "error": problem}
    calls = [(name, rule.params()) for name, rule in rules.items()]
    context = record.get("context") or retrieved_context(record["messages"])  # as the gateway finds it otherwise
    outcomes = service.run(calls, record["messages"], record["answer"], context)
    actions = {rules[o["judge"]].action_for(verdict_of(o)) for o in outcomes}
    verdicts = [{"judge": o["judge"], "mode": rules[o["judge"]].mode, "passed": o["passed"], "score": o["score"],
                 "reason": o["reason"], **({"error": o["error"]} if o.get("error") else {})} for o in outcomes]
    action = "block" if "block" in actions else ("flag" if "flag" in actions else "allow")
    return {"id": record.get("id"), "verdicts": verdicts, "action": action}


def run_judge_scan(source: Iterable[str], out: IO[str], rules: Mapping[str, JudgeRule]) -> int:
    service = JudgeService()
    failures = 0
    for line in source:
        if not line.strip():
            continue
        result = judge_line(service, rules, line)
        failures += "error" in result
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 1 if failures else 0
