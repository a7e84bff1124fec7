"""Anthropic Messages API client (``POST /v1/messages``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from httpx_sse import EventSource

from deployments.providers._http import guard_iteration, new_client, open_stream, parse_retry_after, request_json
from deployments.providers.anthropic_wire import (
    AnthropicStreamTranslator,
    anthropic_error,
    from_anthropic_response,
    to_anthropic_request,
)
from deployments.providers.base import UpstreamReply, api_key_for
from deployments.providers.openai_compat import ratelimit_headers
from deployments.providers.prompt_cache import cache_mode as _cache_mode
from deployments.providers.prompt_cache import mark_anthropic
from deployments.providers.schema_tool import SchemaCallStream, schema_as_tool, unwrap_schema_call
from tollgate_core.config import TargetConfig
from tollgate_core.errors import BadRequestError, UpstreamError

__all__ = ["ANTHROPIC_VERSION", "AnthropicClient"]

ANTHROPIC_VERSION = "2023-06-01"


def _on_error(status: int, body: Any, headers: httpx.Headers) -> UpstreamError:
    return anthropic_error(status, body, parse_retry_after(headers))


class AnthropicClient:
    """Client for ``anthropic`` targets; translates to and from OpenAI's shapes."""

    def __init__(self, client: httpx.AsyncClient | None = None) -> None:
        self._client = client or new_client()

    def _headers(self, target: TargetConfig) -> dict[str, str]:
        return {"x-api-key": api_key_for(target), "anthropic-version": ANTHROPIC_VERSION}

    async def complete(self, target: TargetConfig, request: dict[str, Any]) -> UpstreamReply:
        request, schema_tool = schema_as_tool(request)
        body = mark_anthropic(to_anthropic_request(request, target.model), _cache_mode(target, request),
                              target.min_cache_tokens)
        body["stream"] = False
        response = await request_json(
            self._client, "POST", f"{target.base_url}/v1/messages", target=target,
            headers=self._headers(target), json=body, on_error=_on_error,
        )
        try:
            data = response.json()
        except ValueError as exc:
            raise UpstreamError(f"{target.label} returned a body that is not JSON") from exc
        return UpstreamReply(body=unwrap_schema_call(from_anthropic_response(data, model=target.model), schema_tool),
                             headers=ratelimit_headers(response.headers))

    async def stream(self, target: TargetConfig, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        request, schema_tool = schema_as_tool(request)
        body = mark_anthropic(to_anthropic_request(request, target.model), _cache_mode(target, request),
                              target.min_cache_tokens)
        body["stream"] = True
        translator = AnthropicStreamTranslator(model=target.model, include_usage=True)
        answer = SchemaCallStream(schema_tool)
        async with open_stream(
            self._client, "POST", f"{target.base_url}/v1/messages", target=target,
            headers=self._headers(target), json=body, on_error=_on_error,
        ) as response:
            stopped = False
            async for sse in guard_iteration(EventSource(response).aiter_sse(), target.label):
                if not sse.data:
                    continue
                try:
                    data = json.loads(sse.data)
                except ValueError as exc:
                    raise UpstreamError(f"{target.label} sent a stream event that is not JSON") from exc
                event = sse.event if sse.event != "message" else str(data.get("type", "message"))
                for chunk in translator.feed(event, data):
                    yield answer.feed(chunk)
                if event == "message_stop":
                    stopped = True
                    break
            if not stopped:
                raise UpstreamError(f"{target.label} ended the stream before message_stop; the answer is incomplete")

    async def embed(self, target: TargetConfig, request: dict[str, Any]) -> UpstreamReply:
        raise BadRequestError(f"{target.label}: Anthropic serves no embeddings", param="model")

    async def aclose(self) -> None:
        await self._client.aclose()
