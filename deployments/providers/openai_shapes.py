"""The OpenAI Chat Completions side of the provider translations.

:mod:`~deployments.providers.anthropic_wire` and :mod:`~deployments.providers.bedrock_wire`
read the same OpenAI request and must write the same OpenAI response; what does not depend on
the provider's format lives here, on plain dicts and without I/O:

- reading a request: unsupported parameters, ``max_tokens``, sampling, ``stop``, the messages
  (:func:`convert_messages`), their parts, tool calls, tools and ``tool_choice``, refused when bad
  with the path of the offending parameter;
- writing a response: ``chat.completion`` (:func:`chat_completion`), ``usage``
  (:func:`openai_usage`), ``finish_reason`` (:func:`openai_finish_reason`) and, through
  :class:`ChunkStream`, the ``chat.completion.chunk`` sequence of a stream.

Each wire module keeps the decisions that are its provider's own (block shapes, which image
sources are allowed, what ``tool_choice: "none"`` becomes).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypeVar

from tollgate_core.errors import BadRequestError

__all__ = [
    "Block",
    "ChunkStream",
    "FunctionTool",
    "ToolCall",
    "chat_completion",
    "convert_messages",
    "function_tools",
    "message_tool_call_id",
    "new_completion_id",
    "openai_finish_reason",
    "openai_tool_call",
    "openai_usage",
    "parse_arguments",
    "parse_tool_calls",
    "parse_tool_choice",
    "part_text",
    "refuse_unsupported",
    "requested_max_tokens",
    "sampling_params",
    "split_base64_data_url",
    "stop_sequences",
    "texts",
]

Block = dict[str, Any]
"""One content block of a provider turn, in that provider's shape."""

_S = TypeVar("_S")


# --------------------------------------------------------------------------- request


def refuse_unsupported(req: dict[str, Any], *, provider: str, n_message: str, logprobs_message: str) -> None:
    """Refuse ``n`` other than 1, ``logprobs``, and a ``response_format`` other than text or json_object (the
    clients turn ``json_schema`` into a forced tool first: :mod:`deployments.providers.schema_tool`).

    ``n_message`` and ``logprobs_message`` are the provider's whole messages for those two.
    """
    if req.get("n") not in (None, 1):
        raise BadRequestError(n_message, param="n")
    if req.get("logprobs") or req.get("top_logprobs"):
        raise BadRequestError(logprobs_message, param="logprobs")
    fmt = req.get("response_format")
    kind = fmt.get("type") if isinstance(fmt, dict) else fmt
    if kind not in (None, "text", "json_object"):
        raise BadRequestError(
            f"response_format type {kind!r} is not supported; use text or json_object.",
            param="response_format.type",
        )


def requested_max_tokens(req: dict[str, Any]) -> int | None:
    """``max_completion_tokens``, else the legacy ``max_tokens``, else ``None``; refused unless positive."""
    for key in ("max_completion_tokens", "max_tokens"):
        value = req.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise BadRequestError(f"{key} must be a positive integer.", param=key)
        return value
    return None


def sampling_params(req: dict[str, Any]) -> dict[str, float]:
    """The ``temperature`` and ``top_p`` given, as floats, under their OpenAI names.

    ``temperature`` is clamped to 0-1, the range of the providers here (OpenAI allows up to 2):
    the router, not the caller, picks the provider, so a request valid for OpenAI must not fail.
    """
    params: dict[str, float] = {}
    for key in ("temperature", "top_p"):
        value = req.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BadRequestError(f"{key} must be a number.", param=key)
        params[key] = min(float(value), 1.0) if key == "temperature" else float(value)
    return params


def stop_sequences(req: dict[str, Any]) -> list[str]:
    """``stop`` as a list (a lone string becomes one item); empty when absent."""
    stop = req.get("stop")
    if isinstance(stop, str):
        stop = [stop]
    if stop is not None and not (isinstance(stop, list) and all(isinstance(s, str) for s in stop)):
        raise BadRequestError("stop must be a string or a list of strings.", param="stop")
    return stop or []


def convert_messages(
    raw: Any,
    *,
    system: Callable[[Any, str], list[_S]],
    user: Callable[[Any, str], list[Block]],
    assistant: Callable[[dict[str, Any], str], list[Block]],
    tool: Callable[[dict[str, Any], str], Block],
    is_tool_result: Callable[[Block], bool],
) -> tuple[list[_S], list[dict[str, Any]]]:
    """Split OpenAI ``messages`` into system items and alternating ``{"role", "content"}`` turns.

    The callables build a provider's blocks from a message's ``content`` (``system``, ``user``) or
    the whole message (``assistant``, ``tool``), given its path. ``system`` and ``developer``
    messages give the system items; ``tool`` messages join user turns; consecutive turns of one
    role merge (the providers need alternation), and tool results go first in a user turn.
    """
    if not isinstance(raw, list) or not raw:
        raise BadRequestError("messages must be a non-empty list.", param="messages")
    system_items: list[_S] = []
    turns: list[dict[str, Any]] = []
    for i, msg in enumerate(raw):
        path = f"messages[{i}]"
        if not isinstance(msg, dict):
            raise BadRequestError(f"{path} must be an object with a role.", param=path)
        role = msg.get("role")
        if role in ("system", "developer"):
            system_items.extend(system(msg.get("content"), path))
            continue
        if role == "user":
            blocks = user(msg.get("content"), path)
        elif role == "assistant":
            blocks = assistant(msg, path)
        elif role == "tool":
            role, blocks = "user", [tool(msg, path)]
        else:
            raise BadRequestError(
                f"{path}.role {role!r} is not supported; use system, developer, user, "
                "assistant or tool (legacy 'function' messages must be sent as 'tool').",
                param=f"{path}.role",
            )
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    if not turns:
        raise BadRequestError(
            "messages must contain at least one user or assistant message with content.", param="messages"
        )
    for turn in turns:
        if turn["role"] == "user":
            turn["content"].sort(key=lambda b: not is_tool_result(b))  # stable
    return system_items, turns


def part_text(part: Any, param: str, *, images: bool) -> str | None:
    """The text of a ``text`` or ``refusal`` part; ``None`` for blank text, which is dropped.

    Any other part is refused; ``images`` says whether the message may offer image parts instead.
    """
    kind = part.get("type") if isinstance(part, dict) else None
    if kind == "text" and isinstance(part.get("text"), str):
        return str(part["text"]) if part["text"].strip() else None
    if kind == "refusal" and isinstance(part.get("refusal"), str):
        return str(part["refusal"])
    allowed = "text or image_url parts" if images else "text parts (images only in user messages)"
    raise BadRequestError(f"{param} has type {kind!r}, which cannot be sent here; use {allowed}.", param=param)


def texts(content: Any, path: str, *, images: bool) -> list[str]:
    """The texts of the ``content`` of the message at ``path``, blank text left out.

    With ``images``, image parts are skipped rather than refused; an empty refusal is kept as "".
    """
    if content is None:
        return []
    if isinstance(content, str):
        return [content] if content.strip() else []
    if not isinstance(content, list):
        raise BadRequestError(f"{path}.content must be a string or a list of parts.", param=f"{path}.content")
    out: list[str] = []
    for j, part in enumerate(content):
        if images and isinstance(part, dict) and part.get("type") == "image_url":
            continue
        text = part_text(part, f"{path}.content[{j}]", images=images)
        if text is not None:
            out.append(text)
    return out


def split_base64_data_url(url: str, param: str) -> tuple[str, str]:
    """``(media_type, data)`` of a ``data:<type>;base64,<data>`` URL; refused unless base64 with data."""
    header, _, data = url[5:].partition(",")
    media_type, _, encoding = header.partition(";")
    if encoding != "base64" or not data:
        raise BadRequestError("Image data URLs must be base64 encoded (data:image/png;base64,...).", param=param)
    return media_type, data


class ToolCall(NamedTuple):
    """One checked entry of an assistant message's ``tool_calls``."""

    id: Any
    name: Any
    input: dict[str, Any]


def parse_tool_calls(tool_calls: Any, path: str) -> list[ToolCall]:
    """The ``tool_calls`` of the assistant message at ``path``, with their arguments parsed."""
    if not tool_calls:
        return []
    if not isinstance(tool_calls, list):
        raise BadRequestError(f"{path}.tool_calls must be a list.", param=f"{path}.tool_calls")
    calls: list[ToolCall] = []
    for k, call in enumerate(tool_calls):
        where = f"{path}.tool_calls[{k}]"
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not call.get("id") or not fn.get("name"):
            raise BadRequestError(f"{where} needs an id and a function with a name.", param=where)
        if call.get("type", "function") != "function":
            raise BadRequestError(f"{where}.type must be 'function'.", param=f"{where}.type")
        arguments = parse_arguments(fn.get("arguments"), f"{where}.function.arguments")
        calls.append(ToolCall(call["id"], fn["name"], arguments))
    return calls


def parse_arguments(arguments: Any, param: str) -> dict[str, Any]:
    """A tool call's ``arguments`` (a JSON object as a string) as a dict; blank or missing is ``{}``."""
    if arguments is None or (isinstance(arguments, str) and not arguments.strip()):
        return {}
    if isinstance(arguments, dict):
        return arguments
    try:
        parsed = json.loads(arguments)
    except (TypeError, ValueError) as exc:
        raise BadRequestError("Tool call arguments must be a JSON object encoded as a string.", param=param) from exc
    if not isinstance(parsed, dict):
        raise BadRequestError("Tool call arguments must be a JSON object, not a list or scalar.", param=param)
    return parsed


def message_tool_call_id(msg: dict[str, Any], path: str) -> Any:
    """The ``tool_call_id`` of the tool message at ``path``, which must have one."""
    if not msg.get("tool_call_id"):
        raise BadRequestError(
            f"{path} is a tool message without tool_call_id; set it to the id of the call it answers.",
            param=f"{path}.tool_call_id",
        )
    return msg["tool_call_id"]


class FunctionTool(NamedTuple):
    """One checked entry of ``tools``; ``parameters`` defaults to an empty object schema."""

    name: Any
    description: Any
    parameters: Any
    cache_control: Any = None  # Anthropic-style, on the tool: the prefix up to here is cached


def function_tools(tools: Any, *, provider: str) -> list[FunctionTool]:
    """The ``tools`` of a request; only function tools can be sent to ``provider``."""
    if not tools:
        return []
    if not isinstance(tools, list):
        raise BadRequestError("tools must be a list of function tools.", param="tools")
    out: list[FunctionTool] = []
    for j, tool in enumerate(tools):
        if not isinstance(tool, dict) or tool.get("type") != "function":
            raise BadRequestError(f"Only tools of type 'function' can be sent to {provider}.", param=f"tools[{j}].type")
        fn = tool.get("function")
        if not isinstance(fn, dict) or not fn.get("name"):
            raise BadRequestError("Each tool needs function.name.", param=f"tools[{j}].function.name")
        schema = fn.get("parameters") or {"type": "object", "properties": {}}
        marker = tool.get("cache_control") if isinstance(tool.get("cache_control"), dict) else None
        out.append(FunctionTool(fn["name"], fn.get("description"), schema, marker))
    return out


def parse_tool_choice(choice: Any) -> tuple[str, str | None] | None:
    """``tool_choice`` as ``(kind, name)``: auto, required, none, or function with its name; ``None`` if absent."""
    if choice is None:
        return None
    if isinstance(choice, str) and choice in ("auto", "required", "none"):
        return choice, None
    if isinstance(choice, dict) and choice.get("type") == "function":
        name = (choice.get("function") or {}).get("name")
        if name:
            return "function", name
    raise BadRequestError(
        'tool_choice must be "none", "auto", "required" or {"type": "function", "function": {"name": ...}}.',
        param="tool_choice",
    )


# -------------------------------------------------------------------------- response


def new_completion_id() -> str:
    """A fresh ``chatcmpl-`` id, for providers that send none."""
    return f"chatcmpl-{uuid.uuid4().hex}"


def openai_tool_call(call_id: Any, name: Any, tool_input: Any) -> dict[str, Any]:
    """An OpenAI ``tool_calls`` entry; the input is dumped compactly (``{}`` when missing)."""
    arguments = json.dumps(tool_input if tool_input is not None else {}, ensure_ascii=False, separators=(",", ":"))
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def chat_completion(
    *,
    completion_id: str,
    model: str,
    text_parts: list[str],
    tool_calls: list[dict[str, Any]],
    finish_reason: str,
    usage: dict[str, Any],
) -> dict[str, Any]:
    """An OpenAI ``chat.completion`` with one choice: the texts joined, and the tool calls."""
    content = "".join(text_parts) if text_parts or not tool_calls else None  # None only beside tool calls, as OpenAI
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
        "usage": usage,
    }


def openai_finish_reason(stop_reason: Any, reasons: Mapping[str, str]) -> str:
    """OpenAI's ``finish_reason`` for a provider's stop reason; ``stop`` for one not in ``reasons``."""
    return reasons.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"


def openai_usage(usage: Any, *, prompt: str, cache_read: str, cache_write: str, completion: str) -> dict[str, Any]:
    """OpenAI ``usage`` from a provider's usage dict, given the provider's names for the four counts.

    The providers count uncached input apart from cache reads and writes; OpenAI's
    ``prompt_tokens`` includes them, and ``prompt_tokens_details`` says how many were which.
    """
    u = usage if isinstance(usage, dict) else {}
    fresh, read, write, out = (int(u.get(k) or 0) for k in (prompt, cache_read, cache_write, completion))
    prompt_tokens = fresh + read + write
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": out,
        "total_tokens": prompt_tokens + out,
        "prompt_tokens_details": {"cached_tokens": read, "cache_write_tokens": write},
    }


class ChunkStream:
    """Writes one OpenAI ``chat.completion.chunk`` stream for a provider's stream translator.

    Keeps what the chunks share (id, created, model), whether the role and finish chunks went out,
    and which provider block is which OpenAI tool call. Methods return the chunks to emit, the
    role chunk first while it is due.
    """

    def __init__(self, *, model: str, include_usage: bool) -> None:
        self.completion_id = new_completion_id()
        """Shared by every chunk; a provider that sends a message id may replace it before the first."""
        self._model = model
        self._include_usage = include_usage
        self._created = int(time.time())
        self._started = False
        self._finished = False
        self._tool_index: dict[int, int] = {}  # provider block index -> OpenAI tool call index

    def start(self) -> list[dict[str, Any]]:
        """The role chunk, if it has not gone out yet."""
        if self._started:
            return []
        self._started = True
        return [self.chunk({"role": "assistant", "content": ""}, None)]

    def text(self, text: Any) -> list[dict[str, Any]]:
        """A content delta (nothing for empty text)."""
        chunks = self.start()
        if text:
            chunks.append(self.chunk({"content": text}, None))
        return chunks

    def open_tool_call(self, block_index: int, call_id: Any, name: Any) -> list[dict[str, Any]]:
        """The first delta of a tool call, which the provider's block ``block_index`` carries."""
        chunks = self.start()
        n = self._tool_index[block_index] = len(self._tool_index)
        call = {"index": n, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
        chunks.append(self.chunk({"tool_calls": [call]}, None))
        return chunks

    def tool_arguments(self, block_index: int, arguments: Any) -> list[dict[str, Any]]:
        """A piece of a tool call's arguments (nothing if empty or the block opened no tool call)."""
        chunks = self.start()
        if arguments and block_index in self._tool_index:
            call = {"index": self._tool_index[block_index], "function": {"arguments": arguments}}
            chunks.append(self.chunk({"tool_calls": [call]}, None))
        return chunks

    def finish(self, finish_reason: str) -> list[dict[str, Any]]:
        """The finish chunk, once; later calls return nothing."""
        if self._finished:
            return []
        self._finished = True
        return [*self.start(), self.chunk({}, finish_reason)]

    def usage(self, usage: dict[str, Any]) -> list[dict[str, Any]]:
        """The final ``choices: []`` usage chunk, when the caller asked for ``include_usage``."""
        return [self.chunk(None, None, usage=usage)] if self._include_usage else []

    def chunk(self, delta: dict[str, Any] | None, finish: str | None, *, usage: Any = None) -> dict[str, Any]:
        """One chunk; ``delta=None`` gives ``choices: []``."""
        chunk: dict[str, Any] = {
            "id": self.completion_id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
            "choices": [],
        }
        if delta is not None:
            chunk["choices"] = [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        if self._include_usage:
            chunk["usage"] = usage  # OpenAI sends usage: null on every chunk but the last
        return chunk
