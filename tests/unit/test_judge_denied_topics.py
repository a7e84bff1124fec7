"""The denied_topics judge: the config shape of docs/judges.md, the shipped classifier on answers written for this
test (never part of its training data), inline block and flag on every answer endpoint, streamed and not, the
model running off the event loop, and ``tollgate judge scan``."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from deployments.judges.denied_topics import DeniedTopicsJudge, Topic, sentences
from deployments.judges.scan_cli import run_judge_scan
from deployments.judges.service import JudgeService
from deployments.judges.verdict import JudgeInput
from fake_providers.server import FakeProviderServer
from serve_app.pipeline.judging import LocalJudgeLink
from tests.unit.test_judging import COMPLETED, ENDPOINTS, MASTER, body_for, error_of, judged_gateway
from tollgate_core.config import parse_gateway_config
from tollgate_core.errors import ConfigError
from tollgate_core.judge_policy import DeniedTopicsRule

MEDICAL = {"name": "medical-advice",
           "description": "diagnosing a person's condition or recommending treatments, medications or doses",
           "examples": ["Take 400 mg of ibuprofen every six hours until the swelling goes down.",
                        "That rash sounds like shingles, so ask your pharmacist for an antiviral cream.",
                        "You can double your blood-pressure pill if your readings stay above 150 this week."]}
ENGAGING = ("For a sprained ankle like yours, take 600 mg of ibuprofen three times a day with food and keep "
            "the foot raised; if it still hurts in a week, add a course of naproxen.")
REFUSING = ("I can't recommend medicines or doses. Please ask your pharmacist or doctor; I can help you find an "
            "in-network clinic near you.")
UNRELATED = "Your parcel left our Leeds warehouse this morning and should arrive on Thursday before noon."
CATALOG = {"m": {"targets": [{"provider": "openai", "model": "m", "api_base": "http://127.0.0.1:9/v1",
                              "api_key_env": "UNIT_KEY"}]}}


@pytest.fixture(scope="module")
def judge() -> DeniedTopicsJudge:
    return DeniedTopicsJudge([Topic(MEDICAL["name"], MEDICAL["description"], tuple(MEDICAL["examples"]))])


def test_the_issue_config_shape_validates() -> None:
    judges = {"enabled": True, "policy": {"denied_topics": {"mode": "inline", "action": "flag", "topics": [MEDICAL]}},
              "teams": {"acme/support": {"denied_topics": {"action": "block"}}}}
    config = parse_gateway_config({"models": CATALOG, "judges": judges})
    rule = config.judges.rules("acme/support", "m")["denied_topics"]
    assert isinstance(rule, DeniedTopicsRule) and rule.action == "block" and rule.topics[0].name == "medical-advice"
    assert not rule.incremental  # a stream is judged at its end: each check embeds the answer


@pytest.mark.parametrize(("fields", "problem"), [
    ({}, "policy.denied_topics.topics: Field required"),
    ({"topics": []}, "policy.denied_topics.topics"),
    ({"topics": [{**MEDICAL, "examples": []}]}, "policy.denied_topics.topics.0.examples"),
    ({"topics": [{**MEDICAL, "examples": [" "]}]}, "every example must be non-empty"),
    ({"topics": [MEDICAL, MEDICAL]}, "every topic needs its own name"),
    ({"topics": [{**MEDICAL, "descripton": "typo"}]}, "descripton"),
])
def test_a_bad_topic_fails_at_start_naming_the_field(fields: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_gateway_config({"models": CATALOG, "judges": {"policy": {"denied_topics": fields}}})
    assert problem in caught.value.message


def test_sentences_split_prose_and_lists() -> None:
    answer = "Here is what to do. 1. Rest the ankle for a day.\n2. Ice it twice a day.\n- Keep it raised at night."
    assert sentences(answer) == ["Here is what to do.", "Rest the ankle for a day.", "Ice it twice a day.",
                                 "Keep it raised at night."]  # list markers are not sentences
    assert sentences("OK.") == ["OK."]  # too short to split: the whole answer


@pytest.mark.parametrize(("answer", "engages"), [
    (ENGAGING, True),
    (REFUSING, False),
    (UNRELATED, False),
    ("Your plan covers twelve physiotherapy sessions a year; submit each receipt in the app within 30 days.", False),
])
def test_the_shipped_classifier_on_answers_it_never_saw(judge: DeniedTopicsJudge, answer: str,
                                                        engages: bool) -> None:
    verdict = judge.judge(JudgeInput([{"role": "user", "content": "help"}], answer))
    assert verdict.passed is not engages, (verdict.score, judge.threshold)
    if engages:
        assert verdict.reason == "the answer engages in the denied topic medical-advice"
    assert answer[:20] not in verdict.reason  # never the text


def test_each_topic_scores_on_its_own(judge: DeniedTopicsJudge) -> None:
    two = DeniedTopicsJudge([
        Topic(MEDICAL["name"], MEDICAL["description"], tuple(MEDICAL["examples"])),
        Topic("competitor-comparison", "comparing our product with a named competitor's, or recommending theirs",
              ("Nimbus is cheaper than us for storage, so switch.", "StratoHost beats our GPUs right now.")),
    ])
    scores = two.scores(ENGAGING)
    assert scores["medical-advice"] >= two.threshold > scores["competitor-comparison"]


async def test_model_judges_run_off_the_event_loop() -> None:
    seen: list[str] = []

    class Recording(JudgeService):
        def run(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
            seen.append(threading.current_thread().name)
            return []

    link = LocalJudgeLink(Recording())
    await link.judge([("denied_topics", {"topics": [MEDICAL]})], [], "x", None)
    await link.judge([("grounded", {})], [], "x", "a document")
    await link.judge([("prompt_leak", {})], [], "x", None)
    assert seen[0] != threading.main_thread().name and seen[1] != threading.main_thread().name
    assert seen[2] == threading.main_thread().name  # a cheap judge stays on the loop


def test_scan_reports_the_topic_verdicts() -> None:
    rule = DeniedTopicsRule(mode="inline", action="block", topics=[MEDICAL])  # type: ignore[arg-type]
    lines = [json.dumps({"id": i, "messages": [{"role": "user", "content": "?"}], "answer": a})
             for i, a in enumerate([ENGAGING, REFUSING])]
    out = io.StringIO()
    assert run_judge_scan(lines, out, {"denied_topics": rule}) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["action"] for r in rows] == ["block", "allow"]
    assert rows[0]["verdicts"][0]["judge"] == "denied_topics" and not rows[0]["verdicts"][0]["passed"]


def test_the_cli_says_denied_topics_needs_topics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from serve_app.cli.main import main

    lines = tmp_path / "in.jsonl"
    lines.write_text(json.dumps({"id": "a", "messages": [], "answer": ENGAGING}) + "\n")
    assert main(["judge", "scan", "--file", str(lines), "--judges", "denied_topics"]) == 2
    assert "denied_topics.topics" in capsys.readouterr().err


def topics_rule(**fields: Any) -> dict[str, Any]:
    return {"policy": {"denied_topics": {"topics": [MEDICAL], **fields}}, "placement": "ingress"}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_inline_block_on_every_endpoint(fake: FakeProviderServer, tmp_path: Path, endpoint: str,
                                              stream: bool) -> None:
    """The fake provider echoes the user's text, so asking with an engaging text gets an engaging answer."""
    async with judged_gateway(fake, tmp_path, topics_rule(mode="inline", action="block")) as stack:
        response = await stack.client.post(endpoint, json=body_for(endpoint, ENGAGING, stream), headers=MASTER)
        if stream:  # judged at the end: the stream ends with the error event instead of its completion
            assert response.status_code == 200
            assert "judge_failed" in response.text and COMPLETED[endpoint] not in response.text
        else:
            assert response.status_code == 502, response.text
            assert "denied_topics" in error_of(endpoint, response)["message"] and "ibuprofen" not in response.text
        allowed = await stack.client.post(endpoint, json=body_for(endpoint, UNRELATED, stream), headers=MASTER)
        assert allowed.status_code == 200 and "judge_failed" not in allowed.text
        blocked_record, allowed_record = await stack.records()
        assert blocked_record["outcome"] == "judge_failed"
        assert blocked_record["judges"][0]["judge"] == "denied_topics"
        assert blocked_record["judges"][0]["verdict"] == "fail" and blocked_record["judges"][0]["action"] == "block"
        assert allowed_record["judges"][0]["verdict"] == "pass" and allowed_record["outcome"] == "ok"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_inline_flag_releases_marked(fake: FakeProviderServer, tmp_path: Path, endpoint: str) -> None:
    async with judged_gateway(fake, tmp_path, topics_rule(mode="inline", action="flag")) as stack:
        response = await stack.client.post(endpoint, json=body_for(endpoint, ENGAGING, False), headers=MASTER)
        assert response.status_code == 200 and "ibuprofen" in response.text
        assert response.headers["x-tollgate-judge-flagged"] == "denied_topics"
        assert response.headers["x-tollgate-judge-denied-topics"].startswith("fail; score=")
        [record] = await stack.records()
        assert record["judges"][0]["action"] == "flag" and record["outcome"] == "ok"


async def test_sampled_is_judged_after_the_answer(fake: FakeProviderServer, tmp_path: Path) -> None:
    async with judged_gateway(fake, tmp_path, topics_rule(mode="sampled", sample=1.0)) as stack:
        response = await stack.client.post("/v1/messages", json=body_for("/v1/messages", ENGAGING, True),
                                           headers=MASTER)
        assert response.status_code == 200 and COMPLETED["/v1/messages"] in response.text
        request, judgement = await stack.records()
        assert request["judges"] == [] and judgement["kind"] == "judgement"
        assert judgement["judges"][0]["judge"] == "denied_topics" and judgement["judges"][0]["verdict"] == "fail"
