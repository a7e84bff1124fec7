"""The model's answer: scan it against the output policy, then restore the caller's values.

Order matters: the raw answer is scanned *before* placeholders are restored, so the
caller's own values coming back are never masked; a value the model writes that equals
one of the caller's values is left alone too. A finding under ``redact`` becomes
``[REDACTED_<TYPE>]`` (no digits at the end, so it is never taken for a placeholder);
under ``block`` the answer is refused with ``OutputBlocked``.

Streaming (``OutputStream``) holds back a bounded tail so that a value split across
chunks is scanned whole:

- the trailing partial token (text after the last whitespace);
- a trailing run of digit groups (``4111 1111 …``, ``+44 20 …``) and an IBAN in groups;
- an open ``-----BEGIN … PRIVATE KEY-----`` block until its END line;
- never more than ``max_hold`` characters (4 KiB by default): beyond that the text is
  scanned as it is and released, so a stream cannot stall.

The last ``context`` characters already sent are scanned again with the new text, so a
value arriving after its ``password:`` label is still recognised; only findings in the
unsent part are acted on. Whatever is held is scanned and released by ``flush()``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping

from deployments.guardrail.errors import OutputBlocked
from deployments.guardrail.findings import Finding
from deployments.guardrail.policy import DestinationPolicy
from deployments.guardrail.redaction import StreamRestorer, restore
from deployments.guardrail.scanner import Scanner

__all__ = ["OutputScanner", "OutputStream"]

_TRAILING_NUMBER = re.compile(r"(?:[+(]?\d[\d().\-/]*[ \t]+)+$")
_TRAILING_IBAN = re.compile(r"(?i)[A-Z]{2}\d{2}(?:[ \t]+[A-Z0-9]{1,4})*[ \t]+$")
_PRIVATE_BEGIN = "-----BEGIN"
_PRIVATE_END = re.compile(r"-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----")


class OutputScanner:
    """Applies an output policy to text the model wrote."""

    def __init__(self, scanner: Scanner, policy: DestinationPolicy, caller_values: Mapping[str, str]) -> None:
        self.scanner = scanner
        self.policy = policy
        self._caller_values = frozenset(caller_values.values())
        self.counts: Counter[str] = Counter()

    def findings(self, text: str) -> list[Finding]:
        """Findings that the policy acts on (not ``allow``, not the caller's own values)."""
        return [
            f
            for f in self.scanner.scan(text)
            if self.policy.action(f.type) != "allow" and text[f.start : f.end] not in self._caller_values
        ]

    def apply(self, text: str, findings: list[Finding] | None = None) -> str:
        """Mask or refuse the findings in ``text`` (raises ``OutputBlocked``)."""
        findings = self.findings(text) if findings is None else findings
        blocked = {f.type.value for f in findings if self.policy.action(f.type) == "block"}
        if blocked:
            raise OutputBlocked(blocked)
        parts: list[str] = []
        last = 0
        for f in sorted(findings, key=lambda f: f.start):
            parts.append(text[last : f.start])
            parts.append(f"[REDACTED_{f.type.value}]")
            self.counts[f.type.value] += 1
            last = f.end
        parts.append(text[last:])
        return "".join(parts)

    def check(self, text: str, placeholders: Mapping[str, str]) -> str:
        """A whole answer: scan, then restore."""
        return restore(self.apply(text), placeholders)


class OutputStream:
    """Output policy and placeholder restore over a stream of chunks."""

    def __init__(
        self,
        scanner: OutputScanner,
        placeholders: Mapping[str, str],
        *,
        max_hold: int = 4096,
        context: int = 128,
    ) -> None:
        self.scanner = scanner
        self.restorer = StreamRestorer(placeholders)
        self.max_hold = max_hold
        self.context = context
        self._pending = ""
        self._sent_tail = ""

    def feed(self, chunk: str) -> str:
        self._pending += chunk
        return self.restorer.feed(self._release(self._safe_cut(self._pending)))

    def flush(self) -> str:
        """Scan and release everything held (end of stream, or before a non-text part)."""
        released = self._release(len(self._pending))
        return self.restorer.feed(released) + self.restorer.flush()

    def _safe_cut(self, text: str) -> int:
        cut = max(text.rfind(" "), text.rfind("\n"), text.rfind("\t")) + 1
        head = text[:cut]
        for pattern in (_TRAILING_NUMBER, _TRAILING_IBAN):
            m = pattern.search(head)
            if m is not None:
                cut = min(cut, m.start())
        begin = text.rfind(_PRIVATE_BEGIN)
        if begin >= 0 and _PRIVATE_END.search(text, begin) is None:
            cut = min(cut, begin)
        return max(cut, len(text) - self.max_hold)

    def _release(self, cut: int) -> str:
        if cut <= 0 and self._pending:
            return ""
        window = self._sent_tail + self._pending
        offset = len(self._sent_tail)
        spans = [(f, f.start - offset, f.end - offset) for f in self.scanner.findings(window) if f.end > offset]
        if cut < len(self._pending):
            # Keep a value that straddles the cut whole; findings do not overlap, so one
            # pass from the right settles it.
            for _, start, end in sorted(spans, key=lambda s: -s[1]):
                if start < cut < end:
                    cut = max(0, start)
        acted = [Finding(f.type, max(0, start), end, f.score, f.source) for f, start, end in spans if end <= cut]
        ready, self._pending = self._pending[:cut], self._pending[cut:]
        self._sent_tail = (self._sent_tail + ready)[-self.context :]
        return self.scanner.apply(ready, acted)
