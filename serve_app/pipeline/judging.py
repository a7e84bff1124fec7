"""The judges on the request path.

Which judges apply to an answer is resolved per team and model (:meth:`JudgeStep.plan`). Inline judges run before
the answer is released: ``block`` withholds it (:class:`~tollgate_core.errors.JudgeFailedError`), ``flag``
releases it marked. Sampled judges run after the answer was sent, from a bounded queue that drops (and counts)
rather than grows, so they never add latency. Every verdict goes into the audit record (a sampled one into a
``judgement`` record of the same request id, since the request's record is committed before the last byte) and
the metrics; a judge that errors or times out is ``error``, never a pass.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from deployments.judges.context import retrieved_context
from deployments.judges.service import JudgeService, prepared_service, run_judges
from deployments.judges.verdict import verdict_of
from serve_app.audit.record import AuditRecord
from serve_app.audit.trace import RequestTrace
from serve_app.pipeline.recording import Recorder
from tollgate_core.config import GatewayConfig, JudgesConfig
from tollgate_core.entities import Principal
from tollgate_core.errors import JudgeFailedError
from tollgate_core.judge_policy import JudgeRule
from tollgate_core.metrics import GatewayMetrics

__all__ = ["FailureAlerts", "JudgeLink", "JudgePlan", "JudgeStep", "LocalJudgeLink", "StreamJudging", "judge_step"]

logger = logging.getLogger("tollgate.judges")
Rules = tuple[tuple[str, JudgeRule], ...]
# A chat call through the gateway's routing for a routed judge: (model, request, key variable) -> the answer's text.
Complete = Callable[[str, dict[str, Any], str | None], Awaitable[str]]


class JudgeLink(Protocol):
    """The Judge deployment (or the judges in process): one outcome per call."""

    async def judge(self, calls: list[tuple[str, dict[str, Any]]], messages: list[dict[str, Any]], answer: str,
                    context: str | None) -> list[dict[str, Any]]: ...


class LocalJudgeLink:
    """The judges in the calling process (``judges.placement: ingress``, tests, tools). A judge that runs a model
    runs in a worker thread, so the event loop goes on serving other requests meanwhile."""

    def __init__(self, service: JudgeService | None = None) -> None:
        self._service = service or JudgeService()

    async def judge(self, calls: list[tuple[str, dict[str, Any]]], messages: list[dict[str, Any]], answer: str,
                    context: str | None) -> list[dict[str, Any]]:
        return await run_judges(self._service, calls, messages, answer, context)


@dataclass(frozen=True)
class JudgePlan:
    """The judges that apply to one request's answer."""

    team: str  # the team id, as the metrics label it ('' for the master key)
    model: str
    inline: Rules
    sampled: Rules

    @property
    def blocking(self) -> Rules:
        return tuple((name, rule) for name, rule in self.inline if rule.action == "block")


def _failed(name: str, error: str) -> dict[str, Any]:
    return {"judge": name, "passed": False, "score": None, "error": error, "reason": f"not judged: {error}"}


def _entry(name: str, rule: JudgeRule, outcome: dict[str, Any]) -> dict[str, Any]:
    """A verdict as the audit record keeps it, with what it did to the answer: never the texts."""
    verdict = verdict_of(outcome)
    score = outcome.get("score")
    return {"judge": name, "mode": rule.mode, "verdict": verdict,
            "score": round(float(score), 4) if score is not None else None, "action": rule.action_for(verdict)}


class FailureAlerts:
    """Per team and judge, the failure rate over a sliding window; an alert fires (a log line, the
    ``tollgate_judge_alert`` gauge at 1) when it reaches the rule's ``alert_failure_rate`` and clears below it."""

    def __init__(self, window_s: float, min_verdicts: int, metrics: GatewayMetrics,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._window_s = window_s
        self._min = min_verdicts
        self._metrics = metrics
        self._clock = clock
        self._seen: dict[tuple[str, str], deque[tuple[float, bool]]] = {}
        self.firing: set[tuple[str, str]] = set()

    def observe(self, team: str, judge: str, failed: bool, threshold: float | None) -> None:
        if threshold is None:
            return
        now = self._clock()
        seen = self._seen.setdefault((team, judge), deque())
        seen.append((now, failed))
        while seen and seen[0][0] < now - self._window_s:
            seen.popleft()
        if len(seen) < self._min:
            return
        rate = sum(f for _, f in seen) / len(seen)
        key = (team, judge)
        if rate >= threshold and key not in self.firing:
            self.firing.add(key)
            logger.warning("judge alert: %s fails %.1f%% of team %s's answers over the last %.0f s (threshold "
                           "%.1f%%, %d verdicts)", judge, rate * 100, team or "(master key)", self._window_s,
                           threshold * 100, len(seen))
            self._metrics.judge_alert(team, judge, True)
        elif rate < threshold and key in self.firing:
            self.firing.discard(key)
            logger.info("judge alert cleared: %s fails %.1f%% of team %s's answers", judge, rate * 100, team)
            self._metrics.judge_alert(team, judge, False)


@dataclass
class _Sampled:
    """One answer waiting for its sampled judges."""

    plan: JudgePlan
    rules: Rules
    messages: list[dict[str, Any]]
    answer: str
    context: str | None
    identity: dict[str, Any]  # the request's fields the judgement record repeats


class JudgeStep:
    """Resolves, runs and records the judges of answers."""

    def __init__(self, config: JudgesConfig, inline_link: JudgeLink, sampled_link: JudgeLink,
                 metrics: GatewayMetrics, recorder: Recorder, *, rng: Callable[[], float] = random.random,
                 complete: Complete | None = None) -> None:
        self._config = config
        self._complete = complete
        self._inline_link = inline_link
        self._sampled_link = sampled_link
        self._metrics = metrics
        self._recorder = recorder
        self._rng = rng
        self._plans: dict[tuple[str, str], tuple[Rules, Rules]] = {}
        self.alerts = FailureAlerts(config.alert_window_s, config.alert_min_verdicts, metrics)
        self._queue: asyncio.Queue[_Sampled] = asyncio.Queue(config.queue_size)
        self._workers: list[asyncio.Task[None]] = []

    # Which judges --------------------------------------------------------------------------------------------------

    def plan(self, principal: Principal, model: str) -> JudgePlan | None:
        """The judges of this caller's answers from ``model``; None when none applies."""
        key = (principal.team_path or "", model)
        if key not in self._plans:
            rules = self._config.rules(*key)
            self._plans[key] = (
                tuple((n, r) for n, r in rules.items() if r.mode == "inline"),
                tuple((n, r) for n, r in rules.items() if r.mode == "sampled" and r.sample > 0),
            )
        inline, sampled = self._plans[key]
        if not inline and not sampled:
            return None
        return JudgePlan(principal.team_id or "", model, inline, sampled)

    # Running them --------------------------------------------------------------------------------------------------

    async def _run(self, link: JudgeLink, rules: Rules, messages: list[dict[str, Any]], answer: str,
                   context: str | None) -> list[dict[str, Any]]:
        """One outcome per rule, in order: the judges of the Judge deployment in one call, each routed judge
        (``rubric``) as a call through the gateway; a call that fails or times out is an error outcome."""
        served = tuple((n, r) for n, r in rules if not r.routed)
        routed = tuple((n, r) for n, r in rules if r.routed)
        parts = await asyncio.gather(
            *([self._served(link, served, messages, answer, context)] if served else []),
            *(self._routed(name, rule, messages, answer) for name, rule in routed))
        by_name = {o["judge"]: o for part in parts for o in part}
        return [by_name.get(n) or _failed(n, "missing") for n, _ in rules]

    async def _served(self, link: JudgeLink, rules: Rules, messages: list[dict[str, Any]], answer: str,
                      context: str | None) -> list[dict[str, Any]]:
        calls = [(name, rule.params()) for name, rule in rules]
        timeout = max(rule.timeout_s for _, rule in rules)
        try:
            return await asyncio.wait_for(link.judge(calls, messages, answer, context), timeout)
        except TimeoutError:
            logger.warning("judges %s timed out after %.1f s", [n for n, _ in rules], timeout)
            return [_failed(n, "timeout") for n, _ in rules]
        except Exception as exc:
            logger.warning("judges %s could not run: %s", [n for n, _ in rules], exc)
            return [_failed(n, type(exc).__name__) for n, _ in rules]

    async def _routed(self, name: str, rule: JudgeRule, messages: list[dict[str, Any]],
                      answer: str) -> list[dict[str, Any]]:
        from deployments.judges.rubric import read_rubric_reply, rubric_request

        if self._complete is None:
            return [_failed(name, "no_routing")]
        params = rule.params()
        request = rubric_request(params["model"], params["rubric"], messages, answer, params["max_tokens"])
        try:
            reply = await asyncio.wait_for(self._complete(params["model"], request, params["key_env"]),
                                           rule.timeout_s)
        except TimeoutError:
            logger.warning("judge %s timed out after %.1f s", name, rule.timeout_s)
            return [_failed(name, "timeout")]
        except Exception as exc:  # a refused budget, no target, a provider error: all mean "not judged"
            logger.warning("judge %s could not run: %s", name, getattr(exc, "message", exc))
            return [_failed(name, getattr(exc, "error_type", None) or type(exc).__name__)]
        return [{**read_rubric_reply(reply), "judge": name}]

    def _observe(self, plan: JudgePlan, rule: JudgeRule, entry: dict[str, Any]) -> None:
        self._metrics.judge_verdict(entry["judge"], entry["verdict"], rule.mode, plan.team, plan.model)
        if entry["verdict"] != "error":
            self.alerts.observe(plan.team, entry["judge"], entry["verdict"] == "fail", rule.alert_failure_rate)

    async def inline(self, plan: JudgePlan, messages: list[dict[str, Any]], answer: str, trace: RequestTrace,
                     rules: Rules | None = None) -> dict[str, str]:
        """Judge ``answer`` with the inline rules (or ``rules``) and record the verdicts on ``trace``; the headers
        that describe them. Raises :class:`JudgeFailedError` when one withholds the answer."""
        context = retrieved_context(messages)
        rules = tuple((n, r) for n, r in (plan.inline if rules is None else rules) if r.applies(messages, context))
        if not rules:
            return {}
        outcomes = await self._run(self._inline_link, rules, messages, answer, context)
        entries = []
        headers: dict[str, str] = {}
        blocked: JudgeFailedError | None = None
        for (name, rule), outcome in zip(rules, outcomes, strict=True):
            entry = _entry(name, rule, outcome)
            verdict = entry["verdict"]
            entries.append(entry)
            self._observe(plan, rule, entry)
            score = f"; score={entry['score']:.3f}" if entry["score"] is not None else ""
            headers[f"x-tollgate-judge-{name.replace('_', '-')}"] = f"{verdict}{score}"
            if entry["action"] == "block" and blocked is None:
                if verdict == "error":
                    blocked = JudgeFailedError(
                        f"the answer was withheld: the {name} judge could not judge it ({outcome.get('error')}) "
                        "and its policy fails closed", code="judge_unavailable", status_code=503)
                else:
                    blocked = JudgeFailedError(
                        f"the answer was withheld: the {name} judge failed it (score {entry['score']:.2f})")
        flagged = [e["judge"] for e in entries if e["action"] == "flag"]
        headers["x-tollgate-judge-action"] = "block" if blocked else ("flag" if flagged else "allow")
        if flagged:
            headers["x-tollgate-judge-flagged"] = ",".join(flagged)
        trace.fields.setdefault("judges", []).extend(entries)
        if blocked is not None:
            blocked.headers.update(headers)
            raise blocked
        return headers

    def sample(self, plan: JudgePlan, messages: list[dict[str, Any]], answer: str, trace: RequestTrace) -> None:
        """Queue the answer for the sampled judges that draw it (never waits; a full queue drops and counts)."""
        context = retrieved_context(messages)
        rules = tuple((n, r) for n, r in plan.sampled if r.applies(messages, context) and self._rng() < r.sample)
        if not rules:
            return
        identity = {k: trace.fields.get(k) for k in ("client_request_id", "org_id", "team_id", "key_id", "endpoint",
                                                      "model", "target", "provider", "stream")}
        job = _Sampled(plan, rules, messages, answer, context,
                       {"request_id": trace.request_id, **{k: v for k, v in identity.items() if v is not None}})
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            for name, _ in rules:
                self._metrics.judge_dropped(name)
            return
        self._ensure_workers()

    def _ensure_workers(self) -> None:
        self._workers = [w for w in self._workers if not w.done()]
        while len(self._workers) < self._config.workers:
            self._workers.append(asyncio.create_task(self._work()))

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                await self._judge_sampled(job)
            except Exception:
                logger.exception("a sampled judgement failed")
            finally:
                self._queue.task_done()

    async def _judge_sampled(self, job: _Sampled) -> None:
        outcomes = await self._run(self._sampled_link, job.rules, job.messages, job.answer, job.context)
        entries = []
        for (name, rule), outcome in zip(job.rules, outcomes, strict=True):
            entry = _entry(name, rule, outcome)  # a sampled verdict never acts: action allow
            entries.append(entry)
            self._observe(job.plan, rule, entry)
        record = AuditRecord(time=time.time(), kind="judgement", judges=entries, outcome="judged",
                             **job.identity)
        await self._recorder.append_only(record)

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Wait (at most ``timeout_s``) for the queued sampled judgements."""
        try:
            await asyncio.wait_for(self._queue.join(), timeout_s)
        except TimeoutError:
            logger.warning("%d sampled judgements were still queued at shutdown", self._queue.qsize())

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    def stream(self, plan: JudgePlan, messages: list[dict[str, Any]], trace: RequestTrace) -> StreamJudging:
        return StreamJudging(self, plan, messages, trace, self._config.stream_check_chars)


def judge_step(config: GatewayConfig, deployed: JudgeLink | None, metrics: GatewayMetrics,
               recorder: Recorder, complete: Complete | None = None) -> JudgeStep | None:
    """The judges of a gateway: inline ones in the Judge deployment, or in process with ``placement: ingress``;
    sampled ones in the deployment whenever there is one (they must not take the ingress's time)."""
    if not config.judges.enabled:
        return None
    if deployed is None:  # no Judge deployment: every judge in this process
        local = LocalJudgeLink(prepared_service(config.judges))
        return JudgeStep(config.judges, local, local, metrics, recorder, complete=complete)
    inline: JudgeLink = deployed
    if config.judges.placement == "ingress":
        inline = LocalJudgeLink(prepared_service(config.judges, inline_only=True))
    return JudgeStep(config.judges, inline, deployed, metrics, recorder, complete=complete)


@dataclass
class StreamJudging:
    """Inline judges over a stream: the cheap blocking ones again each ``every`` characters (before the chunk that
    reaches the mark is sent), every inline one at the end, before the held-back tail and ``[DONE]``. A routed
    judge (``rubric``) runs at the end only: one model call per answer."""

    step: JudgeStep
    plan: JudgePlan
    messages: list[dict[str, Any]]
    trace: RequestTrace
    every: int
    _checked: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    _blocking: Rules = field(init=False, default=())  # the judges run mid-stream, chosen once per stream
    _context: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._context = retrieved_context(self.messages)
        self._blocking = tuple((n, r) for n, r in self.plan.blocking
                               if r.incremental and r.applies(self.messages, self._context))

    async def check(self, text: str) -> None:
        """Mid-stream: raises :class:`JudgeFailedError` when a blocking judge fails the text so far."""
        if not self._blocking or len(text) - self._checked < self.every:
            return
        self._checked = len(text)
        outcomes = await self.step._run(self.step._inline_link, self._blocking, self.messages, text, self._context)
        if any(verdict_of(o) == "fail" for o in outcomes):
            await self.finish(text)  # records the verdicts and raises; a mid-stream error waits for the end

    async def finish(self, text: str) -> None:
        """At the end: every inline judge; raises :class:`JudgeFailedError` when one withholds the answer."""
        self.headers = await self.step.inline(self.plan, self.messages, text, self.trace)

    @property
    def flagged(self) -> list[str]:
        """The judges that flagged the answer (after :meth:`finish`)."""
        names = self.headers.get("x-tollgate-judge-flagged")
        return names.split(",") if names else []

    def marker(self, model: str) -> dict[str, Any] | None:
        """A content-free chunk naming the judges that flagged the answer (headers were sent long ago)."""
        if not self.flagged:
            return None
        return {"id": None, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "delta": {}, "finish_reason": None}],
                "tollgate_judges": {"action": "flag", "flagged": self.flagged}}
