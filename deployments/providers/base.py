"""What every provider client offers the proxy deployment."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from tollgate_core.config import TargetConfig
from tollgate_core.errors import UpstreamUnavailableError

__all__ = ["ProviderClient", "UpstreamReply", "api_key_for"]


@dataclass
class UpstreamReply:
    """A whole (non-streamed) answer in OpenAI's ``chat.completion`` shape."""

    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class ProviderClient(Protocol):
    """Talks one provider's wire format; input and output are OpenAI-shaped dicts."""

    async def complete(self, target: TargetConfig, request: dict[str, Any]) -> UpstreamReply:
        """Send a non-streamed request."""
        ...

    def stream(self, target: TargetConfig, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Send a streamed request; yield ``chat.completion.chunk`` dicts until the provider is done."""
        ...

    async def embed(self, target: TargetConfig, request: dict[str, Any]) -> UpstreamReply:
        """Embed ``request["input"]``; the answer is OpenAI's embedding ``list`` with float vectors."""
        ...

    async def aclose(self) -> None:
        ...


def api_key_for(target: TargetConfig) -> str:
    """The target's API key from its environment variable; unset means the target is unavailable."""
    # Stripped: secrets mounted from files often end in a newline, which is no valid header value.
    key = os.environ.get(target.api_key_env or "", "").strip()
    if not key:
        raise UpstreamUnavailableError(f"{target.label} is unavailable: {target.api_key_env} is not set")
    return key
