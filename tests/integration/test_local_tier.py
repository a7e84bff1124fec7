"""The local tier (SmolLM2 on vLLM's CPU build via Ray Serve LLM) through the OpenAI SDK."""

from __future__ import annotations

import openai
import pytest

from tests.integration.conftest import LOCAL_MODEL, MASTER_KEY

pytestmark = pytest.mark.integration


def test_local_tier_answers_with_generated_tokens(base_url: str) -> None:
    client = openai.OpenAI(base_url=base_url, api_key=MASTER_KEY)
    raw = client.chat.completions.with_raw_response.create(
        model=LOCAL_MODEL,
        messages=[{"role": "user", "content": "What is the capital of France? Answer in one sentence."}],
        max_tokens=24,
        temperature=0,
    )
    completion = raw.parse()
    assert raw.headers["x-tollgate-model"] == "local/smollm2"
    assert "x-tollgate-overhead-ms" in raw.headers  # its value: tests/unit/test_gateway_api.py
    assert completion.choices[0].message.role == "assistant"
    assert "paris" in (completion.choices[0].message.content or "").lower()
    assert completion.choices[0].finish_reason in ("stop", "length")
    assert completion.usage is not None
    assert completion.usage.completion_tokens > 0
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens


def test_local_tier_streams_with_usage(base_url: str) -> None:
    client = openai.OpenAI(base_url=base_url, api_key=MASTER_KEY)
    stream = client.chat.completions.create(
        model=LOCAL_MODEL,
        messages=[{"role": "user", "content": "Name three colours."}],
        max_tokens=16,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1, "tokens arrive as several chunks"
    assert text.strip()
    assert finish in (["stop"], ["length"])
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0


def test_local_tier_stream_without_usage_has_no_usage_chunk(base_url: str) -> None:
    client = openai.OpenAI(base_url=base_url, api_key=MASTER_KEY)
    chunks = list(client.chat.completions.create(
        model=LOCAL_MODEL, messages=[{"role": "user", "content": "Say hi."}], max_tokens=8, stream=True,
    ))
    assert chunks and all(c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)


async def test_local_tier_async_client(base_url: str) -> None:
    client = openai.AsyncOpenAI(base_url=base_url, api_key=MASTER_KEY)
    completion = await client.chat.completions.create(
        model=LOCAL_MODEL, messages=[{"role": "user", "content": "Say hello."}], max_tokens=8
    )
    assert completion.choices[0].message.content
    stream = await client.chat.completions.create(
        model=LOCAL_MODEL, messages=[{"role": "user", "content": "Say hello."}], max_tokens=8, stream=True
    )
    pieces = [c.choices[0].delta.content or "" async for c in stream if c.choices]
    assert "".join(pieces).strip()
    await client.close()
