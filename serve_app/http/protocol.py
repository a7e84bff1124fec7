"""OpenAI wire models for the endpoints the gateway serves.

Wire models tolerate unknown fields (new OpenAI parameters must not break
clients); they are kept and forwarded as they are to OpenAI-compatible
targets. Each request converts itself to the internal form — a plain dict —
in one method, :meth:`ChatCompletionRequest.to_internal`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tollgate_core.errors import BadRequestError

__all__ = [
    "ChatCompletionRequest",
    "ChatMessage",
    "chat_request_from",
    "parse_chat_request",
    "require",
]

logger = logging.getLogger("tollgate.protocol")


# No model writes more than this in one answer (today's largest output limits are 128K); a larger request is a
# mistake, refused rather than forwarded (and reserved against budgets at its worst case).
MAX_OUTPUT_TOKENS = 1_000_000


def require(condition: bool, message: str, param: str) -> None:
    """A 400 naming ``param`` unless ``condition`` holds: the other APIs' translators check their bodies with it."""
    if not condition:
        raise BadRequestError(message, param=param)


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow")


class ImageURL(_Wire):
    url: str = Field(min_length=1)
    detail: Literal["auto", "low", "high"] | None = None


class TextPart(_Wire):
    type: Literal["text"]
    text: str


class ImagePart(_Wire):
    type: Literal["image_url"]
    image_url: ImageURL


ContentPart = TextPart | ImagePart


class FunctionCall(_Wire):
    name: str
    arguments: str


class ToolCall(_Wire):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class ChatMessage(_Wire):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None

    @model_validator(mode="after")
    def _check_role_fields(self) -> ChatMessage:
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("a tool message needs tool_call_id")
        if self.role != "assistant" and self.content is None:
            raise ValueError(f"a {self.role} message needs content")
        if self.role == "assistant" and self.content is None and not self.tool_calls:
            raise ValueError("an assistant message needs content or tool_calls")
        return self


class FunctionDef(_Wire):
    name: str = Field(min_length=1, max_length=64)
    description: str | None = None
    parameters: dict[str, Any] | None = None


class ToolDef(_Wire):
    type: Literal["function"]
    function: FunctionDef


class StreamOptions(_Wire):
    include_usage: bool | None = None


class ResponseFormat(_Wire):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: dict[str, Any] | None = None


class ChatCompletionRequest(_Wire):
    """``POST /v1/chat/completions`` body."""

    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    max_tokens: int | None = Field(None, ge=1, le=MAX_OUTPUT_TOKENS)
    max_completion_tokens: int | None = Field(None, ge=1, le=MAX_OUTPUT_TOKENS)
    stop: str | list[str] | None = None
    n: int | None = None
    tools: list[ToolDef] | None = None
    tool_choice: Literal["none", "auto", "required"] | dict[str, Any] | None = None
    response_format: ResponseFormat | None = None
    user: str | None = None

    @field_validator("n")
    @classmethod
    def _only_one_choice(cls, n: int | None) -> int | None:
        if n is not None and n != 1:
            raise ValueError("only n=1 is supported; send separate requests for more choices")
        return n

    @field_validator("stop")
    @classmethod
    def _stop_limit(cls, stop: str | list[str] | None) -> str | list[str] | None:
        if isinstance(stop, list) and len(stop) > 4:
            raise ValueError("at most 4 stop sequences are allowed")
        return stop

    @model_validator(mode="after")
    def _check_options(self) -> ChatCompletionRequest:
        if self.stream_options is not None and not self.stream:
            raise ValueError("stream_options is only allowed when stream is true")
        return self

    @property
    def include_usage(self) -> bool:
        return bool(self.stream and self.stream_options and self.stream_options.include_usage)

    def to_internal(self) -> dict[str, Any]:
        """The plain dict that crosses deployment calls (unknown fields kept)."""
        if self.model_extra:
            logger.debug("forwarding unknown request fields: %s", sorted(self.model_extra))
        return self.model_dump(exclude_none=True)


_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "dict", "list", "none"})


def _is_union_tag(part: int | str) -> bool:
    """Pydantic's names for union members in an error path (``str``, ``TextPart``, ``list[...]``)."""
    return isinstance(part, str) and (part in _TYPE_TAGS or part[:1].isupper() or "[" in part)


def _param_path(loc: tuple[int | str, ...]) -> str:
    """``("messages", 0, "content")`` → ``messages[0].content``, without union member tags."""
    out = ""
    for part in loc:
        if _is_union_tag(part):
            continue
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def parse_chat_request(body: bytes) -> ChatCompletionRequest:
    """Parse and validate a request body; raise :class:`BadRequestError` naming the field."""
    return _validated(ChatCompletionRequest.model_validate_json, body)


def chat_request_from(data: dict[str, Any]) -> ChatCompletionRequest:
    """Validate a chat request another API's translator built (no second round through JSON)."""
    return _validated(ChatCompletionRequest.model_validate, data)


def _validated(validate: Callable[[Any], ChatCompletionRequest], raw: Any) -> ChatCompletionRequest:
    try:
        return validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        err = errors[0]
        if err["type"] == "json_invalid":
            raise BadRequestError(
                f"the request body is not valid JSON ({err['msg']}); send a JSON object", param=None
            ) from None
        if err["type"] == "model_type" and not err["loc"]:
            raise BadRequestError("the request body must be a JSON object", param=None) from None
        # A union reports one error per member; the deepest path is the most specific complaint.
        err = max(errors, key=lambda e: len(_param_path(e["loc"])))
        param = _param_path(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        raise BadRequestError(f"invalid value for '{param}': {msg}", param=param or None) from None
