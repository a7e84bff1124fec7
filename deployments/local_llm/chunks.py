"""Turn what ``LLMServer.chat`` yields into the gateway's plain dicts (no Ray, no vLLM)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from tollgate_core.errors import UpstreamError, UpstreamStatusError

__all__ = ["error_from_response", "sse_to_chunks"]


def sse_to_chunks(items: Iterable[Any]) -> tuple[list[dict[str, Any]], bool]:
    """Parse ``"data: {...}\\n\\n"`` strings (possibly batched in lists) into chunk dicts.

    Returns the chunks and whether ``[DONE]`` was seen. Error payloads raise.
    """
    chunks: list[dict[str, Any]] = []
    done = False
    for item in items:
        for line in str(item).splitlines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                done = True
                continue
            payload = json.loads(data)
            if "error" in payload and "choices" not in payload:
                raise error_from_response(payload)
            chunks.append(payload)
    return chunks, done


def error_from_response(payload: dict[str, Any]) -> UpstreamError:
    """vLLM's ``ErrorResponse`` (``{"error": {"message", "type", "code"}}``) as a gateway error."""
    err = payload.get("error", payload)
    message = str(err.get("message", "local model failed")) if isinstance(err, dict) else str(err)
    code = err.get("code") if isinstance(err, dict) else None
    status = int(code) if isinstance(code, int) or (isinstance(code, str) and code.isdigit()) else 500
    return UpstreamStatusError(f"local model: {message}", upstream_status=status)
