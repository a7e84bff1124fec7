"""The plain-data shapes that cross a Ray call between the ingress and the provider deployments.

The other deployments' answers are the dataclasses their own modules define (``GuardVerdict``, ``Lookup``,
``TierVerdict``, ``Observation``) and cross as they are. What a provider deployment returns is the OpenAI body the
client gets, passed through as it is, so it is a ``TypedDict`` around that body; ``provider_reply`` validates one
where it enters the ingress.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict

from tollgate_core.errors import UpstreamError

__all__ = ["META_KEY", "PROMPT_CACHE_FIELD", "LocalChatRequest", "ProviderReply", "StreamMeta", "provider_reply"]

# The first item of every stream is ``{META_KEY: StreamMeta}``; chunks follow.
META_KEY = "_tollgate_meta"
# The gateway's prompt-caching choice for one request ("auto" or "off"), in the request a provider proxy gets;
# never sent upstream (deployments/providers/prompt_cache.py).
PROMPT_CACHE_FIELD = "_tollgate_prompt_cache"


@dataclass(frozen=True)
class LocalChatRequest:
    """A chat request on its way to the local tier. Ray Serve LLM's prefix-aware router reads ``messages`` off a
    call's arguments to send requests that share a prefix to the replica that has it cached."""

    messages: list[Any]
    body: dict[str, Any]


class ProviderReply(TypedDict):
    """A whole answer from a provider proxy or the local tier."""

    body: dict[str, Any]  # the OpenAI ``chat.completion`` the client gets
    headers: dict[str, str]  # the provider's rate-limit headers, for routing
    upstream_ms: float  # time spent waiting on the provider


class StreamMeta(TypedDict):
    """What a stream says about itself before its first chunk."""

    upstream_ms: float  # time to the provider's first chunk


_PROVIDER_REPLY = TypeAdapter(ProviderReply)


def provider_reply(value: Any, source: str) -> ProviderReply:
    """``value`` checked as a :class:`ProviderReply` (a deployment of another version answers something else)."""
    try:
        return _PROVIDER_REPLY.validate_python(value)
    except ValidationError as exc:
        raise UpstreamError(f"{source} answered in an unexpected shape ({exc.error_count()} problems)") from exc
