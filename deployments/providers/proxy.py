"""The provider proxy's logic: pick the client for a target and time the upstream call.

Plain class, no Ray: :mod:`deployments.providers.deployment` wraps it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from deployments.providers.anthropic import AnthropicClient
from deployments.providers.base import ProviderClient
from deployments.providers.bedrock import BedrockClient
from deployments.providers.openai_compat import OpenAICompatClient
from tollgate_core.config import GatewayConfig, ProviderKind, TargetConfig
from tollgate_core.contracts import META_KEY, ProviderReply
from tollgate_core.errors import ModelNotFoundError

__all__ = ["ProviderProxy", "client_for"]


def client_for(kind: ProviderKind) -> ProviderClient:
    if kind in (ProviderKind.OPENAI, ProviderKind.AZURE):
        return OpenAICompatClient()
    if kind is ProviderKind.ANTHROPIC:
        return AnthropicClient()
    if kind is ProviderKind.BEDROCK:
        return BedrockClient()
    raise ValueError(f"no HTTP client for provider kind {kind.value}")


class ProviderProxy:
    """Serves calls for the targets of one or more provider kinds."""

    def __init__(self, config: GatewayConfig, kinds: set[ProviderKind]) -> None:
        self._config = config
        self._clients: dict[ProviderKind, ProviderClient] = {}
        for kind in kinds:
            # OpenAI and Azure share a client (and its connection pool).
            shared = ProviderKind.OPENAI if kind is ProviderKind.AZURE else kind
            if shared not in self._clients:
                self._clients[shared] = client_for(shared)
            self._clients[kind] = self._clients[shared]

    def _target(self, model: str, index: int) -> tuple[TargetConfig, ProviderClient]:
        entry = self._config.models.get(model)
        if entry is None or not 0 <= index < len(entry.targets):
            raise ModelNotFoundError(f"model {model!r} target {index} is not in this proxy's catalog")
        target = entry.targets[index]
        client = self._clients.get(target.provider)
        if client is None:
            raise ModelNotFoundError(f"this proxy does not serve {target.provider.value} targets")
        return target, client

    async def complete(self, model: str, index: int, request: dict[str, Any]) -> ProviderReply:
        """Non-streamed call: the OpenAI body, the provider's headers and the time spent upstream."""
        target, client = self._target(model, index)
        started = time.perf_counter()
        reply = await client.complete(target, request)
        return {"body": reply.body, "headers": reply.headers, "upstream_ms": (time.perf_counter() - started) * 1000}

    async def embed(self, model: str, index: int, request: dict[str, Any]) -> ProviderReply:
        """Embeddings: OpenAI's embedding list, the provider's headers and the time spent upstream."""
        target, client = self._target(model, index)
        started = time.perf_counter()
        reply = await client.embed(target, request)
        return {"body": reply.body, "headers": reply.headers, "upstream_ms": (time.perf_counter() - started) * 1000}

    async def complete_stream(self, model: str, index: int, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Streamed call; yields a meta item, then ``chat.completion.chunk`` dicts."""
        target, client = self._target(model, index)
        started = time.perf_counter()
        first = True
        async for chunk in client.stream(target, request):
            if first:
                yield {META_KEY: {"upstream_ms": (time.perf_counter() - started) * 1000}}
                first = False
            yield chunk

    async def aclose(self) -> None:
        seen: set[int] = set()
        for client in self._clients.values():
            if id(client) not in seen:
                seen.add(id(client))
                await client.aclose()
