"""Relaying a stream after its first chunk: the output guard on each chunk, continuation on another target when
one fails mid-answer, and settlement, cache write and audit record before the last byte."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from deployments.cache.service import Lookup
from deployments.cache.step import CachePlan
from deployments.guardrail.step import StreamGuard
from deployments.router.board import Outcome
from deployments.router.failover import Failover, classify
from serve_app.audit.trace import RequestTrace
from serve_app.governance.enforcer import Admission
from serve_app.pipeline.accounts import Accounts
from serve_app.pipeline.cache import CacheStep
from serve_app.pipeline.calls import Backends, Chunk, cost_usd
from serve_app.pipeline.judging import StreamJudging
from serve_app.pipeline.recording import Recorder
from serve_app.pipeline.replies import sse
from tollgate_core.catalog import ResolvedTarget
from tollgate_core.config import ProviderKind
from tollgate_core.contracts import META_KEY
from tollgate_core.errors import (
    GuardrailRefusedError,
    JudgeFailedError,
    TollgateError,
    UpstreamTimeoutError,
    error_body,
)

__all__ = ["Relay", "StreamJob", "StreamRelay"]

logger = logging.getLogger("tollgate.gateway")

# Providers whose APIs continue a trailing assistant message (OpenAI's does not).
_PREFILL_PROVIDERS = frozenset({ProviderKind.ANTHROPIC, ProviderKind.BEDROCK, ProviderKind.LOCAL})


@dataclass
class StreamJob:
    """What a streamed request needs after its first chunk."""

    model: str
    internal: dict[str, Any]
    deadline: float
    include_usage: bool
    continuation: bool
    admission: Admission | None = None
    guard: StreamGuard | None = None
    trace: RequestTrace = field(default_factory=RequestTrace)
    cache: tuple[CachePlan, Lookup | None] | None = None  # where to store a complete answer
    judging: StreamJudging | None = None  # inline judges
    sample: Callable[[str], None] | None = None  # queue the whole answer for the sampled judges


@dataclass
class Relay:
    """One target's stream that is being relayed to the client."""

    target: ResolvedTarget
    started: float
    ttft_ms: float
    first: Chunk
    source: AsyncIterator[Chunk]
    release: Callable[[], None]


class StreamRelay:
    """Turns a target's chunks into the client's SSE body."""

    def __init__(self, idle_timeout_s: float, failover: Failover, backends: Backends, accounts: Accounts,
                 recorder: Recorder, cache: CacheStep) -> None:
        self._idle_timeout_s = idle_timeout_s
        self._failover = failover
        self._backends = backends
        self._accounts = accounts
        self._recorder = recorder
        self._cache = cache

    async def body(self, job: StreamJob, relay: Relay) -> AsyncIterator[bytes]:
        idle_timeout = self._idle_timeout_s
        answer = _Answer()
        chunk: Chunk | None = relay.first
        outcome = "client_disconnected"
        try:
            while True:
                try:
                    while chunk is not None:
                        answer.add(chunk)
                        if job.judging is not None:
                            try:
                                await job.judging.check(answer.text)  # before this chunk goes out
                            except JudgeFailedError as withheld:
                                outcome = "judge_failed"
                                yield sse(error_body(withheld))
                                return
                        if job.include_usage or chunk.get("choices"):
                            if not job.include_usage:
                                chunk.pop("usage", None)
                            if job.guard is not None:
                                try:
                                    chunk = job.guard.transform(chunk)
                                except GuardrailRefusedError as refused:
                                    outcome = "output_blocked"
                                    yield sse(error_body(refused))
                                    return
                            answer.add_sent(chunk)
                            yield sse(answer.stamp(chunk))
                        try:
                            chunk = await asyncio.wait_for(anext(relay.source, None), idle_timeout)
                        except TimeoutError as exc:
                            raise UpstreamTimeoutError(
                                f"{relay.target.target.label} sent nothing for {idle_timeout:.0f} s mid-stream"
                            ) from exc
                    break
                except TollgateError as err:
                    logger.warning("stream from %s failed after the first chunk: %s",
                                   relay.target.target.label, err.message)
                    relay.release()
                    self._failover.observe(relay.target, classify(err), relay.started)
                    await relay.source.aclose()  # type: ignore[attr-defined]
                    following = await self._continue(job, relay, answer) if job.continuation else None
                    if following is None:
                        # No failover after the first byte: an error event and no [DONE], so no
                        # client mistakes a cut answer for a complete one.
                        outcome = "upstream_error"
                        yield sse(error_body(err))
                        return
                    yield sse(answer.stamp(_continuation_marker(relay, following, err)))
                    relay, chunk = following, following.first
                    answer.continued = True
            if job.judging is not None:
                try:
                    await job.judging.finish(answer.text)  # before the guard's held-back tail goes out
                except JudgeFailedError as withheld:
                    outcome = "judge_failed"
                    yield sse(error_body(withheld))
                    return
            if job.guard is not None:
                template = {"id": None, "object": "chat.completion.chunk", "created": int(time.time()),
                            "model": relay.first.get("model", "")}
                try:
                    for held in job.guard.tail(template):
                        answer.add_sent(held)
                        yield sse(answer.stamp(held))
                except GuardrailRefusedError as refused:
                    outcome = "output_blocked"
                    yield sse(error_body(refused))
                    return
            marker = job.judging.marker(relay.first.get("model", "")) if job.judging is not None else None
            if marker is not None:
                yield sse(answer.stamp(marker))
            outcome = "ok"
        finally:
            relay.release()  # also when the client went away (nothing to say about the target then)
            # Charged before the last byte; when the client went away, for the tokens produced so far.
            await self._accounts.settle(job.admission, job.trace, target=relay.target, usage=answer.usage,
                                        produced_text=answer.text, outcome=outcome)
            if job.trace.texts is not None:
                job.trace.texts["answer"] = answer.text
            await relay.source.aclose()  # type: ignore[attr-defined]
            if outcome != "ok":
                job.trace.set(error_type=outcome if outcome != "client_disconnected" else None)
                self._recorder.record_soon(job.trace, outcome, 499 if outcome == "client_disconnected" else 200)
        self._failover.observe(relay.target, Outcome.OK, relay.started, ttft_ms=relay.ttft_ms,
                               output_tokens=answer.output_tokens)
        job.trace.set(status=200, outcome="ok")
        flagged = job.judging is not None and bool(job.judging.flagged)
        if job.cache is not None and answer.replayable and not flagged:
            self._cache.store(job.cache[0], {
                "content": answer.text, "model": relay.first.get("model", ""), "usage": answer.usage or {},
                "target": relay.target.target.label, "cost_usd": cost_usd(relay.target, answer.usage),
            }, job.cache[1])
        try:
            await self._recorder.record(job.trace)  # the last byte goes out only once the record is committed
        except TollgateError as err:
            yield sse(error_body(err))
            return
        if job.sample is not None:
            job.sample(answer.text)
        yield b"data: [DONE]\n\n"

    async def _continue(self, job: StreamJob, failed: Relay, answer: _Answer) -> Relay | None:
        """Ask another target that takes an assistant prefill to finish ``answer``; None if none can."""
        if answer.continued or answer.tool_calls or not answer.text.strip():
            return None
        prefill = answer.text.rstrip()  # Anthropic refuses a prefill that ends in whitespace
        request = dict(job.internal)
        request["messages"] = [*job.internal["messages"], {"role": "assistant", "content": prefill}]
        # vLLM continues the last assistant message only when told to.
        request.update(continue_final_message=True, add_generation_prompt=False)

        def takes_prefill(rt: ResolvedTarget) -> bool:
            return rt.target.provider in _PREFILL_PROVIDERS and rt != failed.target

        try:
            result = await self._failover.run(
                job.model, self._backends.open_stream(request), job.deadline, release_on_success=False,
                allow=takes_prefill,
            )
        except TollgateError as err:
            logger.warning("no target could continue the stream: %s", err.message)
            return None
        meta, first, source = result.value
        ttft_ms = float(meta.get(META_KEY, {}).get("upstream_ms", 0.0))
        relay = Relay(result.target, result.started, ttft_ms, first, source,
                      functools.partial(self._failover.board.release, result.lease))
        answer.skip_role = True
        answer.text = prefill
        return relay


def _output_tokens(usage: Any) -> int | None:
    if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
        return int(usage["completion_tokens"])
    return None


@dataclass
class _Answer:
    """The answer so far: its text, whether it called tools, and the id the client first saw."""

    text: str = ""
    tool_calls: bool = False
    output_tokens: int | None = None
    usage: dict[str, Any] | None = None
    stream_id: str | None = None
    continued: bool = False
    skip_role: bool = False
    finish_reason: str | None = None
    choices: set[int] = field(default_factory=set)
    sent: str = ""  # the text the client received (after the output policy)

    def add(self, chunk: Chunk) -> None:
        if chunk.get("usage"):
            self.usage = chunk["usage"]
            self.output_tokens = _output_tokens(chunk["usage"])
        for choice in chunk.get("choices") or []:
            self.choices.add(int(choice.get("index") or 0))
            delta = choice.get("delta") or {}
            if isinstance(delta.get("content"), str):
                self.text += delta["content"]
            if delta.get("tool_calls"):
                self.tool_calls = True
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]

    def add_sent(self, chunk: Chunk) -> None:
        for choice in chunk.get("choices") or []:
            content = (choice.get("delta") or {}).get("content")
            if isinstance(content, str):
                self.sent += content

    @property
    def replayable(self) -> bool:
        """A complete, single-choice text answer that reached the client unchanged by the output policy."""
        return (self.finish_reason == "stop" and not self.tool_calls and not self.continued and self.choices == {0}
                and bool(self.text) and self.sent == self.text)

    def stamp(self, chunk: Chunk) -> Chunk:
        """Keep one stream id for the client, and drop the second ``role`` delta after a continuation."""
        if self.stream_id is None:
            self.stream_id = chunk.get("id")
        else:
            chunk["id"] = self.stream_id
        if self.skip_role:
            for choice in chunk.get("choices") or []:
                (choice.get("delta") or {}).pop("role", None)
        return chunk


def _continuation_marker(failed: Relay, following: Relay, err: TollgateError) -> Chunk:
    """A content-free chunk that tells the client the answer continues on another target."""
    return {
        "id": None,  # stamped with the stream's id
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": following.first.get("model", ""),
        "choices": [{"index": 0, "delta": {}, "finish_reason": None}],
        "tollgate_continuation": {
            "from": failed.target.target.label,
            "to": following.target.target.label,
            "reason": err.message,
        },
    }
