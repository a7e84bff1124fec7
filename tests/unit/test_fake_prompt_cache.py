"""The fakes cache prompts as each provider documents: markers, minimum lengths, TTLs, the marker limit, OpenAI's
automatic 128-token steps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fake_providers.prompt_cache import CachePrefix, PromptCache
from fake_providers.server import FakeProviderServer

ANTHROPIC = {"x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01"}
OPENAI = {"Authorization": "Bearer sk-test"}
MARK = {"type": "ephemeral"}


def words(n: int, tag: str = "w") -> str:
    return " ".join(f"{tag}{i}" for i in range(n))


@pytest.fixture
def client(fake: FakeProviderServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.base_url, timeout=10.0) as http:
        http.post("/_fake/reset").raise_for_status()
        yield http


def messages(client: httpx.Client, system: list[dict[str, Any]], question: str = "hi",
             model: str = "claude-sonnet-x", **extra: Any) -> httpx.Response:
    body = {"model": model, "max_tokens": 10, "system": system,
            "messages": [{"role": "user", "content": question}], **extra}
    return client.post("/v1/messages", json=body, headers=ANTHROPIC)


def test_a_prefix_under_the_minimum_is_not_cached(client: httpx.Client) -> None:
    system = [{"type": "text", "text": words(1000), "cache_control": MARK}]
    for _ in range(2):
        usage = messages(client, system).json()["usage"]
        assert (usage["cache_creation_input_tokens"], usage["cache_read_input_tokens"]) == (0, 0)
        assert usage["input_tokens"] == 1001
    haiku = [{"type": "text", "text": words(1500), "cache_control": MARK}]
    assert messages(client, haiku, model="claude-3-5-haiku").json()["usage"]["cache_creation_input_tokens"] == 0
    assert messages(client, haiku).json()["usage"]["cache_creation_input_tokens"] == 1500


def test_the_longest_cached_marker_is_read_and_the_rest_written(client: httpx.Client) -> None:
    system = [{"type": "text", "text": words(1200, "a"), "cache_control": MARK},
              {"type": "text", "text": words(300, "b"), "cache_control": MARK}]
    messages(client, system[:1])  # writes the first 1,200
    usage = messages(client, system).json()["usage"]
    assert (usage["cache_read_input_tokens"], usage["cache_creation_input_tokens"]) == (1200, 300)
    again = messages(client, system, "another question").json()["usage"]
    assert (again["cache_read_input_tokens"], again["cache_creation_input_tokens"]) == (1500, 0)


def test_a_fifth_marker_is_anthropics_own_400(client: httpx.Client) -> None:
    system = [{"type": "text", "text": f"part {i}", "cache_control": MARK} for i in range(5)]
    response = messages(client, system)
    assert response.status_code == 400
    assert response.json() == {"type": "error", "error": {
        "type": "invalid_request_error",
        "message": "A maximum of 4 blocks with cache_control may be provided. Found 5."}}


def test_entries_expire_after_their_ttl_and_reads_refresh_them() -> None:
    now = [0.0]
    cache = PromptCache(clock=lambda: now[0])
    short, hour = CachePrefix("k5", 2000), CachePrefix("k1h", 2000, ttl_s=3600)
    assert cache.account([short], 1024) == (0, 2000)
    now[0] = 299.0
    assert cache.account([short], 1024) == (2000, 0)  # a read: alive until 599
    now[0] = 598.0
    assert cache.account([short], 1024) == (2000, 0)
    now[0] = 900.0
    assert cache.account([short], 1024) == (0, 2000)
    assert cache.account([hour], 1024) == (0, 2000)
    now[0] = 900.0 + 3000
    assert cache.account([hour], 1024) == (2000, 0)


def test_openai_caches_prompts_of_1024_tokens_in_128_token_steps(client: httpx.Client) -> None:
    def ask(system: str, question: str) -> dict[str, Any]:
        body = {"model": "gpt-4o", "messages": [{"role": "system", "content": system},
                                                {"role": "user", "content": question}]}
        return dict(client.post("/v1/chat/completions", json=body, headers=OPENAI).json()["usage"])

    system = words(2000)
    first, second = ask(system, "first question"), ask(system, "second one")
    assert first["prompt_tokens_details"]["cached_tokens"] == 0
    assert second["prompt_tokens_details"]["cached_tokens"] == 1920  # 15 steps of 128 within the shared 2,000
    assert second["prompt_tokens"] == 2002
    assert ask(words(900), "short")["prompt_tokens_details"]["cached_tokens"] == 0
    assert ask(words(900), "short")["prompt_tokens_details"]["cached_tokens"] == 0


def test_bedrock_refuses_a_fifth_cache_point(client: httpx.Client) -> None:
    from tests.unit.test_fake_providers import bedrock_post

    system = [{"text": "x"}, *[{"cachePoint": {"type": "default"}} for _ in range(5)]]
    response = bedrock_post(client, {"system": system, "messages": [{"role": "user", "content": [{"text": "q"}]}]})
    assert response.status_code == 400 and response.headers["x-amzn-errortype"] == "ValidationException"
    assert "exceeds the maximum of 4" in response.json()["message"]
