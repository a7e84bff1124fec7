"""The grounded judge: where a request's context comes from, the claim evidence it compares, the shipped classifier
on answers written for this test (never part of its training data), inline block and flag on every answer
endpoint, streamed and not, sampled judgements, and ``tollgate judge scan``."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from deployments.judges.context import marked_documents, retrieved_context
from deployments.judges.grounded import (
    DEFAULT_WEIGHTS,
    FEATURE_NAMES,
    GroundedJudge,
    abstains,
    claims,
    content_words,
    context_units,
    numbers,
)
from deployments.judges.logistic import LogisticClassifier
from deployments.judges.scan_cli import run_judge_scan
from deployments.judges.verdict import JudgeInput
from fake_providers.server import FakeProviderServer
from tests.unit.test_judging import COMPLETED, ENDPOINTS, MASTER, body_for, error_of, judged_gateway
from tollgate_core.config import parse_gateway_config
from tollgate_core.judge_policy import GroundedRule

CONTEXT = ("Returns are accepted within 30 days of delivery for unopened items. Opened headphones can be returned "
           "within 14 days, but a 15% restocking fee applies. Gift cards are not refundable. Refunds go back to "
           "the original payment method within 5 to 7 business days.")
SUPPORTED = ("You can return unopened items within 30 days of delivery. Refunds go back to the original payment "
             "method within 5 to 7 business days.")
CONTRADICTED = "You can return unopened items within 90 days of delivery."
UNSUPPORTED = "Unopened items can be returned within 30 days, and every return ships free with a prepaid DHL label."
ABSTAINING = "The documents don't say whether items bought on sale can be returned."
CATALOG = {"m": {"targets": [{"provider": "openai", "model": "m", "api_base": "http://127.0.0.1:9/v1",
                              "api_key_env": "UNIT_KEY"}]}}


@pytest.fixture(scope="module")
def judge() -> GroundedJudge:
    return GroundedJudge()


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


# Where the context comes from ------------------------------------------------------------------------------------


def test_context_is_tool_results_and_marked_documents() -> None:
    messages = [
        {"role": "system", "content": "Answer from the documents.\n<documents><document>Doc one.</document>"
                                      "<document>Doc two.</document></documents>"},
        {"role": "user", "content": [{"type": "text", "text": "<context>The lift is closed.</context> Is it open?"}]},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function",
                                                               "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c", "content": '{"status": "shipped"}'},
    ]
    context = retrieved_context(messages)
    assert context is not None
    assert "Doc one." in context and "Doc two." in context and "The lift is closed." in context
    assert '{"status": "shipped"}' in context and "Is it open?" not in context
    assert retrieved_context(user("What are your opening hours?")) is None
    assert retrieved_context([{"role": "assistant", "content": "<context>mine</context>"}]) is None


def test_the_rule_applies_only_to_requests_with_context() -> None:
    rule = GroundedRule(mode="sampled", sample=0.05)
    assert rule.applies(user("hi"), "Some document.") and not rule.applies(user("hi"), None)
    assert not rule.incremental and rule.timeout_s == 5.0


def test_the_issue_config_shape_validates() -> None:
    judges = {"enabled": True, "policy": {"grounded": {"mode": "sampled", "sample": 0.05}},
              "teams": {"acme/support": {"grounded": {"mode": "inline", "action": "flag"}}}}
    config = parse_gateway_config({"models": CATALOG, "judges": judges})
    assert config.judges.rules("acme/support", "m")["grounded"].mode == "inline"
    assert config.judges.rules("acme/web", "m")["grounded"].sample == 0.05


# What the judge compares -----------------------------------------------------------------------------------------


def test_claims_and_context_units() -> None:
    assert claims("Sure! Returns take 30 days.\n- Gift cards are final.") == ["Returns take 30 days.",
                                                                               "Gift cards are final."]
    units = context_units('Intro text here.\n\n{"order": {"status": "shipped", "eta_days": 3}}')
    assert units == ["Intro text here.", "order status shipped", "order eta days 3"]


@pytest.mark.parametrize(("claim", "abstaining"), [
    ("Pricing isn't on this page.", True),
    ("The course page never names an instructor.", True),
    ("I can't confirm that from these documents.", True),
    ("Water damage is not covered under your plan.", False),  # a fact about the world, held to the context
    ("Dental cleanings are not included.", False),
])
def test_what_counts_as_saying_the_context_does_not_cover_it(claim: str, abstaining: bool) -> None:
    assert abstains(claim) is abstaining


def test_content_words_are_stems_without_function_words_or_contractions() -> None:
    assert content_words("It's automatically renewed; you're inside the window") == {"automat", "renew", "insid",
                                                                                      "window"}


def test_numbers_are_compared_as_values() -> None:
    assert numbers("It costs $1,500.00 for thirty days") == {"1500", "30"}
    assert numbers("version 2.10") == {"2.1"}


# What it is measured to do (docs/judges.md). A paraphrase of the context ("come back within two weeks") is often
# failed and a flipped negation ("gift cards can be refunded") often passed: neither is asserted here.
@pytest.mark.parametrize(("answer", "grounded"), [
    (SUPPORTED, True),
    (ABSTAINING, True),
    (CONTRADICTED, False),
    (UNSUPPORTED, False),
])
def test_the_shipped_classifier_on_answers_it_never_saw(judge: GroundedJudge, answer: str, grounded: bool) -> None:
    verdict = judge.judge(JudgeInput(user("Can I return it?"), answer, CONTEXT))
    assert verdict.passed is grounded, (verdict.score, judge.threshold)
    assert answer[:20] not in verdict.reason  # never the text


def test_no_context_passes_without_a_score(judge: GroundedJudge) -> None:
    verdict = judge.judge(JudgeInput(user("?"), CONTRADICTED, None))
    assert verdict.passed and verdict.score == 0.0 and "no context" in verdict.reason


def test_the_shipped_weights_match_the_features() -> None:
    assert LogisticClassifier.load(DEFAULT_WEIGHTS).coef.shape == (len(FEATURE_NAMES),)


def test_scan_finds_the_context_in_the_messages() -> None:
    rule = GroundedRule(mode="inline", action="block")
    lines = [json.dumps({"id": 1, "messages": user(f"<context>{CONTEXT}</context> Can I return it?"),
                         "answer": UNSUPPORTED}),
             json.dumps({"id": 2, "messages": user("Can I return it?"), "answer": SUPPORTED, "context": CONTEXT})]
    out = io.StringIO()
    assert run_judge_scan(lines, out, {"grounded": rule}) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["action"] for r in rows] == ["block", "allow"]
    assert rows[0]["verdicts"][0]["judge"] == "grounded" and not rows[0]["verdicts"][0]["passed"]


# On the request path ---------------------------------------------------------------------------------------------

# The fake provider echoes the user's text ("Echo from openai gpt-4o: <text>"), so the answer carries the marked
# document and then the claim. These tests are about where the judge runs and what its verdict does, so the rule's
# threshold is set between the judge's own scores of the two answers they provoke.
SHORT_CONTEXT = "Returns are accepted within 30 days of delivery. Gift cards are not refundable."
HELD = "Returns are accepted within 30 days of delivery."
ADDED = "Returns are accepted within 30 days, and every return ships free with a prepaid DHL label."


def asking(claim: str) -> str:
    return f"<context>{SHORT_CONTEXT}</context> {claim}"


@pytest.fixture(scope="module")
def threshold(judge: GroundedJudge) -> float:
    held, added = (judge.score(f"Echo from openai gpt-4o: {asking(c)}", SHORT_CONTEXT) for c in (HELD, ADDED))
    assert added > held + 0.01, (added, held)
    return (held + added) / 2


def grounded_rule(threshold: float, **fields: Any) -> dict[str, Any]:
    return {"policy": {"grounded": {"threshold": threshold, **fields}}, "placement": "ingress"}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_inline_block_on_every_endpoint(fake: FakeProviderServer, tmp_path: Path, endpoint: str,
                                              stream: bool, threshold: float) -> None:
    async with judged_gateway(fake, tmp_path, grounded_rule(threshold, mode="inline", action="block")) as stack:
        response = await stack.client.post(endpoint, json=body_for(endpoint, asking(ADDED), stream), headers=MASTER)
        if stream:  # judged at the end: the stream ends with the error event instead of its completion
            assert response.status_code == 200
            assert "judge_failed" in response.text and COMPLETED[endpoint] not in response.text
        else:
            assert response.status_code == 502, response.text
            assert "grounded" in error_of(endpoint, response)["message"] and "DHL" not in response.text
        allowed = await stack.client.post(endpoint, json=body_for(endpoint, asking(HELD), stream), headers=MASTER)
        assert allowed.status_code == 200 and "judge_failed" not in allowed.text
        without_context = await stack.client.post(endpoint, json=body_for(endpoint, ADDED, stream), headers=MASTER)
        assert without_context.status_code == 200 and "judge_failed" not in without_context.text
        blocked_record, allowed_record, unjudged_record = await stack.records()
        assert blocked_record["outcome"] == "judge_failed"
        assert blocked_record["judges"][0]["judge"] == "grounded"
        assert blocked_record["judges"][0]["verdict"] == "fail" and blocked_record["judges"][0]["action"] == "block"
        assert allowed_record["judges"][0]["verdict"] == "pass" and allowed_record["outcome"] == "ok"
        assert unjudged_record["judges"] == []  # no context: nothing to hold the answer to


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_inline_flag_releases_marked(fake: FakeProviderServer, tmp_path: Path, endpoint: str,
                                           threshold: float) -> None:
    async with judged_gateway(fake, tmp_path, grounded_rule(threshold, mode="inline", action="flag")) as stack:
        response = await stack.client.post(endpoint, json=body_for(endpoint, asking(ADDED), False), headers=MASTER)
        assert response.status_code == 200 and "DHL" in response.text
        assert response.headers["x-tollgate-judge-flagged"] == "grounded"
        assert response.headers["x-tollgate-judge-grounded"].startswith("fail; score=")
        [record] = await stack.records()
        assert record["judges"][0]["action"] == "flag" and record["outcome"] == "ok"


async def test_sampled_is_judged_after_the_answer(fake: FakeProviderServer, tmp_path: Path, threshold: float) -> None:
    async with judged_gateway(fake, tmp_path, grounded_rule(threshold, mode="sampled", sample=1.0)) as stack:
        response = await stack.client.post("/v1/messages", json=body_for("/v1/messages", asking(ADDED), True),
                                           headers=MASTER)
        assert response.status_code == 200 and COMPLETED["/v1/messages"] in response.text
        request, judgement = await stack.records()
        assert request["judges"] == [] and judgement["kind"] == "judgement"
        assert judgement["judges"][0]["judge"] == "grounded" and judgement["judges"][0]["verdict"] == "fail"
        assert stack.metrics.verdicts[-1][:3] == ("grounded", "fail", "sampled")


ORDER = '{"order": {"status": "shipped", "carrier": "DHL", "eta_days": 3}}'
TOOL_TURNS = {
    "/v1/chat/completions": {"messages": [
        {"role": "user", "content": "Where is my order?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": ORDER}]},
    "/v1/messages": {"tools": [{"name": "lookup", "input_schema": {"type": "object", "properties": {}}}], "messages": [
        {"role": "user", "content": "Where is my order?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": ORDER}]}]},
    "/v1/responses": {"tools": [{"type": "function", "name": "lookup", "parameters": {"type": "object",
                                                                                     "properties": {}}}], "input": [
        {"role": "user", "content": "Where is my order?"},
        {"type": "function_call", "call_id": "call_1", "name": "lookup", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": ORDER}]},
}


@pytest.mark.parametrize("endpoint", sorted(TOOL_TURNS))
async def test_tool_results_are_the_context_on_every_endpoint_with_tools(fake: FakeProviderServer, tmp_path: Path,
                                                                         endpoint: str) -> None:
    """The answer to a tool result is judged against it (the fake answers "Tool said: <result>"); a verdict at all
    shows the context was found, since a request without context gets none."""
    limit = {"max_output_tokens": 60} if endpoint == "/v1/responses" else {"max_tokens": 60}
    async with judged_gateway(fake, tmp_path, {"policy": {"grounded": {"mode": "inline", "action": "flag"}},
                                               "placement": "ingress"}) as stack:
        response = await stack.client.post(endpoint, json={"model": "gpt-4o", **limit, **TOOL_TURNS[endpoint]},
                                           headers=MASTER)
        assert response.status_code == 200, response.text
        assert "x-tollgate-judge-grounded" in response.headers
        [record] = await stack.records()
        assert [j["judge"] for j in record["judges"]] == ["grounded"]


def test_marked_documents_are_found_in_linear_time() -> None:
    assert marked_documents("<Context id=1>a</context> b <sources>c</SOURCES>") == ["a", "c"]
    assert marked_documents("<documents><document>x</document></documents>") == ["<document>x</document>"]
    assert marked_documents("<context>never closed") == []
    # 30,000 opening tags and no closing one: each name is searched for once, not once per tag (the first version's
    # lazy regex took 16.6 s for 20,000 of them, on the event loop; this takes milliseconds)
    assert marked_documents("<context>" * 30_000 + "<sources>" * 30_000) == []
