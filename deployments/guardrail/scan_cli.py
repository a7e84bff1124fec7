"""``tollgate guard scan``: JSON lines in, one JSON line out per input, same detectors as the gateway.

Input lines are ``{"id": …, "text": …}``; output lines are
``{"id", "redacted", "findings": [{"type", "start", "end", "score"}], "injection": {"score", "flagged"}}``
with spans into the input text. ``redacted`` applies the policy for external
destinations (placeholders for ``redact`` and ``block`` types alike; a line whose types
the policy blocks also gets ``"blocked": [types]``). A line that is not such an object
gets ``{"id", "error"}`` and the scan goes on; the exit status is then 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any

from deployments.guardrail.guard import Guard, masked_texts
from deployments.guardrail.policy import GuardrailPolicy
from deployments.guardrail.redaction import RedactionState, redact

__all__ = ["run_scan", "scan_line"]


def scan_line(guard: Guard, line: str) -> dict[str, Any]:
    """The output object for one input line (``error`` set when the line is unusable)."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"id": None, "error": f"not JSON: {exc.msg} at column {exc.colno}"}
    if not isinstance(record, dict):
        return {"id": None, "error": 'expected an object like {"id": 1, "text": "…"}'}
    text = record.get("text")
    if not isinstance(text, str):
        return {"id": record.get("id"), "error": 'missing or non-string "text"'}
    rules = guard.policy.external
    findings = [f for f in guard.scan(text) if f.score >= guard.policy.min_score]
    state = RedactionState()
    state.reserve(text)
    acted = [f for f in findings if rules.action(f.type) != "allow"]
    injection = guard.score_injection(masked_texts([text], [findings]))
    result: dict[str, Any] = {
        "id": record.get("id"),
        "redacted": redact(text, acted, state),
        "findings": [f.to_dict() for f in findings],
        "injection": {"score": round(injection.score, 4), "flagged": injection.flagged},
    }
    blocked = sorted({f.type.value for f in findings if rules.action(f.type) == "block"})
    if blocked:
        result["blocked"] = blocked
    return result


def run_scan(input_stream: Iterable[str], output_stream: IO[str], policy: GuardrailPolicy | None = None) -> int:
    """Scan every non-blank line; returns 0, or 1 when some line had an error."""
    guard = Guard(policy)
    status = 0
    for line in input_stream:
        if not line.strip():
            continue
        result = scan_line(guard, line)
        status |= "error" in result
        output_stream.write(json.dumps(result, ensure_ascii=False) + "\n")
        output_stream.flush()
    return status
