"""The fake providers' prompt caches, as each provider documents its own.

* Anthropic and Bedrock: explicit markers (``cache_control`` on blocks; ``cachePoint`` blocks). Each
  marker ends a cacheable prefix. A request reads the longest of its marked prefixes still in the
  cache and writes the rest, up to its last marker. A prefix shorter than the model's minimum
  (1,024 tokens; 2,048 for Haiku models) is not cached. Entries live 5 minutes (``"ttl": "1h"``:
  an hour), refreshed by every read. More than 4 markers is the provider's own 400.
* OpenAI and Azure: automatic. Prompts of 1,024 tokens or more are cached in 128-token steps; a
  request reads the longest cached step of its prefix. Writes are free and not reported.

A token is a whitespace-separated word, as everywhere in the fake.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_MARKERS", "CachePrefix", "PromptCache", "marked_prefixes", "min_cacheable", "openai_prefixes"]

MAX_MARKERS = 4
DEFAULT_TTL_S = 300.0
OPENAI_MIN_TOKENS = 1024
OPENAI_STEP = 128


@dataclass(frozen=True)
class CachePrefix:
    """A prompt prefix that ends at a cache marker (or an automatic step): its identity and size in tokens."""

    key: str
    tokens: int
    ttl_s: float = DEFAULT_TTL_S


def min_cacheable(model: str) -> int:
    """The minimum cacheable prefix of an Anthropic model (on Anthropic or Bedrock)."""
    return 2048 if "haiku" in model.lower() else 1024


def ttl_of(marker: Any) -> float:
    return 3600.0 if isinstance(marker, dict) and marker.get("ttl") == "1h" else DEFAULT_TTL_S


def marked_prefixes(model: str, segments: Sequence[tuple[Any, int, Any]]) -> tuple[CachePrefix, ...]:
    """One prefix per marker; ``segments`` are ``(item, tokens, marker or None)`` in prompt order."""
    digest = hashlib.sha256(model.encode())
    prefixes, tokens = [], 0
    for item, size, marker in segments:
        digest.update(json.dumps(item, sort_keys=True, default=str).encode())
        tokens += size
        if marker is not None:
            prefixes.append(CachePrefix(digest.copy().hexdigest(), tokens, ttl_of(marker)))
    return tuple(prefixes)


def openai_prefixes(model: str, words: Sequence[str]) -> tuple[CachePrefix, ...]:
    """Every 128-token step of a prompt of at least 1,024 tokens."""
    digest = hashlib.sha256(model.encode())
    prefixes = []
    for start in range(0, len(words), OPENAI_STEP):
        digest.update(" ".join(words[start:start + OPENAI_STEP]).encode() + b"\x00")
        end = min(start + OPENAI_STEP, len(words))
        if end - start == OPENAI_STEP and end >= OPENAI_MIN_TOKENS:
            prefixes.append(CachePrefix(digest.copy().hexdigest(), end))
    return tuple(prefixes)


class PromptCache:
    """Which prefixes are cached, until when."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._expires: dict[str, float] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def account(self, prefixes: Sequence[CachePrefix], min_tokens: int) -> tuple[int, int]:
        """``(read_tokens, write_tokens)`` of a request, and its prefixes cached from now on."""
        cacheable = [p for p in prefixes if p.tokens >= min_tokens]
        if not cacheable:
            return 0, 0
        now = self._clock()
        with self._lock:
            hits = [p for p in cacheable if self._expires.get(p.key, 0.0) > now]
            read = max((p.tokens for p in hits), default=0)
            write = max(0, cacheable[-1].tokens - read)
            for prefix in cacheable:
                self._expires[prefix.key] = max(self._expires.get(prefix.key, 0.0), now + prefix.ttl_s)
        return read, write

    def clear(self) -> None:
        with self._lock:
            self._expires.clear()
