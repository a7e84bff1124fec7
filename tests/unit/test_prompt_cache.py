"""Prompt caching through the gateway: markers placed for Anthropic and Bedrock, a cache key for OpenAI, usage
counted as each fake reports it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from deployments.providers.prompt_cache import mark_anthropic, mark_bedrock
from fake_providers.server import FakeProviderServer
from tests.unit._gateway_helpers import MASTER_KEY, gateway_over_fakes, provider_credentials, recorded_requests

KEY = MASTER_KEY
AUTH = {"Authorization": f"Bearer {KEY}"}
SYSTEM = " ".join(f"rule{i}" for i in range(10_000))  # 10,000 tokens as the fakes count them
MARK = {"type": "ephemeral"}


@pytest.fixture
def http(fake: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    provider_credentials(monkeypatch)
    models = {
        "claude": {"targets": [{"provider": "anthropic", "model": "claude-sonnet-x", "api_base": fake.base_url,
                                "api_key_env": "UNIT_ANTHROPIC_KEY"}]},
        "bedrock": {"targets": [{"provider": "bedrock", "model": "anthropic.claude-3-5-sonnet-20241022-v2:0",
                                 "region": "us-east-1", "api_base": fake.base_url}]},
        # The fake stands in for api.openai.com, so it is told it takes prompt_cache_key.
        "gpt": {"targets": [{"provider": "openai", "model": "gpt-4o", "api_base": f"{fake.base_url}/v1",
                             "api_key_env": "UNIT_OPENAI_KEY", "prompt_caching": True}]},
        "claude-off": {"prompt_cache": "off", "targets": [{"provider": "anthropic", "model": "claude-sonnet-x",
                                                           "api_base": fake.base_url,
                                                           "api_key_env": "UNIT_ANTHROPIC_KEY"}]},
    }
    with gateway_over_fakes(fake, models) as client:
        yield client


def ask(http: TestClient, model: str, question: str, system: Any = SYSTEM, headers: dict[str, str] | None = None,
        **extra: Any) -> dict[str, Any]:
    body = {"model": model, "max_tokens": 20, "messages": [{"role": "system", "content": system},
                                                           {"role": "user", "content": question}], **extra}
    response = http.post("/v1/chat/completions", headers={**AUTH, **(headers or {})}, json=body)
    assert response.status_code == 200, response.text
    return dict(response.json()["usage"])


def upstream(fake: FakeProviderServer) -> list[dict[str, Any]]:
    return [r["body"] for r in recorded_requests(fake)]


def markers(body: dict[str, Any]) -> int:
    text = json.dumps(body)
    return text.count('"cache_control"') + text.count('"cachePoint"')


@pytest.mark.parametrize("model", ["claude", "bedrock", "gpt"])
def test_requests_after_the_first_read_the_system_prompt_from_cache(http: TestClient, model: str) -> None:
    usages = [ask(http, model, f"question number {i}") for i in range(10)]
    for usage in usages[1:]:
        assert usage["prompt_tokens_details"]["cached_tokens"] >= 0.9 * 10_000
        assert usage["prompt_tokens"] == 10_000 + 3
    first = usages[0]["prompt_tokens_details"]
    assert first["cached_tokens"] == 0
    if model != "gpt":  # Anthropic and Bedrock report the write; OpenAI's writes are free and unreported
        assert first["cache_write_tokens"] == 10_000


def test_anthropic_gets_a_marker_at_the_end_of_the_system_prompt(http: TestClient, fake: FakeProviderServer) -> None:
    ask(http, "claude", "hello")
    [body] = upstream(fake)
    assert body["system"][-1]["cache_control"] == MARK and markers(body) == 1


def test_bedrock_gets_a_cache_point_after_the_system_prompt(http: TestClient, fake: FakeProviderServer) -> None:
    ask(http, "bedrock", "hello")
    [body] = upstream(fake)
    assert body["system"][-1] == {"cachePoint": {"type": "default"}} and markers(body) == 1


def test_openai_gets_one_cache_key_per_prefix(http: TestClient, fake: FakeProviderServer) -> None:
    ask(http, "gpt", "one")
    ask(http, "gpt", "two")
    ask(http, "gpt", "three", system="another system prompt")
    keys = [b["prompt_cache_key"] for b in upstream(fake)]
    assert keys[0] == keys[1] != keys[2] and keys[0].startswith("tollgate-")
    assert all("_tollgate_prompt_cache" not in b for b in upstream(fake))


def test_a_short_prompt_gets_no_marker(http: TestClient, fake: FakeProviderServer) -> None:
    ask(http, "claude", "hello", system="Be brief.")
    assert markers(upstream(fake)[0]) == 0


def test_a_request_with_four_markers_never_gets_a_fifth(http: TestClient, fake: FakeProviderServer) -> None:
    parts = [{"type": "text", "text": f"document {i}", "cache_control": MARK} for i in range(4)]
    ask(http, "claude", parts, system=SYSTEM)  # the long system prompt would get a marker of its own
    assert markers(upstream(fake)[0]) == 4
    ask(http, "claude", parts[:3], system=SYSTEM)
    assert markers(upstream(fake)[1]) == 4 and upstream(fake)[1]["system"][-1]["cache_control"] == MARK


def test_off_sends_no_marker_not_even_the_clients(http: TestClient, fake: FakeProviderServer) -> None:
    client_marked = [{"type": "text", "text": SYSTEM, "cache_control": MARK}]
    usage = ask(http, "claude", "hello", system=client_marked, headers={"x-tollgate-prompt-cache": "off"})
    ask(http, "claude-off", "hello")
    ask(http, "gpt", "hello", headers={"x-tollgate-prompt-cache": "off"})
    claude, claude_off, gpt = upstream(fake)
    assert markers(claude) == markers(claude_off) == 0 and "prompt_cache_key" not in gpt
    assert usage["prompt_tokens_details"]["cache_write_tokens"] == 0


def test_a_bad_header_value_is_a_400(http: TestClient) -> None:
    response = http.post("/v1/chat/completions", headers={**AUTH, "x-tollgate-prompt-cache": "sometimes"},
                         json={"model": "claude", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 400 and response.json()["error"]["param"] == "x-tollgate-prompt-cache"


def test_a_long_conversation_marks_its_last_stable_turn(http: TestClient, fake: FakeProviderServer) -> None:
    history = [{"role": "user", "content": SYSTEM}, {"role": "assistant", "content": "noted"},
               {"role": "user", "content": "and now?"}]
    http.post("/v1/chat/completions", headers=AUTH, json={"model": "claude", "max_tokens": 5, "messages": history})
    [body] = upstream(fake)
    assert body["messages"][1]["content"][-1]["cache_control"] == MARK
    assert "cache_control" not in json.dumps(body["messages"][2])


def test_markers_go_where_the_prefix_is_long_enough_in_order_of_value() -> None:
    long_text = "x" * 40_000  # 10,000 tokens at 4 characters each
    body = {"tools": [{"name": "b", "input_schema": {}}, {"name": "a", "input_schema": {"d": long_text}}],
            "system": "short", "messages": [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"},
                                            {"role": "user", "content": "q2"}]}
    mark_anthropic(body, "auto", 1024)
    assert [t["name"] for t in body["tools"]] == ["a", "b"]  # one stable order
    assert body["tools"][-1]["cache_control"] == MARK
    assert body["system"][-1]["cache_control"] == MARK  # the tools make that prefix long enough
    assert body["messages"][1]["content"][-1]["cache_control"] == MARK
    assert markers(body) == 3
    converse = {"system": [{"text": long_text}], "messages": [{"role": "user", "content": [{"text": "q"}]}]}
    mark_bedrock(converse, "auto", 1024)
    assert converse["system"] == [{"text": long_text}, {"cachePoint": {"type": "default"}}]
    mark_bedrock(converse, "off", 1024)
    assert converse["system"] == [{"text": long_text}]


@pytest.mark.parametrize("model", ["claude", "bedrock"])
def test_a_streams_final_usage_chunk_counts_reads_and_writes(http: TestClient, model: str) -> None:
    def streamed_usage(question: str) -> dict[str, Any]:
        body = {"model": model, "max_tokens": 20, "stream": True, "stream_options": {"include_usage": True},
                "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]}
        lines = http.post("/v1/chat/completions", headers=AUTH, json=body).text.splitlines()
        chunks = [json.loads(line[6:]) for line in lines if line.startswith("data: {")]
        return dict(chunks[-1]["usage"])

    first, second = streamed_usage("first question"), streamed_usage("second question")
    assert first["prompt_tokens_details"]["cache_write_tokens"] == 10_000
    assert second["prompt_tokens_details"]["cached_tokens"] == 10_000
    assert second["prompt_tokens"] == 10_002


def test_the_clients_markers_reach_each_provider_in_its_own_form(http: TestClient, fake: FakeProviderServer) -> None:
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}},
              "cache_control": MARK}]
    system = [{"type": "text", "text": "Be brief.", "cache_control": MARK}]
    for model in ("claude", "bedrock", "gpt"):
        ask(http, model, "hello", system=system, tools=tools, tool_choice="none")
    claude, bedrock, gpt = upstream(fake)
    assert claude["tools"][0]["cache_control"] == MARK and claude["system"][0]["cache_control"] == MARK
    assert bedrock["system"] == [{"text": "Be brief."}, {"cachePoint": {"type": "default"}}]
    assert "cache_control" not in json.dumps(gpt)  # OpenAI caches on its own and takes no markers


def test_targets_that_take_no_directives_get_none() -> None:
    from tollgate_core.config import TargetConfig

    def target(**fields: Any) -> TargetConfig:
        return TargetConfig.model_validate(fields)

    assert target(provider="anthropic", model="claude-x", api_key_env="K").takes_prompt_cache
    assert target(provider="bedrock", model="us.anthropic.claude-sonnet-4", region="us-east-1").takes_prompt_cache
    assert target(provider="bedrock", model="amazon.nova-pro-v1:0", region="us-east-1").takes_prompt_cache
    assert not target(provider="bedrock", model="meta.llama3-70b-instruct-v1:0", region="us-east-1").takes_prompt_cache
    assert target(provider="openai", model="gpt-4o", api_key_env="K").takes_prompt_cache  # api.openai.com
    assert not target(provider="openai", model="m", api_key_env="K", api_base="http://vllm:8000/v1").takes_prompt_cache
    assert target(provider="openai", model="m", api_key_env="K", api_base="http://x/v1",
                  prompt_caching=True).takes_prompt_cache
    assert not target(provider="azure", model="d", api_key_env="K", api_base="https://r.openai.azure.com",
                      api_version="2024-10-21").takes_prompt_cache


def test_a_bedrock_model_without_prompt_caching_gets_no_cache_point() -> None:
    from deployments.providers.prompt_cache import cache_mode
    from tollgate_core.config import TargetConfig

    llama = TargetConfig.model_validate({"provider": "bedrock", "model": "meta.llama3-70b-instruct-v1:0",
                                         "region": "us-east-1"})
    body = {"system": [{"text": "x" * 40_000}, {"cachePoint": {"type": "default"}}],
            "messages": [{"role": "user", "content": [{"text": "q"}]}]}
    mark_bedrock(body, cache_mode(llama, {"_tollgate_prompt_cache": "auto"}), 1024)
    assert markers(body) == 0


def test_past_four_of_the_clients_markers_the_latest_four_are_kept(http: TestClient, fake: FakeProviderServer) -> None:
    system = [{"type": "text", "text": f"rule {i}", "cache_control": MARK} for i in range(6)]
    for model in ("claude", "bedrock"):
        ask(http, model, "hello", system=system)  # a 200: the fakes refuse a fifth marker, as the providers do
    claude, bedrock = upstream(fake)
    assert ["cache_control" in block for block in claude["system"]] == [False, False, True, True, True, True]
    assert [block.get("text", "POINT") for block in bedrock["system"]] == [
        "rule 0", "rule 1", "rule 2", "POINT", "rule 3", "POINT", "rule 4", "POINT", "rule 5", "POINT"]
