"""OpenAI wire models for the endpoints the gateway serves.

Wire models tolerate unknown fields (new OpenAI parameters must not break
clients); they are kept and forwarded as they are to OpenAI-compatible
targets. Each request converts itself to the internal form — a plain dict —
in one method, :meth:`ChatCompletionRequest.to_internal`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from deployments.providers.openai_shapes import parse_arguments
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
# The published format of tool-call arguments (tests/schemathesis_hooks.py teaches Schemathesis to make them).
JSON_OBJECT_FORMAT = "json-object"


def require(condition: bool, message: str, param: str) -> None:
    """A 400 naming ``param`` unless ``condition`` holds: the other APIs' translators check their bodies with it."""
    if not condition:
        raise BadRequestError(message, param=param)


def _integral(value: Any) -> Any:
    """JSON has one number type: 16.0 is the integer 16 (JSON Schema agrees); 16.5 stays a float and is refused."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


Count = Annotated[int, Field(ge=1, le=MAX_OUTPUT_TOKENS), BeforeValidator(_integral)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


# What every provider takes: an http(s) URL, or a base64 data URL of JPEG, PNG, GIF or WebP (Anthropic's and
# Bedrock's list; OpenAI's is the same). Checked with ``re.search`` as jsonschema checks the published pattern.
# Written for every regex engine that reads it (Python's re, Rust's, ECMA 262): no `$`, and [\s\S] for "any".
IMAGE_URL_PATTERN = r"^(https?://|data:image/(jpeg|png|gif|webp);base64,)[\s\S]"
IMAGE_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


def image_url_problem(url: str) -> str | None:
    if re.search(IMAGE_URL_PATTERN, url):
        return None
    return "an http(s) URL or a data:image/(jpeg|png|gif|webp);base64,... URL is required"


def tool_arguments_problem(arguments: str) -> str | None:
    """Tool-call arguments are a JSON object encoded as a string (blank for none): every provider's form, checked
    by the same parser the Anthropic and Bedrock translations use."""
    try:
        parse_arguments(arguments, "arguments")
    except BadRequestError as err:
        return err.message
    return None


def _refuse_problem(problem: Callable[[str], str | None]) -> AfterValidator:
    """A pydantic validator that refuses a string ``problem`` finds fault with, in ``problem``'s words."""
    def check(value: str) -> str:
        if (found := problem(value)) is not None:
            raise ValueError(found)
        return value

    return AfterValidator(check)


class ImageURL(_Wire):
    url: Annotated[str, _refuse_problem(image_url_problem)] = Field(json_schema_extra={"pattern": IMAGE_URL_PATTERN})
    detail: Literal["auto", "low", "high"] | None = None


class TextPart(_Wire):
    type: Literal["text"]
    text: str


class ImagePart(_Wire):
    type: Literal["image_url"]
    image_url: ImageURL


ContentPart = TextPart | ImagePart


class FunctionCall(_Wire):
    name: str = Field(min_length=1)
    arguments: Annotated[str, _refuse_problem(tool_arguments_problem)] = Field(
        json_schema_extra={"format": JSON_OBJECT_FORMAT})


class ToolCall(_Wire):
    id: str = Field(min_length=1)
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
        if self.role != "user" and isinstance(self.content, list) and any(isinstance(p, ImagePart) for p in self.content):
            raise ValueError("images are allowed only in user messages")
        return self


class FunctionDef(_Wire):
    name: str = Field(min_length=1, max_length=64)
    description: str | None = None
    parameters: dict[str, Any] | None = None


class ToolDef(_Wire):
    type: Literal["function"]
    function: FunctionDef


class ChosenFunction(_Wire):
    name: str = Field(min_length=1)


class NamedToolChoice(_Wire):
    type: Literal["function"]
    function: ChosenFunction


class StreamOptions(_Wire):
    include_usage: bool | None = None


class JsonSchemaFormat(_Wire):
    name: str = Field(min_length=1, max_length=64)
    schema_: dict[str, Any] = Field(alias="schema")
    description: str | None = None
    strict: bool | None = None


class ResponseFormat(_Wire):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None

    @model_validator(mode="after")
    def _schema_given(self) -> ResponseFormat:
        if self.type == "json_schema" and self.json_schema is None:
            raise ValueError("a json_schema response format needs json_schema: {name, schema}")
        return self


def _has_content(message: ChatMessage) -> bool:
    """A turn a model can answer: a tool result, a tool call, or text that is not blank (or an image)."""
    if message.role == "tool" or (message.role == "assistant" and message.tool_calls):
        return True
    if message.role not in ("user", "assistant"):
        return False
    if isinstance(message.content, str):
        return bool(message.content.strip())
    return any(isinstance(p, ImagePart) or (isinstance(p, TextPart) and p.text.strip()) for p in message.content or [])


class ChatCompletionRequest(_Wire):
    """``POST /v1/chat/completions`` body."""

    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    max_tokens: Count | None = None
    max_completion_tokens: Count | None = None
    stop: str | list[str] | None = Field(None, json_schema_extra={"anyOf": [
        {"type": "string"}, {"type": "array", "maxItems": 4, "items": {"type": "string"}}, {"type": "null"}]})
    n: Count | None = Field(None, json_schema_extra={"anyOf": [{"const": 1}, {"type": "null"}]})
    tools: list[ToolDef] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
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
        if not any(_has_content(m) for m in self.messages):
            # Instructions alone, or only blank turns, leave no model a turn to answer (Anthropic and Bedrock
            # refuse them; their translation drops blank text).
            raise ValueError("messages: at least one user, assistant or tool message with content is required")
        return self

    @property
    def include_usage(self) -> bool:
        return bool(self.stream and self.stream_options and self.stream_options.include_usage)

    def to_internal(self) -> dict[str, Any]:
        """The plain dict that crosses deployment calls (unknown fields kept)."""
        if self.model_extra:
            logger.debug("forwarding unknown request fields: %s", sorted(self.model_extra))
        return self.model_dump(exclude_none=True, by_alias=True)


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
