"""What the in-process gateway tests share: a provider proxy called directly instead of through Ray."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from deployments.providers.proxy import ProviderProxy

__all__ = ["InProcessBackend"]


class InProcessBackend:
    """A ProviderProxy called directly, as the Ray handle would call it."""

    def __init__(self, proxy: ProviderProxy) -> None:
        self._proxy = proxy

    async def complete(self, model: str, index: int, request: dict[str, Any]) -> dict[str, Any]:
        return await self._proxy.complete(model, index, request)

    async def complete_stream(self, model: str, index: int, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        async for item in self._proxy.complete_stream(model, index, request):
            yield item

    async def check_health(self, timeout_s: float) -> None:
        return None
