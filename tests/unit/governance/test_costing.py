"""What a request may cost before it runs and what it cost after, with exact values: the token counts budgets
reserve against, the worst-case prices, and the charge for a provider's usage."""

from __future__ import annotations

import json

import pytest

from serve_app.governance.costing import (
    TokenCounter,
    actual_cost_nano,
    cache_saving_nano,
    usage_numbers,
    worst_case_nano,
    worst_case_prices,
    write_1h_tokens,
)
from tollgate_core.config import Prices, parse_gateway_config


@pytest.fixture(scope="module")
def counter() -> TokenCounter:
    return TokenCounter()


def test_text_is_counted_with_cl100k(counter: TokenCounter) -> None:
    assert counter.count_text("") == 0
    assert counter.count_text("hello world") == 2
    assert counter.count_text("<|endoftext|>") > 1  # special tokens are counted as text, never refused


def test_a_prompt_counts_each_message_its_parts_and_the_reply(counter: TokenCounter) -> None:
    assert counter.count_prompt({"messages": []}) == 3  # the reply's priming
    one = counter.count_prompt({"messages": [{"role": "user", "content": "hello world"}]})
    assert one == 3 + 4 + 2
    parts = {"messages": [{"role": "user", "content": [
        {"type": "text", "text": "one two three"}, "not a part", {"type": "image_url", "image_url": {"url": "data:x"}},
        {"type": "text", "text": None}, {"type": "refusal", "refusal": "no"}]}]}
    assert counter.count_text("one two three") == 3
    assert counter.count_prompt(parts) == 3 + 4 + 3 + 1105  # an image is priced as a large one; others add 0
    assert counter.count_prompt({"messages": [{"role": "assistant", "content": None}]}) == 3 + 4


def test_tool_calls_names_tools_and_formats_are_counted(counter: TokenCounter) -> None:
    calls = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    message = {"role": "assistant", "content": "ok", "tool_calls": calls, "name": "bot"}
    tools = [{"type": "function", "function": {"name": "lookup"}}]
    fmt = {"type": "json_object"}
    request = {"messages": [message], "tools": tools, "response_format": fmt}
    expected = (3 + 4 + counter.count_text("ok") + counter.count_text(json.dumps(calls)) + 1
                + counter.count_text(json.dumps(tools)) + counter.count_text(json.dumps(fmt)))
    assert counter.count_prompt(request) == expected


def test_usage_numbers_read_openais_shape() -> None:
    assert usage_numbers(None) is None
    assert usage_numbers({"prompt_tokens": "12"}) is None
    assert usage_numbers({"prompt_tokens": 12}) == (12, 0, 0, 0)
    assert usage_numbers({"prompt_tokens": 0, "completion_tokens": None}) == (0, 0, 0, 0)
    usage = {"prompt_tokens": 100, "completion_tokens": 7,
             "prompt_tokens_details": {"cached_tokens": 60, "cache_write_tokens": 30, "cache_write_1h_tokens": 10}}
    assert usage_numbers(usage) == (100, 7, 60, 30)
    assert write_1h_tokens(usage) == 10
    assert write_1h_tokens({"prompt_tokens": 1}) == write_1h_tokens(None) == 0


def test_without_cache_prices_every_input_token_costs_the_input_price() -> None:
    plain = Prices(input=2.0, output=4.0)  # no provider's defaults filled in
    assert actual_cost_nano(plain, 100, 10, cached=60, cache_write=30, write_1h=10) == (100 * 2 + 10 * 4) * 1000
    assert cache_saving_nano(plain, 100, cached=60, cache_write=30) == 0


def test_a_prompt_read_and_written_whole_has_no_uncached_part() -> None:
    prices = Prices(input=2.0, output=4.0, cache_read=1.0, cache_write=3.0, cache_write_1h=5.0)
    assert actual_cost_nano(prices, 100, 0, cached=60, cache_write=40, write_1h=15) == (
        60 * 1 + 25 * 3 + 15 * 5) * 1000
    # One hour writes are a part of the writes: never more than them.
    assert actual_cost_nano(prices, 100, 0, cache_write=40, write_1h=99) == (60 * 2 + 40 * 5) * 1000


def test_the_worst_case_takes_the_dearest_input_and_output_of_any_target() -> None:
    config = parse_gateway_config({"models": {
        "m": {"fallbacks": ["n"], "targets": [{"provider": "openai", "model": "a", "api_key_env": "K",
                                                "prices": {"input": 1.0, "output": 9.0}}]},
        "n": {"targets": [{"provider": "anthropic", "model": "b", "api_key_env": "K",
                           "prices": {"input": 3.0, "output": 4.0}}]},
    }})
    assert worst_case_prices(config, "n") == (6.0, 4.0)  # Anthropic's one-hour write: 2 x input
    assert worst_case_prices(config, "m") == (6.0, 9.0)
    assert worst_case_nano(1000, 10, (6.0, 9.0)) == (1000 * 6 + 10 * 9) * 1000
