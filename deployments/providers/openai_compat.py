"""OpenAI, Azure OpenAI and any OpenAI-compatible server: the request passes through nearly as is."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from httpx_sse import EventSource

from deployments.providers._http import guard_iteration, new_client, open_stream, request_json
from deployments.providers.base import UpstreamReply, api_key_for
from deployments.providers.embeddings_wire import openai_embedding_body
from deployments.providers.prompt_cache import cache_mode, openai_cache_key, without_cache_control
from tollgate_core.config import PromptCacheMode, ProviderKind, TargetConfig
from tollgate_core.contracts import PROMPT_CACHE_FIELD
from tollgate_core.errors import UpstreamError

__all__ = ["OpenAICompatClient", "ratelimit_headers"]

_GATEWAY_ONLY_FIELDS = ("stream_options", PROMPT_CACHE_FIELD)


def ratelimit_headers(headers: httpx.Headers) -> dict[str, str]:
    """The provider's quota headers in OpenAI's names (``x-ratelimit-remaining-requests`` …), for routing.

    Anthropic's ``anthropic-ratelimit-requests-remaining`` and friends are renamed to OpenAI's.
    """
    out = {k: v for k, v in headers.items() if k.startswith("x-ratelimit-")}
    for kind in ("requests", "tokens"):
        for field in ("remaining", "limit"):
            value = headers.get(f"anthropic-ratelimit-{kind}-{field}")
            if value is not None:
                out.setdefault(f"x-ratelimit-{field}-{kind}", value)
    return out


class OpenAICompatClient:
    """Client for ``openai`` and ``azure`` targets."""

    def __init__(self, client: httpx.AsyncClient | None = None) -> None:
        self._client = client or new_client()

    def _url_and_headers(self, target: TargetConfig,
                         path: str = "chat/completions") -> tuple[str, dict[str, str], dict[str, str]]:
        key = api_key_for(target)
        if target.provider is ProviderKind.AZURE:
            url = f"{target.base_url}/openai/deployments/{target.model}/{path}"
            return url, {"api-key": key}, {"api-version": target.api_version or ""}
        return f"{target.base_url}/{path}", {"Authorization": f"Bearer {key}"}, {}

    def _body(self, target: TargetConfig, request: dict[str, Any], *, stream: bool) -> dict[str, Any]:
        body = {k: v for k, v in without_cache_control(request).items() if k not in _GATEWAY_ONLY_FIELDS}
        body["model"] = target.model
        body["stream"] = stream
        if stream:
            # Always ask for usage: the gateway needs it for cost even when the client did not.
            body["stream_options"] = {"include_usage": True}
        if target.provider is ProviderKind.AZURE:
            body.pop("model")
        elif cache_mode(target, request) is PromptCacheMode.AUTO and "prompt_cache_key" not in body:
            body["prompt_cache_key"] = openai_cache_key(request, target.model)
        return body

    async def complete(self, target: TargetConfig, request: dict[str, Any]) -> UpstreamReply:
        url, headers, params = self._url_and_headers(target)
        response = await request_json(
            self._client, "POST", url, target=target, headers=headers, params=params,
            json=self._body(target, request, stream=False),
        )
        try:
            body = response.json()
        except ValueError as exc:
            raise UpstreamError(f"{target.label} returned a body that is not JSON") from exc
        return UpstreamReply(body=body, headers=ratelimit_headers(response.headers))

    async def embed(self, target: TargetConfig, request: dict[str, Any]) -> UpstreamReply:
        url, headers, params = self._url_and_headers(target, "embeddings")
        model = None if target.provider is ProviderKind.AZURE else target.model
        response = await request_json(self._client, "POST", url, target=target, headers=headers, params=params,
                                      json=openai_embedding_body(request, model))
        try:
            body = response.json()
        except ValueError as exc:
            raise UpstreamError(f"{target.label} returned a body that is not JSON") from exc
        return UpstreamReply(body=body, headers=ratelimit_headers(response.headers))

    async def stream(self, target: TargetConfig, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        url, headers, params = self._url_and_headers(target)
        async with open_stream(
            self._client, "POST", url, target=target, headers=headers, params=params,
            json=self._body(target, request, stream=True),
        ) as response:
            done = False
            async for sse in guard_iteration(EventSource(response).aiter_sse(), target.label):
                if sse.data == "[DONE]":
                    done = True
                    break
                if not sse.data:
                    continue
                try:
                    chunk = json.loads(sse.data)
                except ValueError as exc:
                    raise UpstreamError(f"{target.label} sent a stream event that is not JSON") from exc
                if "error" in chunk and "choices" not in chunk:
                    err = chunk["error"] if isinstance(chunk["error"], dict) else {"message": str(chunk["error"])}
                    raise UpstreamError(f"{target.label} failed mid-stream: {err.get('message')}")
                yield chunk
            if not done:
                raise UpstreamError(f"{target.label} ended the stream before [DONE]; the answer is incomplete")

    async def aclose(self) -> None:
        await self._client.aclose()

