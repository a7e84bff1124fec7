"""``tollgate judge scan``: JSON lines ``{"id", "messages": [...], "answer": "...", "context"?: "..."}`` in, one
line out per input: ``{"id", "verdicts": [{"judge", "passed", "score", "reason"}], "action": "allow"|"block"}``.

The judges shipped so far: ``prompt_leak`` (docs/judges.md). A line that cannot be judged gets ``{"id", "error"}``
and the scan goes on; the exit status is then 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any

from deployments.judges.prompt_leak import PromptLeakJudge
from deployments.judges.verdict import Judge, JudgeInput

__all__ = ["JUDGES", "judge_line", "run_judge_scan"]

JUDGES: dict[str, type[PromptLeakJudge]] = {"prompt_leak": PromptLeakJudge}


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


def judge_line(judges: list[Judge], line: str, confidential: tuple[str, ...] = ()) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"id": None, "error": f"not JSON: {exc.msg} at column {exc.colno}"}
    problem = _problem(record)
    if problem is not None:
        return {"id": record.get("id") if isinstance(record, dict) else None, "error": problem}
    item = JudgeInput(record["messages"], record["answer"], record.get("context"), confidential)
    verdicts = [judge.judge(item) for judge in judges]
    return {"id": record.get("id"), "verdicts": [v.to_dict() for v in verdicts],
            "action": "allow" if all(v.passed for v in verdicts) else "block"}


def run_judge_scan(source: Iterable[str], out: IO[str], names: list[str], confidential: tuple[str, ...] = ()) -> int:
    judges: list[Judge] = [JUDGES[name]() for name in names]
    failures = 0
    for line in source:
        if not line.strip():
            continue
        result = judge_line(judges, line, confidential)
        failures += "error" in result
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 1 if failures else 0
