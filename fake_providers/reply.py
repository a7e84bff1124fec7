"""Deterministic replies for the fake provider server.

Each provider's request body is reduced to one :class:`Conversation` (what was said, which
tools were offered, the limits asked for), and :func:`plan_reply` decides the answer from it
alone, so a test can predict every byte the fake will send:

* the last message is a tool result → text ``"Tool said: <result text>"``;
* tools are offered (and ``tool_choice`` is not none) → a call to the named or first tool
  with arguments ``{"query": "<last user text>"}``;
* otherwise → text ``"Echo from <provider> <model>: <last user text>"``.

A stop sequence found in the text cuts it just before the stop; a token limit smaller than
the number of words truncates it. A "token" is a whitespace-separated word everywhere.

:mod:`fake_providers.prompt_cache` fakes each provider's prompt caching; a conversation carries the
prefixes its cache markers (or, for OpenAI, its length) define.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from fake_providers.prompt_cache import (
    MAX_MARKERS,
    OPENAI_MIN_TOKENS,
    CachePrefix,
    PromptCache,
    marked_prefixes,
    min_cacheable,
    openai_prefixes,
)

__all__ = [
    "CachePrefix",
    "Conversation",
    "Finish",
    "PromptCache",
    "Reply",
    "RequestShapeError",
    "ToolCall",
    "count_words",
    "from_anthropic",
    "from_bedrock",
    "from_openai",
    "plan_reply",
    "split_words",
]

Json = dict[str, Any]
Finish = Literal["stop", "length", "tool_call", "stop_sequence"]

_WORD = re.compile(r"\s*\S+")
_ANTHROPIC_TOO_MANY = "A maximum of {limit} blocks with cache_control may be provided. Found {found}."
_BEDROCK_TOO_MANY = "The number of cachePoint blocks ({found}) exceeds the maximum of {limit}."


class RequestShapeError(ValueError):
    """The request body is not what the provider accepts; each route maps it to a 400."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


def count_words(text: str) -> int:
    """The fake's token count: the number of whitespace-separated words."""
    return len(text.split())


def split_words(text: str) -> list[str]:
    """Split ``text`` into one piece per word, each with its leading whitespace.

    Joining the pieces gives ``text`` back; trailing whitespace rides on the last piece.
    """
    pieces = _WORD.findall(text)
    rest = text[sum(len(p) for p in pieces) :]
    if rest:
        if pieces:
            pieces[-1] += rest
        else:
            pieces = [rest]
    return pieces


@dataclass(frozen=True)
class Conversation:
    """What the fake needs from any provider's request."""

    provider: str
    model: str
    texts: tuple[str, ...]
    last_user_text: str
    tool_result: str | None
    tool_names: tuple[str, ...]
    forced_tool: str | None
    max_tokens: int | None
    stop: tuple[str, ...]
    cache_prefixes: tuple[CachePrefix, ...] = ()
    min_cache_tokens: int = OPENAI_MIN_TOKENS

    @property
    def prompt_tokens(self) -> int:
        """Words in every system, message and tool-result text."""
        return sum(count_words(t) for t in self.texts)


@dataclass(frozen=True)
class ToolCall:
    """The one tool call a reply may carry; ``arguments`` is a JSON object as text."""

    name: str
    arguments: str

    @property
    def fragments(self) -> list[str]:
        """The arguments as streamed: one word each, always at least two pieces."""
        return split_words(self.arguments)


@dataclass(frozen=True)
class Reply:
    """The planned answer, independent of any wire format."""

    text: str
    pieces: tuple[str, ...]
    tool_call: ToolCall | None
    finish: Finish
    stop_sequence: str | None
    prompt_tokens: int
    completion_tokens: int


def plan_reply(conv: Conversation) -> Reply:
    """Decide the deterministic answer to ``conv`` (see the module docstring)."""
    prompt = conv.prompt_tokens
    if conv.tool_result is None and conv.tool_names:
        name = conv.forced_tool or conv.tool_names[0]
        call = ToolCall(name=name, arguments=json.dumps({"query": conv.last_user_text}))
        return Reply("", (), call, "tool_call", None, prompt, len(call.fragments))
    if conv.tool_result is not None:
        text = f"Tool said: {conv.tool_result}"
    else:
        text = f"Echo from {conv.provider} {conv.model}: {conv.last_user_text}"
    finish: Finish = "stop"
    matched: str | None = None
    hits = [(text.find(s), s) for s in conv.stop if s and s in text]
    if hits:
        cut, matched = min(hits)
        text, finish = text[:cut], "stop_sequence"
    pieces = split_words(text)
    if conv.max_tokens is not None and count_words(text) > conv.max_tokens:
        pieces = pieces[: max(conv.max_tokens, 0)]
        text, finish, matched = "".join(pieces), "length", None
    return Reply(text, tuple(pieces), None, finish, matched, prompt, count_words(text))


# --- shared helpers -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Segment:
    """One piece of a prompt in provider order; ``marker`` (a cache marker's value) ends a cacheable prefix."""

    item: Any
    text: str
    marker: Any = None


def _prefixes(model: str, segments: list[_Segment], error: str) -> tuple[CachePrefix, ...]:
    markers = sum(1 for seg in segments if seg.marker is not None)
    if markers > MAX_MARKERS:
        raise RequestShapeError(error.format(limit=MAX_MARKERS, found=markers))
    return marked_prefixes(model, [(seg.item, count_words(seg.text), seg.marker) for seg in segments])


def _list_of_dicts(value: Any, param: str) -> list[Json]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise RequestShapeError(f"'{param}' must be an array of objects.", param)
    return value


def _optional_int(body: Json, *names: str) -> int | None:
    for name in names:
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise RequestShapeError(f"'{name}' must be a positive integer, got {value!r}.", name)
        return value
    return None


def _stop_list(value: Any, param: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return tuple(value)
    raise RequestShapeError(f"'{param}' must be a string or an array of strings.", param)


def _messages(body: Json, param: str = "messages") -> list[Json]:
    messages = _list_of_dicts(body.get(param), param)
    if not messages:
        raise RequestShapeError(f"'{param}' must not be empty.", param)
    return messages


# --- OpenAI and Azure OpenAI ----------------------------------------------------------------


def _openai_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and "text" in p
        )
    return ""


def from_openai(body: Json, *, provider: str, model: str) -> Conversation:
    """Reduce a Chat Completions body (OpenAI or Azure; ``model`` given by the caller)."""
    messages = _messages(body)
    texts = [_openai_text(m.get("content")) for m in messages]
    user_texts = [t for m, t in zip(messages, texts) if m.get("role") == "user" and t.strip()]
    last = messages[-1]
    tool_result = texts[-1] if last.get("role") in ("tool", "function") else None
    tools = body.get("tools") or []
    names = [
        str(t["function"]["name"])
        for t in _list_of_dicts(tools, "tools")
        if isinstance(t.get("function"), dict) and "name" in t["function"]
    ]
    names += [str(f["name"]) for f in _list_of_dicts(body.get("functions") or [], "functions")]
    choice = body.get("tool_choice", body.get("function_call"))
    forced = None
    if choice == "none":
        names = []
    elif isinstance(choice, dict):
        fn = choice.get("function") if "function" in choice else choice
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            forced = fn["name"]
    return Conversation(
        provider=provider,
        model=model,
        texts=tuple(texts),
        last_user_text=user_texts[-1] if user_texts else "",
        tool_result=tool_result,
        tool_names=tuple(names),
        forced_tool=forced,
        max_tokens=_optional_int(body, "max_completion_tokens", "max_tokens"),
        stop=_stop_list(body.get("stop"), "stop"),
        cache_prefixes=openai_prefixes(model, [w for t in texts for w in t.split()]),
    )


# --- Anthropic Messages ---------------------------------------------------------------------


def _anthropic_block_text(block: Json) -> str:
    kind = block.get("type")
    if kind == "text":
        return str(block.get("text", ""))
    if kind == "tool_result":
        content = block.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return " ".join(
                str(b.get("text", "")) for b in content if isinstance(b, dict) and "text" in b
            )
    return ""


def from_anthropic(body: Json) -> Conversation:
    """Reduce an Anthropic Messages body; ``max_tokens`` is required, as upstream."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestShapeError("model: Field required", "model")
    if body.get("max_tokens") is None:
        raise RequestShapeError("max_tokens: Field required", "max_tokens")
    max_tokens = _optional_int(body, "max_tokens")
    messages = _messages(body)
    segments: list[_Segment] = []
    tools = _list_of_dicts(body.get("tools") or [], "tools")
    segments += [_Segment({"tool": t}, "", t.get("cache_control")) for t in tools]
    system = body.get("system")
    if isinstance(system, str):
        segments.append(_Segment({"system": system}, system, False))
    elif system is not None:
        for block in _list_of_dicts(system, "system"):
            segments.append(_Segment(block, str(block.get("text", "")), block.get("cache_control")))
    user_texts: list[str] = []
    last_results: list[str] | None = None
    for message in messages:
        role, content = message.get("role"), message.get("content")
        blocks: list[Json] = (
            [{"type": "text", "text": content}]
            if isinstance(content, str)
            else _list_of_dicts(content, "messages.content")
        )
        texts = []
        for block in blocks:
            text = _anthropic_block_text(block)
            item = {"role": role, **{k: v for k, v in block.items() if k != "cache_control"}}
            segments.append(_Segment(item, text, block.get("cache_control")))
            if block.get("type") == "text" and text.strip():
                texts.append(text)
        if role == "user" and texts:
            user_texts.append(" ".join(texts))
        results = [_anthropic_block_text(b) for b in blocks if b.get("type") == "tool_result"]
        last_results = results if role == "user" and results else None
    choice = body.get("tool_choice") if isinstance(body.get("tool_choice"), dict) else {}
    names = [str(t.get("name")) for t in tools if "name" in t]
    if choice.get("type") == "none":
        names = []
    forced = choice.get("name") if choice.get("type") == "tool" else None
    return Conversation(
        provider="anthropic",
        model=model,
        texts=tuple(s.text for s in segments),
        last_user_text=user_texts[-1] if user_texts else "",
        tool_result=" ".join(last_results) if last_results is not None else None,
        tool_names=tuple(names),
        forced_tool=forced if isinstance(forced, str) else None,
        max_tokens=max_tokens,
        stop=_stop_list(body.get("stop_sequences"), "stop_sequences"),
        cache_prefixes=_prefixes(model, segments, _ANTHROPIC_TOO_MANY),
        min_cache_tokens=min_cacheable(model),
    )


# --- Bedrock Converse -----------------------------------------------------------------------


def _bedrock_result_text(result: Json) -> str:
    parts = []
    for item in result.get("content") or []:
        if isinstance(item, dict) and "text" in item:
            parts.append(str(item["text"]))
        elif isinstance(item, dict) and "json" in item:
            parts.append(json.dumps(item["json"]))
    return " ".join(parts)


def _bedrock_block_text(block: Json) -> str:
    if "text" in block:
        return str(block["text"])
    if isinstance(block.get("toolResult"), dict):
        return _bedrock_result_text(block["toolResult"])
    return ""


def from_bedrock(body: Json, *, model_id: str) -> Conversation:
    """Reduce a Converse / ConverseStream body for the model named in the path."""
    messages = _messages(body)
    segments: list[_Segment] = []
    tool_config = body.get("toolConfig") if isinstance(body.get("toolConfig"), dict) else {}
    names: list[str] = []
    for tool in _list_of_dicts(tool_config.get("tools") or [], "toolConfig.tools"):
        spec = tool.get("toolSpec")
        if isinstance(spec, dict) and "name" in spec:
            names.append(str(spec["name"]))
        segments.append(_Segment(tool, "", tool.get("cachePoint")))
    for block in _list_of_dicts(body.get("system") or [], "system"):
        segments.append(_Segment(block, _bedrock_block_text(block), block.get("cachePoint")))
    user_texts: list[str] = []
    last_results: list[str] | None = None
    for message in messages:
        role = message.get("role")
        blocks = _list_of_dicts(message.get("content"), "messages.content")
        texts = []
        for block in blocks:
            text = _bedrock_block_text(block)
            segments.append(_Segment({"role": role, **block}, text, block.get("cachePoint")))
            if "text" in block and text.strip():
                texts.append(text)
        if role == "user" and texts:
            user_texts.append(" ".join(texts))
        results = [_bedrock_result_text(b["toolResult"]) for b in blocks if "toolResult" in b]
        last_results = results if role == "user" and results else None
    choice = tool_config.get("toolChoice") if isinstance(tool_config.get("toolChoice"), dict) else {}
    forced = choice.get("tool", {}).get("name") if isinstance(choice.get("tool"), dict) else None
    raw_config = body.get("inferenceConfig")
    config: Json = raw_config if isinstance(raw_config, dict) else {}
    return Conversation(
        provider="bedrock",
        model=model_id,
        texts=tuple(s.text for s in segments),
        last_user_text=user_texts[-1] if user_texts else "",
        tool_result=" ".join(last_results) if last_results is not None else None,
        tool_names=tuple(names),
        forced_tool=forced if isinstance(forced, str) else None,
        max_tokens=_optional_int(config, "maxTokens"),
        stop=_stop_list(config.get("stopSequences"), "inferenceConfig.stopSequences"),
        cache_prefixes=_prefixes(model_id, segments, _BEDROCK_TOO_MANY),
        min_cache_tokens=min_cacheable(model_id),
    )
