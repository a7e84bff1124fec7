"""Model tiering through Ray Serve with the official OpenAI SDK: the TierClassifier deployment (embedding through the
SemanticCache deployment) sends obvious Tier-1 prompts to the real local tier and hard ones to the frontier model;
a policy's threshold takes effect; a Tier-1 model that is down escalates to Tier 2; the CLI agrees."""

from __future__ import annotations

import json
import subprocess
import sys

import openai
import pytest

from fake_providers.server import FakeProviderServer
from tests.integration.conftest import MASTER_KEY, add_fault, recorded

pytestmark = pytest.mark.integration

TIER_1 = [
    "Classify the sentiment of this review as positive or negative: 'Great battery life, I love it.'",
    "Which department should handle this email: billing, support or sales? 'I was charged twice this month.'",
]
TIER_2 = [
    ("Write a Python class implementing an LRU cache with O(1) get and put, thread-safe, with type hints and "
     "unit tests covering eviction order."),
    ("A tank fills at 3 litres per minute and drains at 1.2 litres per minute through a leak that starts 10 minutes "
     "after filling begins. If the tank holds 150 litres, how long until it is full? Show each step of the reasoning."),
]


def _client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key=MASTER_KEY, max_retries=0, timeout=120)


def _ask(client: openai.OpenAI, text: str, model: str = "auto") -> tuple[dict[str, str], str]:
    raw = client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": text}], max_tokens=12, temperature=0.7)
    completion = raw.parse()
    return dict(raw.headers), completion.choices[0].message.content or ""


def test_obvious_tier_1_prompts_go_to_the_local_tier_and_hard_ones_to_the_frontier(
    base_url: str, fake: FakeProviderServer
) -> None:
    client = _client(base_url)
    for text in TIER_1:
        headers, answer = _ask(client, text)
        assert headers["x-tollgate-tier"] == "1", (text, headers)
        assert headers["x-tollgate-model"] == "local/smollm2" and answer
        assert float(headers["x-tollgate-tier-score"]) < 0.5
    for text in TIER_2:
        headers, _ = _ask(client, text)
        assert headers["x-tollgate-tier"] == "2", (text, headers)
        assert headers["x-tollgate-model"] == "openai/gpt-4o-fake"
        assert float(headers["x-tollgate-tier-score"]) >= 0.5
    assert [r["body"]["model"] for r in recorded(fake)] == ["gpt-4o-fake"] * len(TIER_2)


def test_a_policys_threshold_from_the_config_takes_effect(base_url: str, fake: FakeProviderServer) -> None:
    headers, _ = _ask(_client(base_url), TIER_1[0], model="auto-all-frontier")
    assert headers["x-tollgate-tier"] == "2" and headers["x-tollgate-tier-policy"] == "auto-all-frontier"
    assert headers["x-tollgate-model"] == "openai/gpt-4o-fake"


def test_a_tier_1_model_that_is_down_fails_over_to_tier_2(base_url: str, fake: FakeProviderServer) -> None:
    add_fault(fake, fault="503", match={"model": "t1-flaky"})
    headers, answer = _ask(_client(base_url), TIER_1[1], model="auto-flaky")
    assert headers["x-tollgate-model"] == "anthropic/claude-fake" and answer
    assert headers["x-tollgate-tier"] == "2" and float(headers["x-tollgate-tier-score"]) < 0.5
    tried = [r["body"].get("model") for r in recorded(fake)]
    assert tried[:2] == ["t1-flaky", "t1-flaky"] and tried[-1] == "claude-fake"


def test_streamed_tiered_requests_and_the_models_list(base_url: str, fake: FakeProviderServer) -> None:
    client = _client(base_url)
    with client.chat.completions.with_streaming_response.create(
        model="auto", messages=[{"role": "user", "content": TIER_2[0]}], stream=True, max_tokens=12,
    ) as response:
        assert response.headers["x-tollgate-tier"] == "2"
        text = "".join(chunk.choices[0].delta.content or "" for chunk in response.parse() if chunk.choices)
    assert text
    listed = {m.id: m for m in client.models.list().data}
    assert listed["auto"].model_extra["tiering"]["tier1"] == "llama-3-8b"


def test_the_cli_classifies_as_the_deployment_does(base_url: str, fake: FakeProviderServer) -> None:
    client = _client(base_url)
    texts = TIER_1 + TIER_2
    scores = [float(_ask(client, text)[0]["x-tollgate-tier-score"]) for text in texts]
    # The requests asked for max_tokens 12 (a request feature); a plain {"text"} line is a request without it.
    lines = "".join(json.dumps({"request": {"messages": [{"role": "user", "content": t}], "max_tokens": 12}}) + "\n"
                    for t in texts)
    out = subprocess.run([sys.executable, "-m", "serve_app.cli", "route", "classify"], input=lines,
                         capture_output=True, text=True, check=True, timeout=300)
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["tier"] for r in rows] == [1, 1, 2, 2]
    for row, score in zip(rows, scores):
        assert abs(row["score"] - score) < 1e-3
