"""The gateway's OpenAPI 3.1 document, served at ``GET /openapi.json``.

The chat request schema is pydantic's own (the model that validates the body); the other APIs' request schemas
are the ones their bodies are checked against (serve_app/http/wire_schemas.py). Every error response is
documented in its API's shape: OpenAI's ``{"error": {...}}`` and, on ``/v1/messages``, Anthropic's
``{"type": "error", "error": {...}}``. ``tests/unit/test_openapi.py`` fuzzes the gateway with Schemathesis
against this document, so a schema that drifts from the code fails there.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from pydantic import BaseModel

from serve_app.http.protocol import ChatCompletionRequest
from serve_app.http.wire_schemas import (
    COMPLETIONS,
    EMBEDDINGS,
    MESSAGES,
    MESSAGES_COUNT_TOKENS,
    NON_EMPTY,
    NOT_BLANK,
    RESPONSES,
)
from tollgate_core.entities import EntityUpdate, KeyCreate, OrgCreate, TeamCreate

__all__ = ["openapi_document"]

_REF = "#/components/schemas/{model}"
_KEYED = [{"bearer": []}, {"apiKeyHeader": []}]
_ANTHROPIC_KEYED = [{"anthropicKey": []}, {"bearer": []}]

_OPENAI_ERROR = {
    "type": "object", "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["message", "type"],
        "properties": {"message": {"type": "string"}, "type": {"type": "string"},
                       "param": {"type": ["string", "null"]}, "code": {"type": ["string", "null"]}},
    }},
}
_ANTHROPIC_ERROR = {
    "type": "object", "required": ["type", "error"],
    "properties": {"type": {"const": "error"}, "error": {
        "type": "object", "required": ["type", "message"],
        "properties": {"type": {"type": "string"}, "message": {"type": "string"}},
    }},
}

_COMPLETION = {"type": "object", "required": ["id", "object"], "properties": {"id": {"type": "string"},
                                                                             "object": {"type": "string"}}}
# Schemathesis reads a text/event-stream schema as the schema of each event.
_SSE = {"text/event-stream": {"schema": {"type": "object", "required": ["data"],
                                         "properties": {"data": {"type": "string"}, "event": {"type": "string"}}}}}

def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _errors(shape: str, *statuses: int) -> dict[str, Any]:
    """The error responses an operation documents; every error body is in ``shape``."""
    ref = {"$ref": _REF.format(model=shape)}
    out: dict[str, Any] = {str(s): {"description": "error", "content": _json(ref)} for s in statuses}
    out["default"] = {"description": "any other error, in the same shape", "content": _json(ref)}
    return out


_OPENAI_CALL_ERRORS = (400, 401, 403, 404, 413, 429, 502, 503, 504)


def _call(summary: str, body: dict[str, Any], answer: dict[str, Any], *, streams: bool,
          error_shape: str = "Error", security: list[dict[str, Any]] = _KEYED) -> dict[str, Any]:
    content = {**_json(answer), **(_SSE if streams else {})}
    return {"post": {
        "summary": summary,
        "security": security,
        "requestBody": {"required": True, "content": _json(body)},
        "responses": {"200": {"description": "the answer", "content": content},
                      **_errors(error_shape, *_OPENAI_CALL_ERRORS)},
    }}


def _read(summary: str, answer: dict[str, Any], *, security: list[dict[str, Any]] = _KEYED,
          method: str = "get", statuses: tuple[int, ...] = (401, 403)) -> dict[str, Any]:
    return {method: {"summary": summary, "security": security, "responses": {
        "200": {"description": "OK", "content": _json(answer)}, **_errors("Error", *statuses)}}}


def _chat_request_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """Pydantic's schema of the chat body, and the definitions it refers to, with a message's fields per role
    (what ``ChatMessage``'s validator checks and pydantic cannot express)."""
    schema = ChatCompletionRequest.model_json_schema(ref_template=_REF)
    definitions = schema.pop("$defs", {})
    message = definitions["ChatMessage"]
    props = message["properties"]
    content = {"anyOf": [part for part in props["content"]["anyOf"] if part != {"type": "null"}]}
    text_only = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"$ref": _REF.format(model="TextPart")}}]}

    def role(roles: list[str], required: list[str], **fields: Any) -> dict[str, Any]:
        return {"type": "object", "required": ["role", *required],
                "properties": {**props, "role": {"enum": roles}, **fields}}

    # At least one turn that is not an instruction, and stream_options only with stream: true (the model
    # validator's rules).
    text = {"anyOf": [NOT_BLANK, {"type": "array", "contains": {"anyOf": [
        {"type": "object", "required": ["type", "text"], "properties": {"type": {"const": "text"}, "text": NOT_BLANK}},
        {"type": "object", "required": ["type"], "properties": {"type": {"const": "image_url"}}}]}}]}
    schema["properties"]["messages"]["contains"] = {"anyOf": [
        {"type": "object", "required": ["role"], "properties": {"role": {"const": "tool"}}},
        {"type": "object", "required": ["role", "tool_calls"],
         "properties": {"role": {"const": "assistant"}, "tool_calls": {"type": "array", "minItems": 1}}},
        {"type": "object", "required": ["role", "content"],
         "properties": {"role": {"enum": ["user", "assistant"]}, "content": text}},
    ]}
    formats = definitions["ResponseFormat"]
    formats["if"] = {"properties": {"type": {"const": "json_schema"}}}
    formats["then"] = {"required": ["json_schema"], "properties": {"json_schema": {"$ref": _REF.format(
        model="JsonSchemaFormat")}}}
    schema["if"] = {"required": ["stream_options"], "properties": {"stream_options": {"type": "object"}}}
    schema["then"] = {"required": ["stream"], "properties": {"stream": {"const": True}}}
    definitions["ChatMessage"] = {"title": "ChatMessage", "anyOf": [
        role(["user"], ["content"], content=content),
        role(["system", "developer"], ["content"], content=text_only),
        role(["assistant"], ["content"], content=text_only),
        role(["assistant"], ["tool_calls"], content={"anyOf": [text_only, {"type": "null"}]},
             tool_calls={"type": "array", "minItems": 1, "items": {"$ref": _REF.format(model="ToolCall")}}),
        role(["tool"], ["content", "tool_call_id"], content=text_only, tool_call_id=NON_EMPTY),
    ]}
    return schema, definitions


@functools.cache
def _document() -> dict[str, Any]:
    chat, definitions = _chat_request_schema()
    response_id = {"name": "response_id", "in": "path", "required": True, "schema": {"type": "string"}}
    paths: dict[str, Any] = {
        "/v1/chat/completions": _call("Chat completion (OpenAI), streamed with stream: true", chat, _COMPLETION,
                                      streams=True),
        "/v1/completions": _call("Legacy text completion, answered by a chat model", COMPLETIONS,
                                 _COMPLETION, streams=True),
        "/v1/embeddings": _call("Embeddings (OpenAI)", EMBEDDINGS,
                                {"type": "object", "required": ["data"]}, streams=False),
        "/v1/messages": _call("Messages (Anthropic), streamed with stream: true", MESSAGES,
                              {"type": "object", "required": ["id", "type", "content"]}, streams=True,
                              error_shape="AnthropicError", security=_ANTHROPIC_KEYED),
        "/v1/messages/count_tokens": _call("Count a Messages request's input tokens", MESSAGES_COUNT_TOKENS,
                                           {"type": "object", "required": ["input_tokens"]}, streams=False,
                                           error_shape="AnthropicError", security=_ANTHROPIC_KEYED),
        "/v1/responses": _call("Responses (OpenAI), streamed with stream: true", RESPONSES,
                               {"type": "object", "required": ["id", "object", "output"]}, streams=True),
        "/v1/responses/{response_id}": {
            "parameters": [response_id],
            **_read("A stored response", {"type": "object", "required": ["id", "object"]},
                    statuses=(401, 403, 404)),
            **_read("Delete a stored response", {"type": "object", "required": ["id", "deleted"]},
                    method="delete", statuses=(401, 403, 404)),
        },
        "/v1/models": _read("The models this key may use", {"type": "object", "required": ["object", "data"]}),
        "/healthz": _read("The ingress is up", {"type": "object"}, security=[], statuses=()),
        "/readyz": {"get": {"summary": "Every backend deployment answers", "security": [], "responses": {
            "200": {"description": "ready", "content": _json({"type": "object", "required": ["ready"]})},
            "503": {"description": "not ready", "content": _json({"type": "object", "required": ["ready"]})},
        }}},
        **_admin_paths(definitions),
        "/admin/routing": _read("Routing state of every target (master key)",
                                {"type": "object", "required": ["targets"]}),
        "/admin/cache": _read("Response cache statistics (master key)", {"type": "object"}),
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Tollgate", "version": "1",
                 "description": "An OpenAI- and Anthropic-compatible LLM gateway. Errors are in the shape of the "
                                "API they answer; 503 with Retry-After when a replica is overloaded."},
        "paths": paths,
        "components": {
            "schemas": {**definitions, "Error": _OPENAI_ERROR, "AnthropicError": _ANTHROPIC_ERROR},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "The master key or a virtual key (tg-...)"},
                "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "api-key"},
                "anthropicKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
            },
        },
    }


def _pydantic(model: type[BaseModel], definitions: dict[str, Any]) -> dict[str, Any]:
    """``model``'s schema, its definitions added to ``definitions``."""
    schema = model.model_json_schema(ref_template=_REF)
    definitions.update(schema.pop("$defs", {}))
    return schema


def _admin_paths(definitions: dict[str, Any]) -> dict[str, Any]:
    """Organisations, teams, virtual keys and spend (master key only; serve_app/http/admin_api.py)."""
    entity = {"type": "object", "required": ["id", "object"]}
    entity_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    update = _pydantic(EntityUpdate, definitions)
    paths: dict[str, Any] = {"/admin/spend": {"get": {
        "summary": "Spend by team, key, org, model or end user over a window", "security": _KEYED,
        "parameters": [{"name": "by", "in": "query", "schema": {"enum": ["team", "key", "org", "model", "end_user"]}},
                       {"name": "window", "in": "query", "schema": {"enum": ["hour", "day", "month", "all"]}}],
        "responses": {"200": {"description": "the report", "content": _json({"type": "object",
                                                                            "required": ["data"]})},
                      **_errors("Error", 400, 401, 403)}}}}
    for kind, create, parent in (("org", OrgCreate, None), ("team", TeamCreate, "org"), ("key", KeyCreate, "team")):
        listing = [{"name": parent, "in": "query", "schema": {"type": "string"}}] if parent else []
        paths[f"/admin/{kind}s"] = {
            "get": {"summary": f"List {kind}s", "security": _KEYED, "parameters": listing, "responses": {
                "200": {"description": "the list", "content": _json({"type": "object", "required": ["data"]})},
                **_errors("Error", 401, 403, 404)}},
            "post": {"summary": f"Create a {kind}", "security": _KEYED,
                     "requestBody": {"required": True, "content": _json(_pydantic(create, definitions))},
                     "responses": {"201": {"description": "created", "content": _json(entity)},
                                   **_errors("Error", 400, 401, 403, 404, 409)}},
        }
        paths[f"/admin/{kind}s/{{id}}"] = {
            "parameters": [entity_id],
            "get": {"summary": f"A {kind} with its spend", "security": _KEYED, "responses": {
                "200": {"description": "OK", "content": _json(entity)}, **_errors("Error", 401, 403, 404)}},
            "patch": {"summary": f"Change a {kind}'s budgets, limits or models", "security": _KEYED,
                      "requestBody": {"required": True, "content": _json(update)},
                      "responses": {"200": {"description": "OK", "content": _json(entity)},
                                    **_errors("Error", 400, 401, 403, 404)}},
        }
        verbs = ("revoke", "rotate") if kind == "key" else ("revoke",)
        for verb in verbs:
            paths[f"/admin/{kind}s/{{id}}/{verb}"] = {"parameters": [entity_id], "post": {
                "summary": f"{verb.capitalize()} a {kind}", "security": _KEYED, "responses": {
                    "200": {"description": "OK", "content": _json({"type": "object"})},
                    **_errors("Error", 401, 403, 404, 409)}}}
    return paths


def openapi_document() -> dict[str, Any]:
    """A copy of the document (callers may narrow it, as the fuzz test does with model names)."""
    return copy.deepcopy(_document())
