"""The guardrail on the request path: send message texts to the Guardrail deployment, put the redacted
texts in their place, and on the way back apply the output policy and restore the caller's values.

Only plain data crosses the deployment call; the way back runs in the ingress from the verdict's
placeholders (no second call), streaming included.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from deployments.guardrail.errors import GuardrailError
from deployments.guardrail.guard import Guard, GuardVerdict
from deployments.guardrail.injection_request import InjectionVerdict
from deployments.guardrail.message_texts import TextRef, message_texts, text_origins
from deployments.guardrail.output import OutputStream
from deployments.guardrail.service import GuardrailService
from tollgate_core.catalog import models_reachable
from tollgate_core.config import GatewayConfig, ProviderKind
from tollgate_core.errors import GuardrailRefusedError

__all__ = [
    "GuardrailLink",
    "LocalGuardrailLink",
    "ReplyGuard",
    "StreamGuard",
    "destination_for",
    "injection_headers",
    "message_texts",
    "refusal",
    "replace_texts",
    "text_origins",
]


class GuardrailLink(Protocol):
    async def check(self, texts: list[str], destination: str, policy: str,
                    origins: Sequence[Sequence[Any]] | None = None) -> GuardVerdict: ...


class LocalGuardrailLink:
    """The guardrail in process (``guardrails.placement: ingress``, unit tests, tools). Scanning is CPU work, about
    1 ms per 1,000 characters: texts longer than ``inline_max_chars`` in all are scanned on a worker thread, so one
    long prompt does not hold the event loop (and every other request of this process) for its whole scan."""

    def __init__(self, service: GuardrailService, inline_max_chars: int | None = None) -> None:
        self._service = service
        self._inline_max_chars = inline_max_chars

    async def check(self, texts: list[str], destination: str, policy: str,
                    origins: Sequence[Sequence[Any]] | None = None) -> GuardVerdict:
        limit = self._inline_max_chars
        if limit is not None and sum(len(t) for t in texts) > limit:
            return await asyncio.to_thread(self._service.check, texts, destination, policy, origins)  # type: ignore[arg-type]
        return self._service.check(texts, destination, policy, origins)  # type: ignore[arg-type]


def refusal(exc: GuardrailError) -> GuardrailRefusedError:
    """The gateway's error for a guardrail refusal (the one seam between the two error trees)."""
    index = getattr(exc, "message_index", None)
    param = (f"messages[{index}]" if index is not None else "messages") if exc.status == 400 else None
    return GuardrailRefusedError(str(exc), status_code=exc.status, error_type=exc.type, code=exc.code, param=param)


def destination_for(config: GatewayConfig, model: str) -> str:
    """``internal`` when every target that can serve ``model`` (fallbacks too) is the local tier."""
    kinds = {t.provider for name in models_reachable(config, model) for t in config.models[name].targets}
    return "internal" if kinds == {ProviderKind.LOCAL} else "external"


def replace_texts(request: dict[str, Any], refs: list[TextRef], texts: list[str]) -> None:
    for (i, j), text in zip(refs, texts, strict=True):
        message = request["messages"][i]
        if j is None:
            message["content"] = text
        else:
            message["content"][j]["text"] = text


def injection_headers(injection: InjectionVerdict) -> dict[str, str]:
    """``x-tollgate-injection-*``: the score always; action, message index and reasons when flagged."""
    headers = {"x-tollgate-injection-score": f"{injection.score:.3f}",
               "x-tollgate-injection-action": injection.action}
    if injection.flagged:
        headers["x-tollgate-injection-reasons"] = ",".join(injection.reasons) or "classifier"
        if injection.message_index is not None:
            headers["x-tollgate-injection-message"] = str(injection.message_index)
    return headers


@dataclass
class ReplyGuard:
    """The way back for one request: output policy, then the caller's values restored."""

    guard: Guard
    verdict: GuardVerdict

    @property
    def headers(self) -> dict[str, str]:
        return {"x-tollgate-guardrail-findings": str(sum(self.verdict.counts.values())),
                **injection_headers(self.verdict.injection)}

    def reply(self, body: dict[str, Any]) -> dict[str, Any]:
        """A whole answer; raises :class:`GuardrailRefusedError` when the output policy blocks it."""
        placeholders = self.verdict.placeholders
        try:
            for choice in body.get("choices") or []:
                message = choice.get("message") or {}
                if isinstance(message.get("content"), str):
                    message["content"] = self.guard.check_output(message["content"], placeholders)
                for call in message.get("tool_calls") or []:
                    function = call.get("function") or {}
                    if isinstance(function.get("arguments"), str):
                        function["arguments"] = self.guard.restore(function["arguments"], placeholders)
        except GuardrailError as exc:
            raise refusal(exc) from exc
        return body

    def stream(self) -> StreamGuard:
        return StreamGuard(self.guard, self.verdict.placeholders)


@dataclass
class StreamGuard:
    """Output policy and restore over SSE chunks, one hold-back buffer per choice."""

    guard: Guard
    placeholders: dict[str, str]
    _streams: dict[int, OutputStream] = field(default_factory=dict)

    def _stream(self, index: int) -> OutputStream:
        if index not in self._streams:
            self._streams[index] = self.guard.output_stream(self.placeholders)
        return self._streams[index]

    def transform(self, chunk: dict[str, Any]) -> dict[str, Any]:
        """The chunk with its text checked and restored; held text is released before a finish or a tool call."""
        try:
            for choice in chunk.get("choices") or []:
                delta = choice.get("delta") or {}
                stream = self._stream(int(choice.get("index") or 0))
                text = stream.feed(delta["content"]) if isinstance(delta.get("content"), str) else ""
                if choice.get("finish_reason") is not None or delta.get("tool_calls"):
                    text += stream.flush()
                if text or isinstance(delta.get("content"), str):
                    delta["content"] = text
                    choice["delta"] = delta
        except GuardrailError as exc:
            raise refusal(exc) from exc
        return chunk

    def tail(self, template: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Chunks for text still held when a stream ended without a finish reason."""
        try:
            for index, stream in self._streams.items():
                text = stream.flush()
                if text:
                    yield {**template, "choices": [{"index": index, "delta": {"content": text}, "finish_reason": None}]}
        except GuardrailError as exc:
            raise refusal(exc) from exc
