"""Embedding requests and answers in each provider's wire format, as OpenAI's ``/v1/embeddings`` shapes.

The gateway asks every provider for float vectors and answers the client in the encoding it
asked for. OpenAI and Azure take the request nearly as is. Bedrock has no batch embedding
call for Titan: one ``InvokeModel`` per input (``{"inputText"}`` → ``{"embedding",
"inputTextTokenCount"}``); Cohere's models on Bedrock take the batch (``{"texts", "input_type"}``
→ ``{"embeddings"}``, no token count, so the gateway counts the tokens itself).
"""

from __future__ import annotations

from typing import Any

from tollgate_core.errors import BadRequestError, UpstreamError

__all__ = [
    "COHERE_BATCH",
    "bedrock_family",
    "cohere_request",
    "cohere_vectors",
    "embedding_list",
    "openai_embedding_body",
    "titan_request",
    "titan_vector",
]

_OPENAI_FIELDS = ("input", "dimensions", "user")
COHERE_BATCH = 96  # the most texts Cohere's embedding models on Bedrock take in one call


def openai_embedding_body(request: dict[str, Any], model: str | None) -> dict[str, Any]:
    """The body for OpenAI (``model`` set) or Azure (``model`` None: the deployment is in the path)."""
    body = {k: request[k] for k in _OPENAI_FIELDS if request.get(k) is not None}
    body["encoding_format"] = "float"
    if model is not None:
        body["model"] = model
    return body


def embedding_list(vectors: list[list[float]], model: str, prompt_tokens: int) -> dict[str, Any]:
    """OpenAI's ``list`` of ``embedding`` objects with float vectors."""
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
        "model": model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }


def bedrock_family(model_id: str) -> str:
    """``titan`` or ``cohere`` for a Bedrock embedding modelId (with or without a region prefix)."""
    name = model_id.split(".", 1)[-1] if model_id.split(".", 1)[0] in ("us", "eu", "apac", "global") else model_id
    if name.startswith("amazon.titan-embed"):
        return "titan"
    if name.startswith("cohere.embed"):
        return "cohere"
    raise BadRequestError(f"Bedrock model {model_id!r} is not a Titan or Cohere embedding model", param="model")


def titan_request(text: str, dimensions: int | None) -> dict[str, Any]:
    return {"inputText": text, **({"dimensions": dimensions} if dimensions else {})}


def cohere_request(texts: list[str]) -> dict[str, Any]:
    return {"texts": texts, "input_type": "search_document", "embedding_types": ["float"]}


def titan_vector(body: Any, label: str) -> tuple[list[float], int]:
    if not isinstance(body, dict) or not isinstance(body.get("embedding"), list):
        raise UpstreamError(f"{label} answered without an embedding")
    return [float(x) for x in body["embedding"]], int(body.get("inputTextTokenCount") or 0)


def cohere_vectors(body: Any, count: int, label: str) -> list[list[float]]:
    embeddings = body.get("embeddings") if isinstance(body, dict) else None
    if isinstance(embeddings, dict):  # embedding_types asked for: {"float": [...]}
        embeddings = embeddings.get("float")
    if not isinstance(embeddings, list) or len(embeddings) != count:
        raise UpstreamError(f"{label} answered with {len(embeddings or [])} embeddings for {count} inputs")
    return [[float(x) for x in v] for v in embeddings]
