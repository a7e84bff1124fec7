"""Judges on the request path: inline block and flag on every answer endpoint, streamed and not; sampled judgements
off the path from a bounded queue; errors that never pass; verdicts in the audit record, the metrics and
``tollgate judge report``; alerts on a team's failure rate.

The fake provider echoes the user's text, so an answer "leaks" when the user's message holds a value the
operator marked confidential.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from fake_providers.server import FakeProviderServer
from serve_app.audit.trace import RequestTrace
from serve_app.http.api import create_api
from serve_app.pipeline.judging import FailureAlerts, JudgeStep
from serve_app.pipeline.recording import Recorder
from tests.unit._gateway_helpers import MASTER_KEY, InProcessBackend, audit_records, upstream_requests
from tollgate_core.config import parse_gateway_config
from tollgate_core.entities import Principal, Scope
from tollgate_core.errors import ConfigError, JudgeFailedError
from tollgate_core.metrics import NullMetrics
from tollgate_core.store import Database, open_database

SECRET = "ORION-7731"
LEAKING = f"the launch code is {SECRET} thanks"
BENIGN = "what time is it in Lisbon"
MASTER = {"Authorization": f"Bearer {MASTER_KEY}"}
ENDPOINTS = ("/v1/chat/completions", "/v1/messages", "/v1/responses", "/v1/completions")
# The terminal event of a stream that completed, per endpoint.
CATALOG = {"m": {"targets": [{"provider": "openai", "model": "m", "api_base": "http://127.0.0.1:9/v1",
                              "api_key_env": "UNIT_KEY"}]}}
COMPLETED = {"/v1/chat/completions": "[DONE]", "/v1/messages": "message_stop", "/v1/responses": "response.completed",
             "/v1/completions": "[DONE]"}


def body_for(endpoint: str, text: str, stream: bool) -> dict[str, Any]:
    if endpoint == "/v1/messages":
        return {"model": "gpt-4o", "max_tokens": 40, "stream": stream, "messages": [{"role": "user", "content": text}]}
    if endpoint == "/v1/responses":
        return {"model": "gpt-4o", "max_output_tokens": 40, "stream": stream, "input": text}
    if endpoint == "/v1/completions":
        return {"model": "gpt-4o", "max_tokens": 40, "stream": stream, "prompt": text}
    return {"model": "gpt-4o", "max_tokens": 40, "stream": stream, "messages": [{"role": "user", "content": text}]}


class RecordingMetrics(NullMetrics):
    def __init__(self) -> None:
        self.verdicts: list[tuple[str, str, str, str, str]] = []
        self.dropped: list[str] = []
        self.alerts: list[tuple[str, str, bool]] = []

    def judge_verdict(self, judge: str, verdict: str, mode: str, team: str, model: str) -> None:
        self.verdicts.append((judge, verdict, mode, team, model))

    def judge_dropped(self, judge: str) -> None:
        self.dropped.append(judge)

    def judge_alert(self, team: str, judge: str, firing: bool) -> None:
        self.alerts.append((team, judge, firing))


class Stack:
    def __init__(self, client: httpx.AsyncClient, db: Database, gateway: Any, metrics: RecordingMetrics) -> None:
        self.client, self.db, self.gateway, self.metrics = client, db, gateway, metrics

    async def records(self) -> list[dict[str, Any]]:
        await self.gateway.drain()
        await self.gateway.recorder.drain()
        return await audit_records(self.db)


@asynccontextmanager
async def judged_gateway(fake: FakeProviderServer, tmp_path: Path, judges: dict[str, Any]) -> AsyncIterator[Stack]:
    """The whole request path in process (guardrail, governance, audit on SQLite) with ``judges``."""
    from deployments.guardrail.service import GuardrailService
    from deployments.guardrail.step import LocalGuardrailLink
    from deployments.providers.proxy import ProviderProxy
    from serve_app.audit.writer import AuditWriter
    from serve_app.governance.enforcer import Governance
    from serve_app.pipeline.gateway import Bookkeeping, Deployments, Gateway
    from tollgate_core.config import ProviderKind

    async with httpx.AsyncClient() as admin:
        await admin.post(f"{fake.base_url}/_fake/reset")
    target = {"provider": "openai", "api_base": f"{fake.base_url}/v1", "api_key_env": "UNIT_OPENAI_KEY",
              "model": "gpt-4o", "prices": {"input": 1000.0, "output": 1000.0}}
    models = {"gpt-4o": {"targets": [target]}, "judge-model": {"targets": [{**target, "model": "gpt-4o-mini"}]}}
    config = parse_gateway_config({"models": models, "judges": {"enabled": True, **judges},
                                   "state": {"url": f"sqlite:///{tmp_path / 'state.db'}"}})
    db = await open_database(f"sqlite:///{tmp_path / 'state.db'}")
    writer = AuditWriter(db, hmac_key=b"unit-audit-key")
    service = GuardrailService({}, {}, {})
    metrics = RecordingMetrics()
    gateway = Gateway(config, {ProviderKind.OPENAI: InProcessBackend(ProviderProxy(config, {ProviderKind.OPENAI}))},
                      MASTER_KEY, Deployments(guardrail=LocalGuardrailLink(service), guards=service),
                      Bookkeeping(governance=Governance(db, config), audit=writer, metrics=metrics))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_api(gateway)),
                                     base_url="http://gateway") as client:
            yield Stack(client, db, gateway, metrics)
    finally:
        await gateway.drain()
        await writer.close()
        await db.close()


def rule(**fields: Any) -> dict[str, Any]:
    return {"policy": {"prompt_leak": {"confidential": [SECRET], **fields}}, "stream_check_chars": 1}


def error_of(endpoint: str, response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    return dict(body["error"])


# Inline: block and flag on every endpoint, streamed and not ------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_inline_block_withholds_a_whole_answer(fake: FakeProviderServer, tmp_path: Path, endpoint: str) -> None:
    async with judged_gateway(fake, tmp_path, rule(mode="inline", action="block")) as stack:
        refused = await stack.client.post(endpoint, json=body_for(endpoint, LEAKING, False), headers=MASTER)
        assert refused.status_code == 502, refused.text
        error = error_of(endpoint, refused)
        assert "prompt_leak" in error["message"] and SECRET not in refused.text
        if endpoint != "/v1/messages":  # Anthropic's shape has no code; its message names the judge
            assert error["code"] == "judge_failed"
        assert refused.headers["x-tollgate-judge-action"] == "block"

        allowed = await stack.client.post(endpoint, json=body_for(endpoint, BENIGN, False), headers=MASTER)
        assert allowed.status_code == 200 and allowed.headers["x-tollgate-judge-prompt-leak"].startswith("pass")

        blocked_record, allowed_record = await stack.records()
        assert blocked_record["outcome"] == "judge_failed" and blocked_record["status"] == 502
        assert blocked_record["judges"] == [{"judge": "prompt_leak", "mode": "inline", "verdict": "fail",
                                             "score": 1.0, "action": "block"}]
        assert allowed_record["judges"][0]["verdict"] == "pass" and allowed_record["outcome"] == "ok"
        assert [v[:3] for v in stack.metrics.verdicts] == [("prompt_leak", "fail", "inline"),
                                                           ("prompt_leak", "pass", "inline")]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_inline_block_cuts_a_stream_before_the_value_goes_out(fake: FakeProviderServer, tmp_path: Path,
                                                                   endpoint: str) -> None:
    async with judged_gateway(fake, tmp_path, rule(mode="inline", action="block")) as stack:
        response = await stack.client.post(endpoint, json=body_for(endpoint, LEAKING, True), headers=MASTER)
        assert response.status_code == 200  # the stream had begun
        assert "judge_failed" in response.text and COMPLETED[endpoint] not in response.text
        assert "ORION" not in response.text  # checked before the chunk that completes it was sent
        assert "launch" in response.text     # what came before it was streamed as usual

        clean = await stack.client.post(endpoint, json=body_for(endpoint, BENIGN, True), headers=MASTER)
        assert COMPLETED[endpoint] in clean.text and "judge_failed" not in clean.text

        blocked_record, clean_record = await stack.records()
        assert (blocked_record["outcome"], blocked_record["stream"]) == ("judge_failed", True)
        assert blocked_record["judges"][0] | {"score": None} == {"judge": "prompt_leak", "mode": "inline",
                                                                 "verdict": "fail", "score": None, "action": "block"}
        assert clean_record["judges"][0]["verdict"] == "pass" and clean_record["outcome"] == "ok"


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_inline_flag_releases_the_answer_marked(fake: FakeProviderServer, tmp_path: Path, endpoint: str,
                                                     stream: bool) -> None:
    async with judged_gateway(fake, tmp_path, rule(mode="inline", action="flag")) as stack:
        response = await stack.client.post(endpoint, json=body_for(endpoint, LEAKING, stream), headers=MASTER)
        assert response.status_code == 200 and "7731" in response.text  # a stream may split the value
        if stream:
            assert COMPLETED[endpoint] in response.text
            if endpoint == "/v1/chat/completions":
                assert '"tollgate_judges":{"action":"flag","flagged":["prompt_leak"]}' in response.text
        else:
            assert response.headers["x-tollgate-judge-action"] == "flag"
            assert response.headers["x-tollgate-judge-flagged"] == "prompt_leak"
            assert response.headers["x-tollgate-judge-prompt-leak"] == "fail; score=1.000"
        [record] = await stack.records()
        assert record["outcome"] == "ok" and record["judges"][0]["action"] == "flag"
        assert record["judges"][0]["verdict"] == "fail"


async def test_no_system_prompt_and_no_values_nothing_is_judged(fake: FakeProviderServer, tmp_path: Path) -> None:
    """prompt_leak has nothing to compare without a system prompt or confidential values: no call, no verdict."""
    judges = {"policy": {"prompt_leak": {"mode": "inline", "action": "block"}}}
    async with judged_gateway(fake, tmp_path, judges) as stack:
        plain = await stack.client.post("/v1/chat/completions", json=body_for("/v1/chat/completions", BENIGN, False),
                                        headers=MASTER)
        assert "x-tollgate-judge-action" not in plain.headers
        system = {"model": "gpt-4o", "messages": [{"role": "system", "content": "You are the helpdesk of Acme."},
                                                  {"role": "user", "content": BENIGN}]}
        prompted = await stack.client.post("/v1/chat/completions", json=system, headers=MASTER)
        assert prompted.headers["x-tollgate-judge-prompt-leak"].startswith("pass")
        first, second = await stack.records()
        assert first["judges"] == [] and second["judges"][0]["verdict"] == "pass"


# Sampled: after the answer, from a bounded queue ------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_sampled_judgements_come_after_the_answer(fake: FakeProviderServer, tmp_path: Path,
                                                        stream: bool) -> None:
    async with judged_gateway(fake, tmp_path, rule(mode="sampled", sample=1.0)) as stack:
        response = await stack.client.post("/v1/chat/completions",
                                           json=body_for("/v1/chat/completions", LEAKING, stream), headers=MASTER)
        assert response.status_code == 200 and "7731" in response.text
        assert not any(h.startswith("x-tollgate-judge") for h in response.headers)
        request, judgement = await stack.records()
        assert request["kind"] == "request" and request["judges"] == []
        assert judgement["kind"] == "judgement" and judgement["request_id"] == request["request_id"]
        assert judgement["judges"] == [{"judge": "prompt_leak", "mode": "sampled", "verdict": "fail", "score": 1.0,
                                        "action": "allow"}]
        assert stack.metrics.verdicts == [("prompt_leak", "fail", "sampled", "", "gpt-4o")]


class BlockingLink:
    """A judge call that waits until released (or raises / sleeps), to see the queue and the errors."""

    def __init__(self, *, fail: bool = False, sleep_s: float = 0.0) -> None:
        self.release = asyncio.Event()
        self.fail = fail
        self.sleep_s = sleep_s
        self.calls = 0

    async def judge(self, calls: list[tuple[str, dict[str, Any]]], messages: list[dict[str, Any]], answer: str,
                    context: str | None) -> list[dict[str, Any]]:
        self.calls += 1
        if self.fail:
            raise RuntimeError("judge replica died")
        if self.sleep_s:
            await asyncio.sleep(self.sleep_s)
        else:
            await self.release.wait()
        return [{"judge": name, "passed": True, "score": 0.0, "reason": "ok", "error": None} for name, _ in calls]


def step_for(judges: dict[str, Any], link: Any, metrics: RecordingMetrics, **options: Any) -> JudgeStep:
    config = parse_gateway_config({"models": CATALOG,
                                   "judges": {"enabled": True, **judges}})
    return JudgeStep(config.judges, link, link, metrics, Recorder(None, None), **options)


PRINCIPAL = Principal(key_id="k1", team_id="t1", org_id="o1",
                      scopes=(Scope(level="org", id="o1", name="acme"), Scope(level="team", id="t1", name="ml")))
SYSTEM = [{"role": "system", "content": "You are the helpdesk."}, {"role": "user", "content": "hi"}]


async def test_a_full_queue_drops_and_counts_instead_of_growing() -> None:
    metrics = RecordingMetrics()
    link = BlockingLink()
    step = step_for({"policy": {"prompt_leak": {"mode": "sampled"}}, "queue_size": 1, "workers": 1}, link, metrics)
    plan = step.plan(PRINCIPAL, "m")
    assert plan is not None
    for _ in range(3):
        step.sample(plan, SYSTEM, "hello", RequestTrace())  # returns at once, whatever the queue holds
    assert metrics.dropped == ["prompt_leak", "prompt_leak"] and step.queued == 1
    link.release.set()
    await step.drain(timeout_s=5)
    assert link.calls == 1 and step.queued == 0


async def test_sampling_draws_the_configured_fraction() -> None:
    draws = iter([0.04, 0.06, 0.5, 0.01])
    link = BlockingLink(sleep_s=0.001)
    step = step_for({"policy": {"prompt_leak": {"mode": "sampled", "sample": 0.05}}}, link, RecordingMetrics(),
                    rng=lambda: next(draws))
    plan = step.plan(PRINCIPAL, "m")
    assert plan is not None
    for _ in range(4):
        step.sample(plan, SYSTEM, "hello", RequestTrace())
    await step.drain(timeout_s=5)
    assert link.calls == 2


# Errors never pass ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "blocks"), [
    ({"mode": "inline", "action": "block"}, True),                      # fails closed by default
    ({"mode": "inline", "action": "block", "on_error": "allow"}, False),
    ({"mode": "inline", "action": "flag"}, False),                      # fails open by default
    ({"mode": "inline", "action": "flag", "on_error": "block"}, True),
])
@pytest.mark.parametrize("failure", ["raises", "times_out"])
async def test_a_judge_that_cannot_judge_is_an_error_never_a_pass(fields: dict[str, Any], blocks: bool,
                                                                  failure: str) -> None:
    metrics = RecordingMetrics()
    link = BlockingLink(fail=failure == "raises", sleep_s=0 if failure == "raises" else 5)
    step = step_for({"policy": {"prompt_leak": {**fields, "timeout_s": 0.05}}}, link, metrics)
    plan = step.plan(PRINCIPAL, "m")
    assert plan is not None
    trace = RequestTrace()
    if blocks:
        with pytest.raises(JudgeFailedError) as caught:
            await step.inline(plan, SYSTEM, "hello", trace)
        assert caught.value.status_code == 503 and caught.value.code == "judge_unavailable"
    else:
        headers = await step.inline(plan, SYSTEM, "hello", trace)
        assert headers["x-tollgate-judge-prompt-leak"] == "error" and headers["x-tollgate-judge-action"] == "allow"
    assert trace.fields["judges"][0]["verdict"] == "error"
    assert metrics.verdicts == [("prompt_leak", "error", "inline", "t1", "m")]


# Which rules apply --------------------------------------------------------------------------------------------


def test_team_and_model_overrides_merge_over_the_policy() -> None:
    judges = {"policy": {"prompt_leak": {"mode": "inline", "action": "block"}},
              "models": {"m": {"prompt_leak": {"action": "flag"}}},
              "teams": {"acme/ml": {"prompt_leak": {"mode": "sampled", "sample": 0.25}}}}
    step = step_for(judges, BlockingLink(), RecordingMetrics())
    mine = step.plan(PRINCIPAL, "m")
    other_team = step.plan(Principal(key_id="k2", team_id="t2", org_id="o1",
                                     scopes=(Scope(level="org", id="o1", name="acme"),
                                             Scope(level="team", id="t2", name="web"))), "m")
    assert mine is not None and other_team is not None
    assert mine.inline == () and mine.sampled[0][1].sample == 0.25 and mine.sampled[0][1].action == "flag"
    assert other_team.inline[0][1].action == "flag" and other_team.sampled == ()


@pytest.mark.parametrize(("judges", "problem"), [
    ({"policy": {"prompt_leak": {"mode": "always"}}}, "policy.prompt_leak.mode"),
    ({"policy": {"prompt_leak": {"sample": 2}}}, "policy.prompt_leak.sample"),
    ({"teams": {"acme/ml": {"prompt_leak": {"acton": "block"}}}}, "teams.acme/ml.prompt_leak.acton"),
    ({"policy": {"grounded": {"mode": "sampled", "threshold": 2}}}, "policy.grounded.threshold"),
    ({"policy": {"toxicity": {}}}, "toxicity: not a judge"),
    ({"models": {"nope": {}}}, "judges.models.nope: not a model"),
])
def test_a_bad_judges_section_fails_at_start_naming_the_field(judges: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_gateway_config({"models": CATALOG, "judges": judges})
    assert problem in caught.value.message


# Alerts and the report -------------------------------------------------------------------------------------------


def test_an_alert_fires_at_the_threshold_and_clears_below_it(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    metrics = RecordingMetrics()
    alerts = FailureAlerts(window_s=100, min_verdicts=4, metrics=metrics, clock=lambda: now[0])
    for failed in (True, True, True):
        alerts.observe("t1", "prompt_leak", failed, 0.5)
    assert metrics.alerts == []  # too few verdicts to say
    alerts.observe("t1", "prompt_leak", False, 0.5)  # 3 of 4
    assert metrics.alerts == [("t1", "prompt_leak", True)] and "judge alert" in caplog.text
    alerts.observe("t1", "prompt_leak", False, 0.5)  # 3 of 5: still at or above
    now[0] = 150.0  # the first five leave the window
    for _ in range(4):
        alerts.observe("t1", "prompt_leak", False, 0.5)
    assert metrics.alerts == [("t1", "prompt_leak", True), ("t1", "prompt_leak", False)]
    alerts.observe("t2", "prompt_leak", True, None)  # no threshold, no alert
    assert len(metrics.alerts) == 2


async def test_the_report_counts_inline_and_sampled_verdicts(fake: FakeProviderServer, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from serve_app.cli.main import main

    judges = {"policy": {"prompt_leak": {"mode": "inline", "action": "flag", "confidential": [SECRET],
                                         "alert_failure_rate": 0.5}},
              "alert_min_verdicts": 3}
    async with judged_gateway(fake, tmp_path, judges) as stack:
        for text in (LEAKING, LEAKING, BENIGN, LEAKING):
            response = await stack.client.post("/v1/chat/completions",
                                               json=body_for("/v1/chat/completions", text, False), headers=MASTER)
            assert response.status_code == 200
        await stack.records()
    config = tmp_path / "serve.yaml"
    args = {"models": {"gpt-4o": {"targets": [{"provider": "openai", "model": "gpt-4o", "api_key_env": "UNIT_KEY",
                                               "api_base": "http://127.0.0.1:9/v1"}]}},
            "state": {"url": f"sqlite:///{tmp_path / 'state.db'}"}, "judges": {"enabled": True, **judges}}
    config.write_text(yaml.safe_dump({"applications": [{"name": "tollgate", "import_path": "serve_app.app:build_app",
                                                        "args": args}]}))
    def report(*extra: str) -> int:  # the CLI runs its own event loop
        return main(["judge", "report", "--config", str(config), *extra])

    assert await asyncio.to_thread(report, "--json") == 0
    [row] = json.loads(capsys.readouterr().out)["rows"]
    assert (row["team"], row["model"], row["judge"]) == ("(master key)", "gpt-4o", "prompt_leak")
    assert (row["judged"], row["failed"], row["flagged"], row["failure_rate"], row["alert"]) == (4, 3, 3, 0.75, True)
    assert await asyncio.to_thread(report) == 0
    table = capsys.readouterr().out
    assert "prompt_leak" in table and "75.0%" in table and "ALERT" in table
    assert await asyncio.to_thread(report, "--since", "2000-01-01", "--until", "2000-01-02") == 0
    assert "no judged answers" in capsys.readouterr().out


# rubric: an LLM judge through the gateway's own routing -----------------------------------------------------------
# The fake echoes the judge's prompt, whose first lines quote the user's message: a user message with FAIL (or PASS)
# in it makes the judge model's reply start with that word; one with neither gives an unreadable reply.


def rubric(**fields: Any) -> dict[str, Any]:
    return {"policy": {"rubric": {"model": "judge-model", "rubric": "The answer stays on our products.", **fields}}}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_rubric_blocks_through_the_gateways_own_routing(fake: FakeProviderServer, tmp_path: Path,
                                                              stream: bool) -> None:
    async with judged_gateway(fake, tmp_path, rubric(mode="inline", action="block")) as stack:
        response = await stack.client.post("/v1/chat/completions", headers=MASTER,
                                           json=body_for("/v1/chat/completions", "FAIL me please", stream))
        if stream:
            assert "judge_failed" in response.text and "[DONE]" not in response.text
        else:
            assert response.status_code == 502 and "rubric" in error_of("/v1/chat/completions", response)["message"]
        passing = await stack.client.post("/v1/chat/completions", headers=MASTER,
                                          json=body_for("/v1/chat/completions", "PASS me please", stream))
        assert passing.status_code == 200 and "judge_failed" not in passing.text
        records = await stack.records()
        judged = [r for r in records if r["endpoint"] == "/v1/chat/completions"]
        calls = [r for r in records if r["endpoint"] == "judge:rubric"]
        assert [r["judges"][0]["verdict"] for r in judged] == ["fail", "pass"]
        assert judged[0]["outcome"] == "judge_failed" and judged[1]["outcome"] == "ok"
        # Each judgement is a request of its own: routed, charged at the catalog's prices, recorded.
        assert len(calls) == 2 and all(c["model"] == "judge-model" and c["cost_usd"] > 0 for c in calls)
        sent = [r["body"] for r in await upstream_requests(fake) if r["body"]["model"] == "gpt-4o-mini"]
        assert len(sent) == 2 and "The answer stays on our products." in sent[0]["messages"][0]["content"]


async def test_an_unreadable_rubric_reply_is_an_error(fake: FakeProviderServer, tmp_path: Path) -> None:
    async with judged_gateway(fake, tmp_path, rubric(mode="inline", action="flag")) as stack:
        response = await stack.client.post("/v1/chat/completions", headers=MASTER,
                                           json=body_for("/v1/chat/completions", BENIGN, False))
        assert response.status_code == 200 and response.headers["x-tollgate-judge-rubric"] == "error"
        [_, request] = [r for r in await stack.records() if r["judges"] or r["endpoint"] == "judge:rubric"]
        assert request["judges"][0]["verdict"] == "error"


async def test_the_rubric_judge_is_charged_to_its_own_key_and_stops_at_its_budget(
        fake: FakeProviderServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with judged_gateway(fake, tmp_path, rubric(mode="sampled", key_env="UNIT_JUDGE_KEY")) as stack:
        await stack.client.post("/admin/orgs", headers=MASTER, json={"name": "platform"})
        await stack.client.post("/admin/teams", headers=MASTER, json={"org": "platform", "name": "judges"})
        created = await stack.client.post("/admin/keys", headers=MASTER, json={
            "team": "platform/judges", "name": "rubric", "budgets": {"daily": {"hard": 0.25}}})
        assert created.status_code == 201, created.text
        monkeypatch.setenv("UNIT_JUDGE_KEY", created.json()["key"])
        for _ in range(4):
            response = await stack.client.post("/v1/chat/completions", headers=MASTER,
                                               json=body_for("/v1/chat/completions", "PASS me please", False))
            assert response.status_code == 200
            await stack.gateway.drain()
        records = await stack.records()
        calls = [r for r in records if r["endpoint"] == "judge:rubric"]
        verdicts = [r["judges"][0]["verdict"] for r in records if r["kind"] == "judgement"]
        assert {c["key_id"] for c in calls} == {created.json()["id"]}
        assert verdicts[0] == "pass" and "error" in verdicts  # judged until the judge's own budget ran out
        assert any(c["outcome"] == "budget_exceeded" for c in calls)
        spent = await stack.db.fetchone("SELECT SUM(cost_nano) AS n FROM spend_ledger WHERE key_id = $1",
                                        created.json()["id"])
        assert spent is not None and 0 < spent["n"] <= 0.25 * 1e9
