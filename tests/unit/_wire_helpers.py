"""Inputs and expected OpenAI shapes shared by the provider wire tests.

The helpers build data only; the assertions stay in the test modules, where pytest rewrites
them into readable failures.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

__all__ = [
    "PNG_B64",
    "TEXT_STREAM_DELTAS",
    "TEXT_STREAM_FINISH_REASONS",
    "WEATHER_TOOL",
    "StreamTranslator",
    "assistant_choice",
    "bad_image_messages",
    "chat_request",
    "deltas",
    "openai_usage",
    "run_stream",
    "tool_call_stream_deltas",
]

PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "Current weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}

# What a stream that says "Hel" then "lo!" and ends normally turns into, chunk by chunk.
TEXT_STREAM_DELTAS: list[dict[str, Any]] = [
    {"role": "assistant", "content": ""}, {"content": "Hel"}, {"content": "lo!"}, {}
]
TEXT_STREAM_FINISH_REASONS: list[str | None] = [None, None, None, "stop"]


class StreamTranslator(Protocol):
    """What the provider stream translators have in common."""

    def feed(self, event: str, data: dict[str, Any], /) -> list[dict[str, Any]]: ...


def chat_request(messages: list[Any], **extra: Any) -> dict[str, Any]:
    """An OpenAI chat request with ``messages`` and any other fields given."""
    return {"model": "gpt-x", "messages": messages, **extra}


def bad_image_messages(url: str) -> list[dict[str, Any]]:
    """A conversation whose fourth message (``messages[3]``) sends an image at ``url`` as its second part."""
    return [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "a"},
        {"role": "user", "content": [
            {"type": "text", "text": "see"}, {"type": "image_url", "image_url": {"url": url}},
        ]},
    ]


def run_stream(translator: StreamTranslator, events: Iterable[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every chunk the translator emits for ``events``, in order."""
    return [chunk for event, data in events for chunk in translator.feed(event, data)]


def deltas(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The deltas of the chunks that have a choice (the usage chunk has none)."""
    return [c["choices"][0]["delta"] for c in chunks if c["choices"]]


def tool_call_stream_deltas(first_id: str, second_id: str) -> list[dict[str, Any]]:
    """The deltas of a stream that says "Checking." then calls weather (Paris) and time, in two calls."""
    return [
        {"role": "assistant", "content": ""},
        {"content": "Checking."},
        {"tool_calls": [{"index": 0, "id": first_id, "type": "function",
                         "function": {"name": "weather", "arguments": ""}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": '{"city": "Pa'}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": 'ris"}'}}]},
        {"tool_calls": [{"index": 1, "id": second_id, "type": "function",
                         "function": {"name": "time", "arguments": ""}}]},
        {"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]},
        {},
    ]


def assistant_choice(content: str | None, finish_reason: str) -> list[dict[str, Any]]:
    """The ``choices`` of a ``chat.completion`` with one plain assistant message."""
    return [{
        "index": 0,
        "message": {"role": "assistant", "content": content, "refusal": None},
        "logprobs": None,
        "finish_reason": finish_reason,
    }]


def openai_usage(prompt: int, completion: int, total: int, *, cached: int = 0, cache_write: int = 0) -> dict[str, Any]:
    """An OpenAI ``usage`` dict, every count spelled out (nothing is computed)."""
    return {
        "prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total,
        "prompt_tokens_details": {"cached_tokens": cached, "cache_write_tokens": cache_write},
    }
