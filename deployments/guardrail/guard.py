"""The guardrail facade that a Ray Serve deployment wraps: plain data in, plain data out.

``Guard.check_request`` returns a ``GuardVerdict`` and never raises for a policy
decision, so nothing but dicts and lists has to cross the deployment boundary; the
caller turns a refusal into its exception with ``verdict.raise_for_decision()``.
Restoring and scanning the answer happen where the answer streams (the ingress), from
the verdict's ``placeholders``: ``restore``, ``stream_restorer``, ``check_output`` and
``output_stream`` need no round trip to the deployment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from deployments.guardrail.errors import InjectionDetected, PiiBlocked
from deployments.guardrail.findings import Finding
from deployments.guardrail.injection import InjectionDetector, default_injection_detector
from deployments.guardrail.injection_request import InjectionVerdict, TextOrigin, score_request
from deployments.guardrail.output import OutputScanner, OutputStream
from deployments.guardrail.policy import Blocked, Destination, GuardrailPolicy, apply_input_policy
from deployments.guardrail.redaction import RedactionState, StreamRestorer, restore
from deployments.guardrail.scanner import Scanner, default_scanner

__all__ = ["Decision", "Guard", "GuardVerdict", "InjectionVerdict", "masked_texts"]

Decision = Literal["allow", "pii_blocked", "prompt_injection_detected"]


def masked_texts(texts: Sequence[str], scans: Sequence[Sequence[Finding]]) -> list[str]:
    """Texts with every finding cut out: what the injection classifier reads.

    A pasted key or card number is a run of tokens the classifier never saw in training
    (and a bracketed placeholder looks like jailbreak markup to it); the rest of the
    sentence is what carries intent.
    """
    masked: list[str] = []
    for text, found in zip(texts, scans, strict=True):
        parts, last = [], 0
        for finding in sorted(found, key=lambda f: f.start):
            parts.append(text[last : finding.start])
            last = finding.end
        parts.append(text[last:])
        masked.append(" ".join(parts))
    return masked


@dataclass
class GuardVerdict:
    """What the guardrail decided about one request.

    ``texts`` are the messages to send on (placeholders in place of values; empty when
    refused), ``placeholders`` maps each placeholder to the caller's value for the way
    back, ``counts`` gives the findings per entity type and ``blocked_types`` the types
    that caused a ``pii_blocked`` refusal.
    """

    decision: Decision
    texts: list[str]
    placeholders: dict[str, str]
    counts: dict[str, int]
    injection: InjectionVerdict
    destination: Destination = "external"
    blocked_types: list[str] = field(default_factory=list)

    def raise_for_decision(self) -> None:
        """Raise ``PiiBlocked`` or ``InjectionDetected`` for a refusal; do nothing otherwise."""
        if self.decision == "pii_blocked":
            raise PiiBlocked(self.blocked_types)
        if self.decision == "prompt_injection_detected":
            raise InjectionDetected(self.injection.score, self.injection.reasons, self.injection.message_index)


class Guard:
    """PII and secret redaction, prompt-injection scoring and output checks under one policy."""

    def __init__(
        self,
        policy: GuardrailPolicy | Mapping[str, Any] | None = None,
        *,
        scanner: Scanner | None = None,
        injection: InjectionDetector | None = None,
    ) -> None:
        self.policy = policy if isinstance(policy, GuardrailPolicy) else GuardrailPolicy.model_validate(policy or {})
        self.scanner = scanner if scanner is not None else default_scanner(self.policy.min_score)
        self._injection = injection

    @property
    def injection_detector(self) -> InjectionDetector:
        if self._injection is None:
            self._injection = default_injection_detector()
        return self._injection

    def scan(self, text: str) -> list[Finding]:
        """Findings in one text, spans into it (what ``tollgate guard scan`` prints)."""
        return self.scanner.scan(text)

    def score_injection(self, texts: Sequence[str], origins: Sequence[TextOrigin] | None = None) -> InjectionVerdict:
        """The request's injection verdict; pass the texts through ``masked_texts`` first.

        ``origins[i]`` is ``(message index, role)`` of ``texts[i]``; without them every text
        counts as a user turn of its own.
        """
        settings = self.policy.injection
        if not settings.enabled or not texts:
            return InjectionVerdict()
        if origins is None:
            origins = [(i, "user") for i in range(len(texts))]
        return score_request(self.injection_detector, texts, origins, settings.roles, settings.threshold,
                             settings.action)

    def check_request(self, texts: Sequence[str], destination: Destination = "external",
                      origins: Sequence[TextOrigin] | None = None) -> GuardVerdict:
        """Scan, score and redact the message texts of one request for ``destination``."""
        if not self.policy.enabled:
            return GuardVerdict("allow", list(texts), {}, {}, InjectionVerdict(), destination)
        scans = [self.scanner.scan(text) for text in texts]
        injection = self.score_injection(masked_texts(texts, scans), origins)
        if injection.action == "block":
            return GuardVerdict("prompt_injection_detected", [], {}, {}, injection, destination)
        outcome = apply_input_policy(texts, destination, self.scanner, self.policy, scans=scans)
        if isinstance(outcome, Blocked):
            return GuardVerdict("pii_blocked", [], {}, outcome.counts, injection, destination, list(outcome.types))
        return GuardVerdict(
            "allow", outcome.texts, dict(outcome.state.placeholders), outcome.counts, injection, destination
        )

    def restore(self, text: str, placeholders: Mapping[str, str]) -> str:
        return restore(text, placeholders)

    def stream_restorer(self, placeholders: Mapping[str, str]) -> StreamRestorer:
        return StreamRestorer(placeholders)

    def output_scanner(self, placeholders: Mapping[str, str]) -> OutputScanner:
        return OutputScanner(self.scanner, self.policy.output, placeholders)

    def check_output(self, text: str, placeholders: Mapping[str, str]) -> str:
        """A whole answer: apply the output policy (may raise ``OutputBlocked``), then restore."""
        return self.output_scanner(placeholders).check(text, placeholders)

    def output_stream(self, placeholders: Mapping[str, str], *, max_hold: int = 4096) -> OutputStream:
        """A streamed answer: ``feed(chunk) -> str`` and ``flush() -> str``."""
        return OutputStream(self.output_scanner(placeholders), placeholders, max_hold=max_hold)

    def redaction_state(self, verdict: GuardVerdict) -> RedactionState:
        """The verdict's placeholders as a state that further texts of the request can share."""
        return RedactionState(verdict.placeholders)
