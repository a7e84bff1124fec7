"""One prompt-caching directive, translated to each provider's own mechanism.

The gateway decides per request: ``auto`` or ``off`` (the model's ``prompt_cache``, the team's, or the
``x-tollgate-prompt-cache`` header), carried to the provider proxy in the request under
:data:`~tollgate_core.contracts.PROMPT_CACHE_FIELD`. The client's own Anthropic-style
``cache_control`` on parts and tools is kept under ``auto``.

- Anthropic: ``cache_control: {"type": "ephemeral"}`` on the last tool, the last system block and
  the last block of the last stable turn (the turn before the newest user message).
- Bedrock Converse: a ``cachePoint`` block after the same three places.
- OpenAI: caching is automatic; tools keep their order and ``prompt_cache_key`` (when the client sent
  none) names the prefix, so requests that share it reach the same cache.

A marker is placed only where the prefix before it reaches the target's minimum cacheable length,
never beyond the provider's 4 markers (the client's counted; of more than 4 of the client's own, the
latest 4 are kept), and in the order of value: the end of
the system prompt, then the last stable turn, then the tools. ``off`` removes every marker, the
client's included. Prefix lengths are estimated at 4 characters a token.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tollgate_core.config import PromptCacheMode, TargetConfig
from tollgate_core.contracts import PROMPT_CACHE_FIELD

__all__ = ["MAX_MARKERS", "cache_mode", "mark_anthropic", "mark_bedrock", "openai_cache_key", "without_cache_control"]

MAX_MARKERS = 4
_EPHEMERAL = {"type": "ephemeral"}
_CACHE_POINT = {"cachePoint": {"type": "default"}}
_CHARS_PER_TOKEN = 4


def _tokens(obj: Any) -> int:
    text = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return len(text) // _CHARS_PER_TOKEN


def _mode(value: Any) -> PromptCacheMode:
    return PromptCacheMode.OFF if value == PromptCacheMode.OFF.value else PromptCacheMode.AUTO


def cache_mode(target: TargetConfig, request: dict[str, Any]) -> PromptCacheMode | None:
    """The request's choice, or None for a target that takes no prompt-cache directives (leave its body alone)."""
    if not target.takes_prompt_cache:
        return None
    return _mode(request.get(PROMPT_CACHE_FIELD))


def _blocks(container: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """``container[key]`` as a list of blocks (a string becomes one text block)."""
    value = container.get(key)
    if isinstance(value, str):
        container[key] = value = [{"type": "text", "text": value}]
    return value if isinstance(value, list) else []


# --------------------------------------------------------------------------- Anthropic


def mark_anthropic(body: dict[str, Any], mode: Any, min_tokens: int) -> dict[str, Any]:
    """Place (``auto``) or remove (``off``) ``cache_control`` markers in a Messages body, in place; ``None`` (a target
    that takes no directives) leaves it as it is."""
    tools = body.get("tools") or []
    system = _blocks(body, "system") if body.get("system") else []
    messages = body.get("messages") or []
    message_blocks = [block for m in messages for block in _blocks(m, "content")]
    everything = [*tools, *system, *message_blocks]
    if mode is not None and _mode(mode) is PromptCacheMode.OFF:
        for block in everything:
            block.pop("cache_control", None)
        return body
    # Anthropic refuses more than 4 markers; past that, the client's latest 4 (the longest prefixes) are kept.
    for block in [b for b in everything if "cache_control" in b][:-MAX_MARKERS]:
        del block["cache_control"]
    if mode is None:
        return body
    if tools and not any("cache_control" in t for t in tools):
        tools.sort(key=lambda t: str(t.get("name")))  # one order, so the prefix is the same every time
    free = MAX_MARKERS - sum(1 for block in everything if "cache_control" in block)
    tools_size = _tokens(tools) if tools else 0
    system_size = tools_size + (_tokens(system) if system else 0)
    candidates: list[tuple[dict[str, Any] | None, int]] = [(system[-1] if system else None, system_size)]
    if len(messages) >= 2:
        stable = messages[-2]
        stable_blocks = _blocks(stable, "content")
        size = system_size + _tokens(messages[:-1])
        candidates.append((stable_blocks[-1] if stable_blocks else None, size))
    candidates.append((tools[-1] if tools else None, tools_size))
    for block, prefix_tokens in candidates:
        if free <= 0:
            break
        if block is None or "cache_control" in block or prefix_tokens < min_tokens:
            continue
        if block.get("type") in ("thinking", "redacted_thinking"):
            continue  # Anthropic refuses cache_control on thinking blocks
        block["cache_control"] = dict(_EPHEMERAL)
        free -= 1
    return body


# --------------------------------------------------------------------------- Bedrock


def _strip_points(blocks: list[Any]) -> list[Any]:
    return [b for b in blocks if not (isinstance(b, dict) and "cachePoint" in b)]


def mark_bedrock(body: dict[str, Any], mode: Any, min_tokens: int) -> dict[str, Any]:
    """Place (``auto``) or remove (``off``) ``cachePoint`` blocks in a Converse body, in place; ``None`` (a model
    that refuses cachePoint) removes the client's too."""
    if mode is None:
        mode = PromptCacheMode.OFF
    tool_config = body.get("toolConfig") if isinstance(body.get("toolConfig"), dict) else None
    tools: list[Any] = tool_config.get("tools") if tool_config is not None else []  # type: ignore[assignment]
    system: list[Any] = body.get("system") or []
    messages: list[dict[str, Any]] = body.get("messages") or []
    if _mode(mode) is PromptCacheMode.OFF:
        if tool_config is not None:
            tool_config["tools"] = _strip_points(tools)
        if system:
            body["system"] = _strip_points(system)
        for message in messages:
            message["content"] = _strip_points(message.get("content") or [])
        return body
    containers = [tools, system, *(m.get("content") or [] for m in messages)]
    points = [(c, b) for c in containers for b in c if isinstance(b, dict) and "cachePoint" in b]
    for container, point in points[:-MAX_MARKERS]:  # Bedrock refuses more than 4: the latest 4 are kept
        container.remove(point)
    free = MAX_MARKERS - min(len(points), MAX_MARKERS)
    if tools and not any("cachePoint" in t for t in tools):
        tools.sort(key=lambda t: str((t.get("toolSpec") or {}).get("name")))
    tools_size = _tokens(tools) if tools else 0
    system_size = tools_size + (_tokens(system) if system else 0)
    candidates: list[tuple[list[Any] | None, int]] = [(system or None, system_size)]
    if len(messages) >= 2:
        candidates.append((messages[-2].get("content") or None, system_size + _tokens(messages[:-1])))
    candidates.append((tools or None, tools_size))
    for blocks, prefix_tokens in candidates:
        if free <= 0:
            break
        if not blocks or "cachePoint" in blocks[-1] or prefix_tokens < min_tokens:
            continue
        blocks.append(dict(_CACHE_POINT))
        free -= 1
    return body


# --------------------------------------------------------------------------- OpenAI


def openai_cache_key(request: dict[str, Any], model: str) -> str:
    """A ``prompt_cache_key`` naming the stable prefix: the model, the tools and the system messages."""
    system = [m.get("content") for m in request.get("messages") or []
              if isinstance(m, dict) and m.get("role") in ("system", "developer")]
    digest = hashlib.sha256(json.dumps([model, request.get("tools") or [], system], sort_keys=True,
                                       default=str).encode()).hexdigest()
    return f"tollgate-{digest[:32]}"


def without_cache_control(request: dict[str, Any]) -> dict[str, Any]:
    """The request without Anthropic-style ``cache_control`` on parts and tools, for OpenAI-wire targets (copied
    where it changes; the caller's request is shared with other attempts)."""
    def clean(item: Any) -> Any:
        return {k: v for k, v in item.items() if k != "cache_control"} if isinstance(item, dict) else item

    out = dict(request)
    if any(isinstance(t, dict) and "cache_control" in t for t in request.get("tools") or []):
        out["tools"] = [clean(t) for t in request["tools"]]
    messages = []
    for message in request.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list) and any(isinstance(p, dict) and "cache_control" in p for p in content):
            message = {**message, "content": [clean(p) for p in content]}
        messages.append(message)
    if "messages" in request:
        out["messages"] = messages
    return out
