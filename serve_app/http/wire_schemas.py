"""JSON Schemas of the request bodies that the Messages, Responses, completions and embeddings translators read.

Each body is checked against its schema (JSON Schema 2020-12: jsonschema-rs decides, Python's jsonschema explains
what is wrong with a refused body) before its translator runs, and the same
schemas are published in the OpenAPI document (serve_app/http/openapi.py): what the document promises is what
the gateway enforces, so a wrong type gets a 400 naming the field instead of being coerced or ignored. The
translators keep the checks a schema cannot state (a tool result's id must name an earlier tool call, ...).
Unknown fields are allowed, as the providers' own APIs allow new ones; null stands for an absent option.
"""

from __future__ import annotations

import functools
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from serve_app.http.protocol import (
    IMAGE_MEDIA_TYPES,
    IMAGE_URL_PATTERN,
    JSON_OBJECT_FORMAT,
    MAX_OUTPUT_TOKENS,
    tool_arguments_problem,
)
from tollgate_core.errors import BadRequestError

__all__ = ["COMPLETIONS", "EMBEDDINGS", "MESSAGES", "MESSAGES_COUNT_TOKENS", "RESPONSES", "checked"]

NON_EMPTY = {"type": "string", "minLength": 1}
# A character that is not whitespace as Python's str.strip() sees it (the providers' translation drops blank text),
# spelled out: JSON Schema's \s (ECMA 262) and Python's differ on \x1c-\x1f and \x85.
NOT_BLANK = {"type": "string", "pattern": "[^\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029"
                                          "\\u202f\\u205f\\u3000]"}
TOKENS = {"type": "integer", "minimum": 1, "maximum": MAX_OUTPUT_TOKENS}
_STRING = {"type": "string"}
_TOOL_NAME = {"type": "string", "minLength": 1, "maxLength": 64}
_PROBABILITY = {"type": "number", "minimum": 0, "maximum": 1}
_TEMPERATURE = {"type": "number", "minimum": 0, "maximum": 2}
_BOOLEAN = {"type": "boolean"}
_OBJECT = {"type": "object"}


def _block(kind: str | list[str], required: tuple[str, ...] = (), **properties: Any) -> dict[str, Any]:
    kinds = {"const": kind} if isinstance(kind, str) else {"enum": kind}
    return {"type": "object", "required": ["type", *required], "properties": {"type": kinds, **properties}}


def _options(required: list[str], **properties: Any) -> dict[str, Any]:
    """An object schema whose optional properties also accept null."""
    return {"type": "object", "required": required, "properties": {
        name: prop if name in required else {"anyOf": [prop, {"type": "null"}]} for name, prop in properties.items()}}


def _with_content(*parts: dict[str, Any]) -> dict[str, Any]:
    """Content that leaves a model something to answer: text that is not blank, or a list containing a part
    of these kinds."""
    return {"anyOf": [NOT_BLANK, {"type": "array", "contains": {"anyOf": list(parts)}}]}


def _one_or_more(item: dict[str, Any], **limits: int) -> dict[str, Any]:
    return {"anyOf": [item, {"type": "array", "minItems": 1, "items": item, **limits}]}


# --- Anthropic Messages ---------------------------------------------------------------------------------------

_CACHE_CONTROL = {"type": "object", "required": ["type"], "properties": {"type": {"const": "ephemeral"}}}
_TEXT = _block("text", ("text",), text=_STRING, cache_control=_CACHE_CONTROL)
_TEXTS = {"anyOf": [_STRING, {"type": "array", "items": _TEXT}]}
_IMAGE_SOURCE = {"anyOf": [
    {"type": "object", "required": ["type", "media_type", "data"],
     "properties": {"type": {"const": "base64"}, "media_type": {"enum": list(IMAGE_MEDIA_TYPES)}, "data": NON_EMPTY}},
    {"type": "object", "required": ["type", "url"],
     "properties": {"type": {"const": "url"}, "url": {"type": "string", "pattern": r"^https?://[\s\S]"}}},
]}
_THINKING = _block(["thinking", "redacted_thinking"])
_USER_BLOCK = {"anyOf": [
    _TEXT,
    _block("image", ("source",), source=_IMAGE_SOURCE),
    _block("tool_result", ("tool_use_id",), tool_use_id=NON_EMPTY, content=_TEXTS, is_error=_BOOLEAN),
]}
_ASSISTANT_BLOCK = {"anyOf": [
    _TEXT,
    _block("tool_use", ("id", "name"), id=NON_EMPTY, name=NON_EMPTY, input=_OBJECT),
    _THINKING,
]}
_TURN = {"anyOf": [
    {"type": "object", "required": ["role", "content"],
     "properties": {"role": {"const": "user"},
                    "content": {"anyOf": [_STRING, {"type": "array", "minItems": 1, "items": _USER_BLOCK}]}}},
    {"type": "object", "required": ["role", "content"], "properties": {
        "role": {"const": "assistant"}, "content": {"anyOf": [_STRING, {"type": "array", "items": _ASSISTANT_BLOCK}]}}},
    {"type": "object", "required": ["role", "content"], "properties": {"role": {"const": "system"}, "content": _TEXTS}},
]}
_ANTHROPIC_TOOL = {"type": "object", "required": ["name"], "properties": {
    "name": _TOOL_NAME, "type": {"const": "custom"}, "description": _STRING, "input_schema": _OBJECT,
    "cache_control": _CACHE_CONTROL}}
_ANTHROPIC_TOOL_CHOICE = {"anyOf": [
    {"type": "object", "required": ["type"], "properties": {"type": {"enum": ["auto", "any", "none"]},
                                                            "disable_parallel_tool_use": _BOOLEAN}},
    {"type": "object", "required": ["type", "name"], "properties": {"type": {"const": "tool"}, "name": NON_EMPTY,
                                                                    "disable_parallel_tool_use": _BOOLEAN}},
]}
_MESSAGES_FIELDS = {
    "model": NON_EMPTY,
    "max_tokens": TOKENS,
    # A turn to answer: instructions alone, or blank turns only, are refused.
    "messages": {"type": "array", "items": _TURN, "contains": {"anyOf": [
        {"type": "object", "required": ["role", "content"], "properties": {"role": {"const": "user"}, "content":
            _with_content(_block("text", ("text",), text=NOT_BLANK), _block("image"), _block("tool_result"))}},
        {"type": "object", "required": ["role", "content"], "properties": {"role": {"const": "assistant"}, "content":
            _with_content(_block("text", ("text",), text=NOT_BLANK), _block("tool_use"))}},
    ]}},
    "system": _TEXTS,
    "temperature": _PROBABILITY,
    "top_p": _PROBABILITY,
    "stop_sequences": {"type": "array", "maxItems": 4, "items": _STRING},
    "stream": _BOOLEAN,
    "tools": {"type": "array", "items": _ANTHROPIC_TOOL},
    "tool_choice": _ANTHROPIC_TOOL_CHOICE,
    "metadata": {"type": "object", "properties": {"user_id": {"type": ["string", "null"]}}},
}
MESSAGES = _options(["model", "max_tokens", "messages"], **_MESSAGES_FIELDS)
MESSAGES_COUNT_TOKENS = _options(["model", "messages"], **_MESSAGES_FIELDS)

# --- OpenAI Responses -----------------------------------------------------------------------------------------

_TEXT_PART = {"anyOf": [
    _block(["input_text", "output_text", "text"], ("text",), text=_STRING),
    _block("refusal", refusal=_STRING),
]}
_IMAGE_PART = _block("input_image", ("image_url",), image_url={"type": "string", "pattern": IMAGE_URL_PATTERN},
                     detail={"enum": ["low", "high", "auto"]})


def _message_item(roles: list[str], part: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["role", "content"], "properties": {
        "type": {"const": "message"}, "role": {"enum": roles},
        "content": {"anyOf": [_STRING, {"type": "array", "items": part}]}}}


_ITEM = {"anyOf": [
    _message_item(["user"], {"anyOf": [*_TEXT_PART["anyOf"], _IMAGE_PART]}),  # images only in user messages
    _message_item(["assistant", "system", "developer"], _TEXT_PART),
    _block("function_call", ("call_id", "name", "arguments"), call_id=NON_EMPTY, name=NON_EMPTY,
           arguments={"type": "string", "format": JSON_OBJECT_FORMAT}),
    _block("function_call_output", ("call_id",), call_id=NON_EMPTY),
    _block("reasoning"),
]}
_RESPONSES_TOOL = {"anyOf": [
    _block("function", ("name",), name=_TOOL_NAME, description=_STRING, parameters=_OBJECT, strict=_BOOLEAN),
    # Built-in tools (web_search, ...) are accepted and left out: a chat target cannot run them.
    {"type": "object", "required": ["type"], "properties": {"type": {"type": "string", "not": {"const": "function"}}}},
]}
_FORMAT = {"anyOf": [
    _block(["text", "json_object"]),
    _block("json_schema", ("name", "schema"), name=_TOOL_NAME, schema=_OBJECT, strict=_BOOLEAN, description=_STRING),
]}
RESPONSES = _options(
    ["model", "input"],
    model=NON_EMPTY,
    # At least one item to answer: reasoning items are left out, and instructions or blank turns alone are no
    # conversation.
    input={"anyOf": [NOT_BLANK, {"type": "array", "items": _ITEM, "contains": {"anyOf": [
        _block("function_call"), _block("function_call_output"),
        {"type": "object", "required": ["role", "content"], "properties": {
            "type": {"const": "message"}, "role": {"enum": ["user", "assistant"]},
            "content": _with_content(*(_block(k, ("text",), text=NOT_BLANK) for k in ("input_text", "output_text", "text")),
                                     _block("refusal", ("refusal",), refusal=NOT_BLANK), _block("input_image"))}},
    ]}}]},
    instructions=_STRING,
    max_output_tokens=TOKENS,
    temperature=_TEMPERATURE,
    top_p=_PROBABILITY,
    stream=_BOOLEAN,
    store=_BOOLEAN,
    previous_response_id=_STRING,
    user=_STRING,
    parallel_tool_calls=_BOOLEAN,
    tools={"type": "array", "items": _RESPONSES_TOOL},
    tool_choice={"anyOf": [{"enum": ["auto", "none", "required"]},
                           _block("function", ("name",), name=NON_EMPTY)]},
    text={"type": "object", "properties": {"format": _FORMAT}},
)

# --- OpenAI completions and embeddings ------------------------------------------------------------------------

COMPLETIONS = _options(
    ["model", "prompt"],
    model=NON_EMPTY,
    prompt=_one_or_more(NOT_BLANK, maxItems=1),
    max_tokens=TOKENS,
    temperature=_TEMPERATURE,
    top_p=_PROBABILITY,
    stop={"anyOf": [_STRING, {"type": "array", "maxItems": 4, "items": _STRING}]},
    stream=_BOOLEAN,
    echo={"const": False},
    suffix={"type": "null"},
    logprobs={"type": "null"},
    best_of={"const": 1},
    n={"const": 1},
    seed={"type": "integer"},
    presence_penalty={"type": "number", "minimum": -2, "maximum": 2},
    frequency_penalty={"type": "number", "minimum": -2, "maximum": 2},
    user=_STRING,
)

EMBEDDINGS = _options(
    ["model", "input"],
    model=NON_EMPTY,
    input=_one_or_more(NON_EMPTY, maxItems=2048),
    encoding_format={"enum": ["float", "base64"]},
    dimensions={"type": "integer", "minimum": 1},
    user=_STRING,
)


def _json_object(value: object) -> bool:
    return not isinstance(value, str) or tool_arguments_problem(value) is None


_FORMATS = FormatChecker()
_FORMATS.checks(JSON_OBJECT_FORMAT)(_json_object)


@functools.cache
def _fast(name: str) -> jsonschema_rs.Draft202012Validator:
    """Rust's validator: whether a body is valid (Claude Code's 140 KB bodies in 0.05 ms; Python's takes 27 ms)."""
    return jsonschema_rs.Draft202012Validator(globals()[name], formats={JSON_OBJECT_FORMAT: _json_object},
                                              validate_formats=True)


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    """Python's validator: what is wrong with an invalid body (its errors carry each anyOf branch's complaint)."""
    return Draft202012Validator(globals()[name], format_checker=_FORMATS)


def _param(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


_DISCRIMINATORS = ("type", "role")


def _on_discriminator(error: ValidationError) -> bool:
    return error.validator in ("const", "enum") and list(error.relative_path)[:1] in (["type"], ["role"]) \
        and len(error.relative_path) == 1


def _allowed(error: ValidationError) -> list[Any]:
    return [error.validator_value] if error.validator == "const" else list(error.validator_value)


def _specific(error: ValidationError) -> tuple[list[Any], str]:
    """The path and message of the most specific complaint: an ``anyOf`` of block or message kinds is resolved
    by its ``type`` (or ``role``) field, as the providers' own errors name it."""
    while error.validator == "anyOf" and error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        chosen = [errors for errors in branches.values() if not any(_on_discriminator(e) for e in errors)]
        if len(chosen) == 1:
            error = best_match(chosen[0])
            continue
        missing = [k for k in _DISCRIMINATORS if isinstance(error.instance, dict) and k not in error.instance
                   and all(any(e.validator == "required" and k in e.validator_value for e in errors)
                           for errors in branches.values())]
        if missing:
            return [*error.absolute_path, missing[0]], "this field is required"
        if not chosen and isinstance(error.instance, dict):
            key = next((k for k in _DISCRIMINATORS if any(_on_discriminator(e) and e.relative_path[0] == k
                                                           for e in error.context)), None)
            if key is not None:
                allowed = sorted({str(v) for e in error.context if _on_discriminator(e) and e.relative_path[0] == key
                                  for v in _allowed(e)})
                return [*error.absolute_path, key], f"{error.instance.get(key)!r} is not one of {', '.join(allowed)}"
        break
    path = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = next(f for f in error.validator_value if f not in error.instance)
        return [*path, missing], "this field is required"
    return path, error.message if len(error.message) <= 200 else error.message[:200] + "..."


def checked(body: Any, schema: str) -> dict[str, Any]:
    """``body`` if it is valid under the schema named ``schema`` (``"MESSAGES"``, ...); a 400 naming the field
    otherwise."""
    if not isinstance(body, dict):
        raise BadRequestError("the request body must be a JSON object")
    if _fast(schema).is_valid(body):
        return body
    errors = list(_validator(schema).iter_errors(body))
    if not errors:  # the engines differ on this body; Rust's word stands, with its own complaint
        first = next(iter(_fast(schema).iter_errors(body)))
        param = _param(first.instance_path)
        raise BadRequestError(f"{param or 'body'}: {first.message}", param=param or None)
    # A malformed turn says more than "no turn to answer": a `contains` complaint only when nothing else is wrong.
    error = best_match([e for e in errors if e.validator != "contains"] or errors)
    if error.validator == "contains":
        raise BadRequestError(f"{_param(error.absolute_path)}: at least one turn with content to answer is required "
                              "(not only instructions or blank text)", param=_param(error.absolute_path) or None)
    path, message = _specific(error)
    param = _param(path)
    raise BadRequestError(f"{param or 'body'}: {message}", param=param or None)
