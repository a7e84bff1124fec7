"""What the pipeline hands the HTTP layer: a whole answer or a stream, with the headers that describe it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from deployments.tiering.step import TierRoute
from tollgate_core.catalog import ResolvedTarget
from tollgate_core.config import ProviderKind

__all__ = ["ChatReply", "StreamReply", "answer_headers", "ms", "sse", "tier_of"]


@dataclass
class ChatReply:
    """A whole answer and the headers that describe it."""

    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class StreamReply:
    """An answer whose first chunk has arrived; ``body`` yields SSE bytes.

    ``release`` frees the target's hold; the body calls it when it ends, and the
    HTTP layer calls it again (harmlessly) in case the body was never iterated.
    """

    body: AsyncIterator[bytes]
    headers: dict[str, str] = field(default_factory=dict)
    release: Callable[[], None] = lambda: None


def sse(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def tier_of(rt: ResolvedTarget, route: TierRoute | None) -> int:
    """The tier that served: the policy's decision (2 once escalated), else 1 for the local tier."""
    if route is not None:
        return 2 if rt.model in route.escalation else route.tier
    return 1 if rt.target.provider is ProviderKind.LOCAL else 2


def answer_headers(rt: ResolvedTarget, attempts: int, overhead_s: float, route: TierRoute | None) -> dict[str, str]:
    """The headers of an answer a target gave (not a cache hit)."""
    return {
        "x-tollgate-model": rt.target.label,
        "x-tollgate-tier": str(tier_of(rt, route)),
        "x-tollgate-attempts": str(attempts),
        "x-tollgate-overhead-ms": ms(max(0.0, overhead_s)),
        **(route.headers() if route is not None else {}),
    }
