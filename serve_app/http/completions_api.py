"""``POST /v1/completions``: OpenAI's legacy text completions, answered through the chat pipeline.

Every catalog model is a chat model, so the prompt goes to the target as one user message and
the answer's text comes back as the completion's ``text``: a chat model answers the prompt
rather than continuing it token by token. ``prompt`` is one string (or a list of one);
``echo``, ``suffix``, ``logprobs``, ``best_of`` and ``n`` > 1 have no chat form and are refused.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from serve_app.http.chat_call import (
    ChatCaller,
    event_stream,
    json_response,
    parse_json,
    sse_events,
    stream_error,
    sync_parse,
)
from serve_app.http.protocol import ChatCompletionRequest, chat_request_from, require
from serve_app.http.wire_schemas import checked
from serve_app.pipeline.replies import StreamReply, sse
from tollgate_core.errors import TollgateError

__all__ = ["completions_routes", "to_chat_request"]

_DEFAULT_MAX_TOKENS = 16  # OpenAI's default for this endpoint
_REFUSED = ("echo", "suffix", "logprobs")


def to_chat_request(body: Any) -> dict[str, Any]:
    require(isinstance(body, dict), "the request body must be a JSON object", "")
    require(isinstance(body.get("model"), str) and bool(body["model"]), "model: a model name is required", "model")
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    require(isinstance(prompt, str) and bool(prompt),
             "prompt: one non-empty string is required (send one request per prompt)", "prompt")
    for field in _REFUSED:
        require(body.get(field) in (None, False), f"{field}: not supported: completions are answered by chat models",
                 field)
    require(body.get("best_of") in (None, 1), "best_of: only 1 is supported", "best_of")
    chat: dict[str, Any] = {"model": body["model"], "messages": [{"role": "user", "content": prompt}],
                            "max_tokens": body.get("max_tokens") or _DEFAULT_MAX_TOKENS}
    for field in ("temperature", "top_p", "stop", "n", "user", "seed", "presence_penalty", "frequency_penalty"):
        if body.get(field) is not None:
            chat[field] = body[field]
    if body.get("stream"):
        chat["stream"] = True
        chat["stream_options"] = {"include_usage": True}
    return chat


def _client_wants_usage(body: Any) -> bool:
    options = body.get("stream_options") if isinstance(body, dict) else None
    return isinstance(options, dict) and bool(options.get("include_usage"))


class _Parsed:
    """The parser of one request, which remembers whether the client asked for a usage chunk."""

    def __init__(self) -> None:
        self.include_usage = False

    def __call__(self, raw: bytes) -> ChatCompletionRequest:
        body = checked(parse_json(raw), "COMPLETIONS")
        self.include_usage = _client_wants_usage(body)
        return chat_request_from(to_chat_request(body))


def _completion(completion_id: str, model: str, text: str, finish: Any, usage: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"id": completion_id, "object": "text_completion", "created": int(time.time()),
                            "model": model,
                            "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": finish}]}
    if usage is not None:
        body["usage"] = {k: usage[k] for k in ("prompt_tokens", "completion_tokens", "total_tokens") if k in usage}
    return body


async def _chunks(body: AsyncIterator[bytes], model: str, include_usage: bool) -> AsyncIterator[bytes]:
    completion_id = f"cmpl-{uuid.uuid4().hex}"
    async with aclosing(sse_events(body)) as payloads:  # closing them ends the relay now
        async for payload in payloads:
            if payload is None:
                yield b"data: [DONE]\n\n"
                return
            if stream_error(payload) is not None:
                yield sse(payload)
                return
            for choice in payload.get("choices") or []:
                text = (choice.get("delta") or {}).get("content") or ""
                if text or choice.get("finish_reason"):
                    yield sse(_completion(completion_id, model, text, choice.get("finish_reason")))
            if payload.get("usage") and include_usage:
                chunk = _completion(completion_id, model, "", None, payload["usage"])
                chunk["choices"] = []
                yield sse(chunk)


def completions_routes(call: ChatCaller, request_id_of: Callable[[Request], str | None],
                       with_id: Callable[[str | None, dict[str, str]], dict[str, str]],
                       error_response: Callable[[TollgateError, str | None], Response]) -> list[Route]:
    async def completions(request: Request) -> Response:
        request_id = request_id_of(request)
        parsed = _Parsed()
        try:
            chat, reply = await call(request, request_id, sync_parse(parsed), endpoint="/v1/completions")
        except TollgateError as err:
            return error_response(err, request_id)
        if isinstance(reply, StreamReply):
            return event_stream(reply.release, _chunks(reply.body, chat.model, parsed.include_usage),
                                with_id(request_id, reply.headers))
        message = reply.body["choices"][0]["message"]
        body = _completion(f"cmpl-{uuid.uuid4().hex}", chat.model, message.get("content") or "",
                           reply.body["choices"][0].get("finish_reason"), reply.body.get("usage") or {})
        return json_response(body, headers=with_id(request_id, reply.headers))

    return [Route("/v1/completions", completions, methods=["POST"])]
