"""What the in-process gateway tests share: a provider proxy called directly instead of through Ray, and the
gateway's HTTP API served in process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from deployments.providers.proxy import ProviderProxy
from fake_providers.server import FakeProviderServer
from serve_app.http.api import create_api
from serve_app.pipeline.gateway import Gateway

__all__ = ["GatewayClient", "InProcessBackend", "serve_in_process", "upstream_requests"]


class InProcessBackend:
    """A ProviderProxy called directly, as the Ray handle would call it."""

    def __init__(self, proxy: ProviderProxy) -> None:
        self._proxy = proxy

    async def complete(self, model: str, index: int, request: dict[str, Any]) -> dict[str, Any]:
        return await self._proxy.complete(model, index, request)

    async def complete_stream(self, model: str, index: int, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        async for item in self._proxy.complete_stream(model, index, request):
            yield item

    async def embed(self, model: str, index: int, request: dict[str, Any]) -> dict[str, Any]:
        return await self._proxy.embed(model, index, request)

    async def check_health(self, timeout_s: float) -> None:
        return None


class GatewayClient:
    """The gateway's HTTP API in process; ``chat`` sends one user message over the ``defaults`` (model, ...) and
    waits for the work the gateway does after a response (cache writes, audit records)."""

    def __init__(self, gateway: Gateway, client: httpx.AsyncClient, auth: dict[str, str], **defaults: Any) -> None:
        self.gateway, self.client, self._auth, self._defaults = gateway, client, auth, defaults

    async def chat(self, text: str, headers: dict[str, str] | None = None, **fields: Any) -> httpx.Response:
        body = {**self._defaults, "messages": [{"role": "user", "content": text}], **fields}
        response = await self.client.post("/v1/chat/completions", json=body, headers={**self._auth, **(headers or {})})
        await self.gateway.drain()
        return response


@asynccontextmanager
async def serve_in_process(fake: FakeProviderServer, gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on ``gateway``'s API, with the fake providers' recorded requests and faults cleared first."""
    async with httpx.AsyncClient() as admin:
        await admin.post(f"{fake.base_url}/_fake/reset")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_api(gateway)),
                                 base_url="http://gateway") as client:
        yield client


async def upstream_requests(fake: FakeProviderServer) -> list[dict[str, Any]]:
    """Every provider request the fake has seen since its last reset, oldest first."""
    async with httpx.AsyncClient() as admin:
        return list((await admin.get(f"{fake.base_url}/_fake/requests")).json())
