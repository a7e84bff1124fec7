"""Provider proxy deployments: one per provider family, each scaled on its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from ray import serve

from deployments.providers.proxy import ProviderProxy
from tollgate_core.config import ProviderKind, parse_gateway_config
from tollgate_core.contracts import ProviderReply

__all__ = ["AnthropicProxy", "BedrockProxy", "OpenAIProxy"]


class _ProxyDeployment:
    kinds: frozenset[ProviderKind] = frozenset()

    def __init__(self, gateway_args: dict[str, Any]) -> None:
        self._proxy = ProviderProxy(parse_gateway_config(gateway_args), set(self.kinds))

    async def complete(self, model: str, index: int, request: dict[str, Any]) -> ProviderReply:
        return await self._proxy.complete(model, index, request)

    async def complete_stream(self, model: str, index: int, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        async for item in self._proxy.complete_stream(model, index, request):
            yield item

    async def embed(self, model: str, index: int, request: dict[str, Any]) -> ProviderReply:
        return await self._proxy.embed(model, index, request)

    async def check_health(self) -> None:
        return None

    async def __del__(self) -> None:
        await self._proxy.aclose()


@serve.deployment(name="OpenAIProxy", max_ongoing_requests=256, ray_actor_options={"num_cpus": 0})
class OpenAIProxy(_ProxyDeployment):
    """OpenAI, Azure OpenAI and other OpenAI-compatible servers."""

    kinds = frozenset({ProviderKind.OPENAI, ProviderKind.AZURE})


@serve.deployment(name="AnthropicProxy", max_ongoing_requests=256, ray_actor_options={"num_cpus": 0})
class AnthropicProxy(_ProxyDeployment):
    """Anthropic's Messages API."""

    kinds = frozenset({ProviderKind.ANTHROPIC})


@serve.deployment(name="BedrockProxy", max_ongoing_requests=256, ray_actor_options={"num_cpus": 0})
class BedrockProxy(_ProxyDeployment):
    """AWS Bedrock Converse and ConverseStream."""

    kinds = frozenset({ProviderKind.BEDROCK})
