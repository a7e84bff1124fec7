"""``tollgate guard scan``: JSON lines in, one JSON line out per input, same detectors as the gateway.

Two input forms:

- ``{"id": …, "text": …}``: one text, scored as a user turn. Output
  ``{"id", "redacted", "findings": [{"type", "start", "end", "score"}], "injection": {"score", "flagged"}}``
  with spans into the input text. ``redacted`` applies the policy for external destinations
  (placeholders for ``redact`` and ``block`` types alike; a line whose types the policy blocks
  also gets ``"blocked": [types]``).
- ``{"id": …, "messages": [...]}``: a whole OpenAI chat request (roles system, developer, user,
  assistant, tool; string or content-part content). Output is the decision the gateway would
  make for it under the policy: ``{"id", "decision", "findings": {type: count},
  "injection": {"flagged", "action", "score", "message_index", "reasons"}}``, where ``flagged``
  is true exactly when the gateway would flag or block the request.

A line that is neither gets ``{"id", "error"}`` and the scan goes on; the exit status is then 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any

from deployments.guardrail.guard import Guard, masked_texts
from deployments.guardrail.message_texts import message_texts, text_origins
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
        return {"id": None, "error": 'expected an object like {"id": 1, "text": "…"} or {"id": 1, "messages": […]}'}
    if "messages" in record:
        return _scan_request(guard, record)
    text = record.get("text")
    if not isinstance(text, str):
        return {"id": record.get("id"), "error": 'missing or non-string "text" (or give "messages")'}
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


def _messages_problem(messages: object) -> str | None:
    if not isinstance(messages, list) or not messages:
        return '"messages" must be a non-empty list of chat messages'
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            return f"messages[{i}] must be an object with a role and content"
        if not isinstance(message.get("role"), str):
            return f"messages[{i}].role must be a string (system, developer, user, assistant or tool)"
        content = message.get("content")
        if content is not None and not isinstance(content, (str, list)):
            return f"messages[{i}].content must be a string, a list of content parts or null"
    return None


def _scan_request(guard: Guard, record: dict[str, Any]) -> dict[str, Any]:
    problem = _messages_problem(record.get("messages"))
    if problem is not None:
        return {"id": record.get("id"), "error": problem}
    refs, texts = message_texts(record)
    verdict = guard.check_request(texts, "external", text_origins(record, refs))
    injection = verdict.injection
    return {
        "id": record.get("id"),
        "decision": verdict.decision,
        "findings": dict(verdict.counts),
        "injection": {"flagged": injection.flagged, "action": injection.action, "score": round(injection.score, 4),
                      "message_index": injection.message_index, "reasons": list(injection.reasons)},
    }


def run_scan(input_stream: Iterable[str], output_stream: IO[str], policy: GuardrailPolicy | None = None,
             *, guard: Guard | None = None) -> int:
    """Scan every non-blank line with ``guard`` (or one for ``policy``); 0, or 1 when some line had an error."""
    guard = guard if guard is not None else Guard(policy)
    status = 0
    for line in input_stream:
        if not line.strip():
            continue
        result = scan_line(guard, line)
        status |= "error" in result
        output_stream.write(json.dumps(result, ensure_ascii=False) + "\n")
        output_stream.flush()
    return status
