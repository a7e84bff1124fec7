"""AWS Bedrock Converse / ConverseStream client.

SigV4 signing and event-stream decoding are botocore's; this module only
moves bytes and hands JSON to :mod:`deployments.providers.bedrock_wire`.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, EnvProvider
from botocore.eventstream import EventStreamBuffer, ParserError
from botocore.exceptions import BotoCoreError

from deployments.providers._http import guard_iteration, new_client, open_stream, parse_retry_after, request_json
from deployments.providers.base import UpstreamReply
from deployments.providers.bedrock_wire import (
    ConverseStreamTranslator,
    bedrock_error,
    from_converse_response,
    to_converse_request,
)
from deployments.providers.embeddings_wire import (
    COHERE_BATCH,
    bedrock_family,
    cohere_request,
    cohere_vectors,
    embedding_list,
    titan_request,
    titan_vector,
)
from deployments.providers.prompt_cache import cache_mode, mark_bedrock
from deployments.providers.schema_tool import SchemaCallStream, schema_as_tool, unwrap_schema_call
from tollgate_core.config import TargetConfig
from tollgate_core.errors import UpstreamError, UpstreamUnavailableError

__all__ = ["BedrockClient", "load_aws_credentials"]

_EMBED_CONCURRENCY = 8  # Titan calls in flight for one request: enough to be quick, few enough not to be throttled


def load_aws_credentials() -> Credentials | None:
    """Credentials from the standard AWS variables, or a named profile when AWS_PROFILE is set.

    The full botocore chain is used only with AWS_PROFILE: its instance-metadata
    lookup would otherwise stall every call on a machine outside AWS.
    """
    creds = EnvProvider().load()
    if creds is None and os.environ.get("AWS_PROFILE"):
        import botocore.session

        creds = botocore.session.get_session().get_credentials()
    return creds


def _on_error(status: int, body: Any, headers: httpx.Headers) -> UpstreamError:
    return bedrock_error(status, body, headers.get("x-amzn-errortype"), parse_retry_after(headers))


class BedrockClient:
    """Client for ``bedrock`` targets."""

    def __init__(self, client: httpx.AsyncClient | None = None, credentials: Credentials | None = None) -> None:
        self._client = client or new_client()
        # Resolved once (profile files, SSO or STS refreshes block): botocore refreshes them itself.
        self._credentials = credentials or load_aws_credentials()

    def _signed(self, target: TargetConfig, action: str, request: dict[str, Any]) -> tuple[str, bytes, dict[str, str]]:
        """A Converse call: the chat request translated, with the prompt-cache points, signed."""
        body = mark_bedrock(to_converse_request(request), cache_mode(target, request), target.min_cache_tokens)
        return self._sign(target, action, json.dumps(body).encode())

    def _sign(self, target: TargetConfig, action: str, body: bytes) -> tuple[str, bytes, dict[str, str]]:
        creds = self._credentials
        if creds is None:
            raise UpstreamUnavailableError(f"{target.label} is unavailable: AWS credentials are not set")
        url = f"{target.base_url}/model/{quote(target.model, safe='')}/{action}"
        accept = "application/vnd.amazon.eventstream" if action == "converse-stream" else "application/json"
        aws_request = AWSRequest(
            method="POST", url=url, data=body, headers={"Content-Type": "application/json", "Accept": accept}
        )
        try:
            SigV4Auth(creds.get_frozen_credentials(), "bedrock", target.region or "us-east-1").add_auth(aws_request)
        except BotoCoreError as exc:
            raise UpstreamUnavailableError(f"cannot sign the request for {target.label}: {exc}") from exc
        return url, body, dict(aws_request.headers.items())

    async def complete(self, target: TargetConfig, request: dict[str, Any]) -> UpstreamReply:
        request, schema_tool = schema_as_tool(request)
        url, body, headers = self._signed(target, "converse", request)
        response = await request_json(
            self._client, "POST", url, target=target, content=body, headers=headers, on_error=_on_error
        )
        try:
            data = response.json()
        except ValueError as exc:
            raise UpstreamError(f"{target.label} returned a body that is not JSON") from exc
        return UpstreamReply(body=unwrap_schema_call(from_converse_response(data, model=target.model), schema_tool))

    async def _invoke(self, target: TargetConfig, body: dict[str, Any]) -> Any:
        url, content, headers = self._sign(target, "invoke", json.dumps(body).encode())
        response = await request_json(
            self._client, "POST", url, target=target, content=content, headers=headers, on_error=_on_error
        )
        try:
            return response.json()
        except ValueError as exc:
            raise UpstreamError(f"{target.label} returned a body that is not JSON") from exc

    async def embed(self, target: TargetConfig, request: dict[str, Any]) -> UpstreamReply:
        """Titan: one InvokeModel per input, a few at a time; Cohere: batches of 96 (its limit per call).
        The first failure cancels the calls still running (a task group), so failover starts clean."""
        texts = list(request["input"]) if isinstance(request["input"], list) else [request["input"]]
        limit = asyncio.Semaphore(_EMBED_CONCURRENCY)

        async def invoke(body: dict[str, Any]) -> Any:
            async with limit:
                return await self._invoke(target, body)

        cohere = bedrock_family(target.model) == "cohere"
        bodies = ([cohere_request(texts[i:i + COHERE_BATCH]) for i in range(0, len(texts), COHERE_BATCH)] if cohere
                  else [titan_request(t, request.get("dimensions")) for t in texts])
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(invoke(body)) for body in bodies]
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None  # the provider's own error, for routing and the client
        answers = [task.result() for task in tasks]
        if cohere:
            vectors = [v for body, answer in zip(bodies, answers, strict=True)
                       for v in cohere_vectors(answer, len(body["texts"]), target.label)]
            return UpstreamReply(body=embedding_list(vectors, target.model, 0))  # Cohere counts no tokens
        pairs = [titan_vector(a, target.label) for a in answers]
        return UpstreamReply(body=embedding_list([v for v, _ in pairs], target.model, sum(n for _, n in pairs)))

    async def stream(self, target: TargetConfig, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        request, schema_tool = schema_as_tool(request)
        url, body, headers = self._signed(target, "converse-stream", request)
        translator = ConverseStreamTranslator(model=target.model, include_usage=True)
        answer = SchemaCallStream(schema_tool)
        async with open_stream(
            self._client, "POST", url, target=target, content=body, headers=headers, on_error=_on_error
        ) as response:
            buffer = EventStreamBuffer()
            finished = False
            async for data in guard_iteration(response.aiter_bytes(), target.label):
                buffer.add_data(data)
                try:
                    messages = list(buffer)
                except ParserError as exc:
                    raise UpstreamError(f"{target.label} sent a malformed event stream: {exc}") from exc
                for message in messages:
                    kind = message.headers.get(":message-type")
                    payload = json.loads(message.payload or b"{}")
                    if kind == "event":
                        event_type = str(message.headers.get(":event-type"))
                    else:
                        event_type = str(message.headers.get(":exception-type") or "internalServerException")
                    for chunk in translator.feed(event_type, payload):
                        yield answer.feed(chunk)
                    if event_type == "metadata":
                        finished = True
            if not finished:
                raise UpstreamError(f"{target.label} ended the stream before its metadata event; the answer is incomplete")

    async def aclose(self) -> None:
        await self._client.aclose()
