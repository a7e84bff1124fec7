"""The fake providers' embedding endpoints, in each provider's wire format.

==============================================================  ==================================
``POST /v1/embeddings``                                         OpenAI (``Authorization: Bearer``)
``POST /openai/deployments/{deployment}/embeddings``            Azure OpenAI (``api-key``,
                                                                ``?api-version=``)
``POST /model/{modelId}/invoke``                                Bedrock InvokeModel (SigV4): Titan
                                                                (``inputText``) and Cohere (``texts``)
==============================================================  ==================================

A vector is a deterministic function of the text (unit length, ``dimensions`` long, 16 by
default), so tests can check which text was embedded; token counts are word counts. Faults
apply as on the chat endpoints.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fake_providers import wire
from fake_providers.reply import count_words

if TYPE_CHECKING:
    from fake_providers.server import _Providers

__all__ = ["FakeEmbeddings", "fake_vector"]

DEFAULT_DIMENSIONS = 16


OPENAI_MAX_DIMENSIONS = 3072  # text-embedding-3-large; larger values get OpenAI's 400
TITAN_DIMENSIONS = (DEFAULT_DIMENSIONS, 256, 512, 1024)  # Titan v2's sizes (the fake's default besides)


def fake_vector(text: str, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    """A unit vector derived from the text's SHA-256 (the same text, the same vector)."""
    raw = [b - 127.5 for b in hashlib.sha256(text.encode()).digest() * (dimensions // 32 + 1)][:dimensions]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [round(x / norm, 6) for x in raw]


def _texts(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _openai_list(texts: list[str], model: str, dimensions: int, encoding: Any) -> dict[str, Any]:
    data = []
    for i, text in enumerate(texts):
        vector: Any = fake_vector(text, dimensions)
        if encoding == "base64":
            vector = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": i, "embedding": vector})
    tokens = sum(count_words(t) for t in texts)
    return {"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


class FakeEmbeddings:
    """Embedding routes sharing the chat routes' state, auth checks and faults."""

    def __init__(self, providers: _Providers) -> None:
        self._p = providers

    def _openai_body(self, body: Any, model: str) -> Response:
        texts = _texts(body.get("input"))
        if texts is None:
            return _error(wire.openai_error(400, "'$.input' is invalid. Please check the API reference.",
                                            "invalid_request_error", param="input"))
        dimensions = body.get("dimensions") or DEFAULT_DIMENSIONS
        if isinstance(dimensions, float) and dimensions.is_integer():  # JSON has one number type
            dimensions = int(dimensions)
        if not isinstance(dimensions, int) or not 1 <= dimensions <= OPENAI_MAX_DIMENSIONS:
            return _error(wire.openai_error(400, f"Invalid 'dimensions': the model supports 1 to "
                                            f"{OPENAI_MAX_DIMENSIONS}.", "invalid_request_error", param="dimensions"))
        return JSONResponse(_openai_list(texts, model, dimensions, body.get("encoding_format")),
                            headers={"x-ratelimit-remaining-requests": "999"})

    async def openai(self, request: Request) -> Response:
        from fake_providers.server import _has_bearer

        _, body = await self._p._open(request)
        if not _has_bearer(request):
            return _error(self._p._openai_no_key())
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            return _error(wire.openai_error(400, "you must provide a model parameter", "invalid_request_error",
                                            param="model"))
        fault = self._p.state.take_fault(request.url.path, body["model"])
        if (early := await self._p._early_fault(request, fault, "openai")) is not None:
            return early
        return self._openai_body(body, body["model"])

    async def azure(self, request: Request) -> Response:
        deployment = request.path_params["deployment"]
        _, body = await self._p._open(request)
        if not request.headers.get("api-key"):
            return _error(wire.azure_error(401, "401", "Access denied due to invalid subscription key."))
        if not request.query_params.get("api-version"):
            return _error(wire.azure_error(400, "MissingApiVersionParameter",
                                           "The api-version query parameter (?api-version=) is required."))
        if not isinstance(body, dict):
            return _error(wire.azure_error(400, "BadRequest", "The request body is not valid JSON."))
        fault = self._p.state.take_fault(request.url.path, deployment)
        if (early := await self._p._early_fault(request, fault, "azure")) is not None:
            return early
        return self._openai_body(body, deployment)

    async def bedrock_invoke(self, request: Request) -> Response:
        from fake_providers.server import _sigv4_problem

        model_id = request.path_params["model_id"]
        raw, body = await self._p._open(request)
        auth = request.headers.get("authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 Credential=") or not request.headers.get("x-amz-date"):
            return _error(wire.bedrock_error(403, "UnrecognizedClientException",
                                             "Missing or malformed SigV4 Authorization and x-amz-date headers."))
        if self._p.credentials is not None and (problem := _sigv4_problem(request, raw, self._p.credentials)):
            return _error(wire.bedrock_error(403, *problem))
        if not isinstance(body, dict):
            return _error(wire.bedrock_error(400, "SerializationException", "The request body is not valid JSON."))
        fault = self._p.state.take_fault(request.url.path, model_id)
        if (early := await self._p._early_fault(request, fault, "bedrock")) is not None:
            return early
        headers = {"x-amzn-RequestId": self._p.state.next_id()}
        if "titan-embed" in model_id:
            text = body.get("inputText")
            if not isinstance(text, str) or not text:
                return _error(wire.bedrock_error(400, "ValidationException", "inputText: a non-empty string"))
            dimensions = body.get("dimensions") or DEFAULT_DIMENSIONS
            if dimensions not in TITAN_DIMENSIONS:
                return _error(wire.bedrock_error(400, "ValidationException", "dimensions: 256, 512 or 1024"))
            vector = fake_vector(text, dimensions)
            return JSONResponse({"embedding": vector, "inputTextTokenCount": count_words(text)}, headers=headers)
        if "cohere.embed" in model_id:
            texts = _texts(body.get("texts"))
            if texts is None or not body.get("input_type"):
                return _error(wire.bedrock_error(400, "ValidationException", "texts and input_type are required"))
            vectors = [fake_vector(t) for t in texts]
            embeddings: Any = {"float": vectors} if body.get("embedding_types") else vectors
            return JSONResponse({"id": headers["x-amzn-RequestId"], "texts": texts, "embeddings": embeddings,
                                 "response_type": "embeddings_by_type" if body.get("embedding_types")
                                 else "embeddings_floats"}, headers=headers)
        return _error(wire.bedrock_error(400, "ValidationException",
                                         f"The fake serves InvokeModel only for embedding models, not {model_id}"))


def _error(err: wire.ErrorReply) -> JSONResponse:
    return JSONResponse(err.body, status_code=err.status, headers=err.headers)
