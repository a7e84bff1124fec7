"""Guardrail decisions that stop a request, as exceptions the gateway maps to OpenAI errors.

::

    GuardrailError                 status 400 unless said otherwise
    ├── PiiBlocked                 type "pii_blocked": names the entity types, never values
    ├── InjectionDetected          type "prompt_injection_detected": score and reasons
    └── OutputBlocked              type "output_blocked" (502): the model's answer broke the output policy

Each carries ``type``, ``status`` and ``code`` so that one mapper can build the body
``{"error": {"message", "type", "param", "code"}}``; ``to_dict()`` gives the same
fields as plain data for a deployment boundary.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["GuardrailError", "InjectionDetected", "OutputBlocked", "PiiBlocked"]


class GuardrailError(Exception):
    """Base class of the guardrail's refusals."""

    type: str = "guardrail_error"
    status: int = 400
    code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"message": str(self), "type": self.type, "param": None, "code": self.code}


class PiiBlocked(GuardrailError):
    """The request holds entity types that the policy blocks for its destination."""

    type = "pii_blocked"
    code = "pii_blocked"

    def __init__(self, types: Iterable[str]) -> None:
        self.types = tuple(sorted(set(types)))
        super().__init__(
            f"The request contains {', '.join(self.types)}, which the guardrail policy blocks. "
            "Remove these values from the messages, or ask an administrator to change the policy."
        )


class InjectionDetected(GuardrailError):
    """The prompt scored at or above the injection threshold and the policy says block."""

    type = "prompt_injection_detected"
    code = "prompt_injection_detected"

    def __init__(self, score: float, reasons: Iterable[str], message_index: int | None = None) -> None:
        self.score = round(float(score), 3)
        self.reasons = tuple(reasons)
        self.message_index = message_index
        where = f"messages[{message_index}]" if message_index is not None else "the request"
        super().__init__(
            f"The guardrail found a likely prompt-injection or jailbreak attempt in {where} (score {self.score}; "
            f"{', '.join(self.reasons) or 'classifier'}). Remove the instructions aimed at the model's rules, or ask "
            "an administrator to review the injection policy of this key or team."
        )


class OutputBlocked(GuardrailError):
    """The model's answer holds entity types that the output policy blocks."""

    type = "output_blocked"
    code = "output_blocked"
    status = 502

    def __init__(self, types: Iterable[str]) -> None:
        self.types = tuple(sorted(set(types)))
        super().__init__(f"The model's answer contained {', '.join(self.types)}, which the output policy blocks.")
