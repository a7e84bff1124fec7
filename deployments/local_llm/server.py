"""``LLMServer`` with the gateway's call surface: plain dicts in, plain dicts out.

Converting here, inside the engine replica, keeps vLLM's request classes (and
the vLLM import) out of the ingress process.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from ray.serve.llm.deployment import LLMServer

from deployments.local_llm.chunks import error_from_response, sse_to_chunks
from tollgate_core.contracts import META_KEY, PROMPT_CACHE_FIELD, LocalChatRequest, ProviderReply
from tollgate_core.errors import BadRequestError, UpstreamError

__all__ = ["LocalLLMServer"]


class LocalLLMServer(LLMServer):
    """The local tier's engine replica (vLLM), callable like a provider proxy."""

    def _request(self, request: LocalChatRequest | dict[str, Any], *, stream: bool) -> Any:
        from ray.serve.llm.openai_api_models import ChatCompletionRequest

        body = dict(request.body if isinstance(request, LocalChatRequest) else request)
        body.pop(PROMPT_CACHE_FIELD, None)  # vLLM caches prefixes by itself (enable_prefix_caching)
        body["model"] = self._llm_config.model_id
        body["stream"] = stream
        if stream:
            body["stream_options"] = {"include_usage": True}
        else:
            body.pop("stream_options", None)
        try:
            return ChatCompletionRequest(**body)
        except ValueError as exc:  # pydantic's ValidationError and vLLM's own validation errors
            raise BadRequestError(f"the local model cannot take this request: {exc}") from exc

    async def complete(self, model: str, index: int, request: LocalChatRequest | dict[str, Any]) -> ProviderReply:
        """Non-streamed chat; same contract as ``ProviderProxy.complete``."""
        started = time.perf_counter()
        generator = await self.chat(self._request(request, stream=False))
        async for item in generator:
            payload = item.model_dump(exclude_none=True) if hasattr(item, "model_dump") else item
            if isinstance(payload, dict) and "error" in payload and "choices" not in payload:
                raise error_from_response(payload)
            return {"body": payload, "headers": {}, "upstream_ms": (time.perf_counter() - started) * 1000}
        raise UpstreamError("the local model returned no response")

    async def complete_stream(self, model: str, index: int,
                              request: LocalChatRequest | dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Streamed chat; same contract as ``ProviderProxy.complete_stream``."""
        started = time.perf_counter()
        generator = await self.chat(self._request(request, stream=True))
        first, done = True, False
        async for batch in generator:
            items = batch if isinstance(batch, list) else [batch]
            for item in items:
                if hasattr(item, "model_dump"):
                    raise error_from_response(item.model_dump())
            chunks, finished = sse_to_chunks(items)
            done = done or finished
            for chunk in chunks:
                if first:
                    yield {META_KEY: {"upstream_ms": (time.perf_counter() - started) * 1000}}
                    first = False
                yield chunk
        if not done:
            raise UpstreamError("the local model's stream ended before [DONE]")
