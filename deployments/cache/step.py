"""The gateway's side of the response cache: what a request may hit (its scope), whether it may be looked up and
stored (temperature, tools, ``Cache-Control``, per-team and per-key switches), and replaying a hit in the shape the
client asked for. The lookup itself is the SemanticCache deployment's (:mod:`deployments.cache.service`)."""

from __future__ import annotations

import hashlib
import json
import time
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from deployments.cache.query_text import last_user_text
from deployments.cache.service import CacheKey, Lookup
from tollgate_core.config import CacheConfig
from tollgate_core.entities import Principal

__all__ = [
    "CacheLink",
    "CachePlan",
    "CachePurge",
    "cache_key",
    "cached_chunks",
    "cached_completion",
    "hit_headers",
    "plan_cache",
    "storable_answer",
    "zero_usage",
]

# Request fields that do not change the answer's content, so they are left out of the scope.
_NOT_IN_SCOPE = frozenset({
    "messages", "stream", "stream_options", "user", "max_tokens", "max_completion_tokens", "metadata", "store",
    "service_tier",
})


class CacheLink(Protocol):
    """The SemanticCache deployment (a Ray handle in production, the service itself in tests)."""

    async def lookup(self, key: CacheKey, semantic: bool) -> Lookup: ...

    async def store(self, key: CacheKey, response: dict[str, Any], ttl_s: float, vector: list[float] | None) -> object:
        ...

    async def purge(self, *, tenant: str | None = None, model: str | None = None,
                    older_than_s: float | None = None) -> int: ...

    async def stats(self) -> dict[str, Any]: ...


class CachePurge(BaseModel):
    """``POST /admin/cache/purge``: which entries to delete. Filters combine; ``all`` must be said explicitly."""

    model_config = ConfigDict(extra="forbid")

    team: str | None = Field(None, description="ORG/TEAM: entries of that team (scope team).")
    org: str | None = Field(None, description="Entries of that organisation (scope org).")
    key: str | None = Field(None, description="A key id: entries of that key (scope key).")
    tenant: str | None = Field(None, description="A raw tenant label (team:…, org:…, key:…, master, global).")
    model: str | None = Field(None, description="Only entries of this requested model.")
    older_than_s: float | None = Field(None, ge=0, description="Only entries created longer ago than this.")
    all: bool = Field(False, description="Delete every entry (when no other filter is given).")

    @model_validator(mode="after")
    def _one_filter(self) -> CachePurge:
        tenants = [t for t in (self.team, self.org, self.key, self.tenant) if t is not None]
        if len(tenants) > 1:
            raise ValueError("give at most one of team, org, key and tenant")
        if not tenants and self.model is None and self.older_than_s is None and not self.all:
            raise ValueError("name what to purge (team, org, key, tenant, model, older_than_s) or set all")
        return self

    @property
    def tenant_label(self) -> str | None:
        if self.team is not None:
            return f"team:{self.team}"
        if self.org is not None:
            return f"org:{self.org}"
        if self.key is not None:
            return f"key:{self.key}"
        return self.tenant


@dataclass(frozen=True)
class CachePlan:
    """``key`` is None when the request bypasses the cache; ``reason`` says why (or ``lookup``)."""

    key: CacheKey | None
    lookup: bool
    store: bool
    reason: str

    @property
    def bypass(self) -> bool:
        return self.key is None or not (self.lookup or self.store)


def _digest(*parts: str) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part.encode("utf-8"))
        sha.update(b"\0")
    return sha.hexdigest()


def normalise(text: str) -> str:
    """What an exact match ignores: Unicode form, case and runs of whitespace."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def tenant_of(scope: str, principal: Principal) -> str:
    """The tenant label entries are stored (and purged) under."""
    if principal.is_master:
        return "master" if scope != "global" else "global"
    if scope == "key":
        return f"key:{principal.key_id}"
    team_path = principal.team_path or ""
    if scope == "org":
        return f"org:{team_path.split('/', 1)[0]}"
    if scope == "team":
        return f"team:{team_path}"
    return "global"


def cache_key(config: CacheConfig, principal: Principal, internal: dict[str, Any]) -> CacheKey | None:
    """The scope is a hash of the tenant, the model and everything but the last user message (system prompt,
    earlier turns, tools, sampling parameters); only that last message is compared semantically."""
    messages = internal.get("messages") or []
    query = last_user_text(internal)
    if query is None or not query.strip():
        return None
    tenant = tenant_of(config.scope, principal)
    context = {k: v for k, v in internal.items() if k not in _NOT_IN_SCOPE}
    context["earlier"] = messages[:-1]
    scope = _digest(tenant, json.dumps(context, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    model = str(internal.get("model", ""))
    point = config.operating_points.get(principal.team_path or "") or config.operating_points.get(model)
    return CacheKey(scope=scope, exact_key=_digest(scope, normalise(query)), tenant=tenant, model=model, query=query,
                    operating_point=point or config.operating_point)


def _directives(cache_control: str | None) -> set[str]:
    return {part.strip().lower().split("=", 1)[0] for part in (cache_control or "").split(",") if part.strip()}


def plan_cache(config: CacheConfig, principal: Principal, internal: dict[str, Any], *,
               cache_control: str | None = None, tollgate_cache: str | None = None,
               guardrail_clean: bool = True) -> CachePlan:
    """Whether this request may be answered from the cache, and whether its answer may be stored."""
    def bypass(reason: str) -> CachePlan:
        return CachePlan(None, False, False, reason)

    if not config.enabled:
        return bypass("disabled")
    if principal.team_path is not None and config.teams.get(principal.team_path) is False:
        return bypass("disabled_for_team")
    if principal.key_id is not None and config.keys.get(principal.key_id) is False:
        return bypass("disabled_for_key")
    switch = (tollgate_cache or "").strip().lower()
    if switch in ("off", "bypass", "no"):
        return bypass("header")
    forced = switch == "force"
    if not guardrail_clean:
        return bypass("guardrail_findings")
    if int(internal.get("n") or 1) != 1:
        return bypass("n")
    if internal.get("tools") and not forced:
        return bypass("tools")
    if float(internal.get("temperature", 1.0)) != 0.0 and not forced:
        return bypass("temperature")
    key = cache_key(config, principal, internal)
    if key is None:
        return bypass("no_user_text")
    directives = _directives(cache_control)
    lookup, store = "no-cache" not in directives, "no-store" not in directives
    if not (lookup or store):
        return bypass("cache_control")
    return CachePlan(key, lookup, store, "lookup")


def storable_answer(body: dict[str, Any], *, target: str, cost_usd: float) -> dict[str, Any] | None:
    """What a hit will replay, from a complete answer: one choice, finished with ``stop``, text only."""
    choices = body.get("choices") or []
    if len(choices) != 1:
        return None
    choice = choices[0]
    message = choice.get("message") or {}
    if choice.get("finish_reason") != "stop" or message.get("tool_calls") or not isinstance(message.get("content"), str):
        return None
    return {"content": message["content"], "model": body.get("model", ""), "usage": body.get("usage") or {},
            "target": target, "cost_usd": cost_usd}


def zero_usage() -> dict[str, Any]:
    # Nothing was billed upstream for a hit; what the original call cost is in x-tollgate-cache-saved-usd.
    return {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}


def hit_headers(lookup: Lookup) -> dict[str, str]:
    saved = float((lookup.response or {}).get("cost_usd") or 0.0)
    return {
        "x-tollgate-cache": "hit",
        "x-tollgate-cache-kind": lookup.kind or "",
        "x-tollgate-cache-similarity": f"{lookup.similarity or 0.0:.4f}",
        "x-tollgate-cache-saved-usd": f"{saved:.8f}",
        "x-tollgate-attempts": "0",
    }


def cached_completion(lookup: Lookup) -> dict[str, Any]:
    """A hit as a ``chat.completion`` body."""
    response = lookup.response or {}
    return {
        "id": f"chatcmpl-cache-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": response.get("model", ""),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": response.get("content", "")},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": zero_usage(),
    }


def cached_chunks(lookup: Lookup, *, include_usage: bool, piece_chars: int = 48) -> Iterator[dict[str, Any]]:
    """A hit as ``chat.completion.chunk`` objects: role, the text in pieces, the finish, and usage if asked."""
    response = lookup.response or {}
    content = str(response.get("content", ""))
    base = {"id": f"chatcmpl-cache-{uuid.uuid4().hex}", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": response.get("model", "")}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}

    yield chunk({"role": "assistant", "content": ""})
    for start in range(0, len(content), piece_chars):
        yield chunk({"content": content[start:start + piece_chars]})
    yield chunk({}, "stop")
    if include_usage:
        yield {**base, "choices": [], "usage": zero_usage()}
