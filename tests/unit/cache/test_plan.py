"""What a request may hit and whether it is looked up or stored (deployments/cache/step.py)."""

from __future__ import annotations

from typing import Any

import pytest

from deployments.cache.step import CachePurge, cache_key, plan_cache
from tests.unit.cache.conftest import team_principal as _principal
from tollgate_core.config import CacheConfig
from tollgate_core.entities import MASTER


def _request(text: str = "What is the capital of France?", **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": text}], "temperature": 0, **extra}


def test_a_deterministic_text_request_is_looked_up_and_stored() -> None:
    plan = plan_cache(CacheConfig(), _principal(), _request())
    assert (plan.lookup, plan.store, plan.reason) == (True, True, "lookup")
    assert plan.key is not None and plan.key.tenant == "team:acme/ml" and plan.key.model == "gpt-4o"
    assert plan.key.query == "What is the capital of France?"


@pytest.mark.parametrize(("request_body", "headers", "reason"), [
    (_request(temperature=0.7), {}, "temperature"),
    ({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}, {}, "temperature"),  # default is 1
    (_request(tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}]), {}, "tools"),
    (_request(n=2), {}, "n"),
    (_request(), {"x-tollgate-cache": "off"}, "header"),
    (_request(), {"cache-control": "no-cache, no-store"}, "cache_control"),
    ({"model": "gpt-4o", "temperature": 0, "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]}, {}, "no_user_text"),
    ({"model": "gpt-4o", "temperature": 0, "messages": [{"role": "user", "content": "hi"},
                                                        {"role": "assistant", "content": "hello"}]}, {}, "no_user_text"),
])
def test_bypass(request_body: dict[str, Any], headers: dict[str, str], reason: str) -> None:
    plan = plan_cache(CacheConfig(), _principal(), request_body, cache_control=headers.get("cache-control"),
                      tollgate_cache=headers.get("x-tollgate-cache"))
    assert plan.bypass and plan.reason == reason


def test_force_opts_in_a_sampled_request_and_one_with_tools() -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {}}}]
    plan = plan_cache(CacheConfig(), _principal(), _request(temperature=1.0, tools=tools), tollgate_cache="force")
    assert plan.lookup and plan.store


def test_cache_control_directives_split_lookup_and_store() -> None:
    no_cache = plan_cache(CacheConfig(), _principal(), _request(), cache_control="no-cache")
    no_store = plan_cache(CacheConfig(), _principal(), _request(), cache_control="No-Store")
    assert (no_cache.lookup, no_cache.store) == (False, True)
    assert (no_store.lookup, no_store.store) == (True, False)


def test_switches_per_team_and_per_key_and_the_guardrail_turn_it_off() -> None:
    assert plan_cache(CacheConfig(teams={"acme/ml": False}), _principal(), _request()).reason == "disabled_for_team"
    assert plan_cache(CacheConfig(keys={"key-1": False}), _principal(), _request()).reason == "disabled_for_key"
    assert plan_cache(CacheConfig(keys={"key-2": False}), _principal(), _request()).reason == "lookup"
    assert plan_cache(CacheConfig(enabled=False), _principal(), _request()).reason == "disabled"
    assert plan_cache(CacheConfig(), _principal(), _request(), guardrail_clean=False).reason == "guardrail_findings"


def test_scope_separates_tenants_and_context_but_not_output_length() -> None:
    config = CacheConfig()
    base = cache_key(config, _principal(), _request())
    assert base is not None
    same_team_other_key = cache_key(config, _principal(key="key-2"), _request(max_tokens=50, user="u1"))
    assert same_team_other_key == base  # team scope: keys of one team share; max_tokens and user do not matter
    others = [
        cache_key(config, _principal(team="web"), _request()),
        cache_key(config, MASTER, _request()),
        cache_key(config, _principal(), _request(model="gpt-4o-mini")),
        cache_key(config, _principal(), _request(seed=7)),
        cache_key(config, _principal(), {**_request(), "messages": [
            {"role": "system", "content": "Answer in French."}, {"role": "user", "content": "What is the capital of France?"}]}),
    ]
    assert all(k is not None and k.scope != base.scope and k.exact_key != base.exact_key for k in others)
    key_scope = cache_key(CacheConfig(scope="key"), _principal(key="key-2"), _request())
    assert key_scope is not None and key_scope.tenant == "key:key-2"
    assert cache_key(CacheConfig(scope="org"), _principal(team="web"), _request()).tenant == "org:acme"  # type: ignore[union-attr]


def test_exact_key_ignores_case_and_spacing_only() -> None:
    config = CacheConfig()
    a = cache_key(config, _principal(), _request("What is the capital of France?"))
    b = cache_key(config, _principal(), _request("  what is the   CAPITAL of france?\n"))
    c = cache_key(config, _principal(), _request("What is the capital of Spain?"))
    assert a is not None and b is not None and c is not None
    assert a.exact_key == b.exact_key and a.scope == b.scope and a.exact_key != c.exact_key


def test_purge_needs_a_filter_or_all() -> None:
    with pytest.raises(ValueError, match="name what to purge"):
        CachePurge()
    with pytest.raises(ValueError, match="at most one"):
        CachePurge(team="acme/ml", key="k")
    assert CachePurge(team="acme/ml").tenant_label == "team:acme/ml"
    assert CachePurge(all=True).tenant_label is None


def test_the_operating_point_is_the_teams_then_the_models_then_the_default() -> None:
    config = CacheConfig(operating_points={"acme/support": "balanced", "gpt-4o-mini": "balanced"})
    support, other = _principal(team="support"), _principal(team="legal")
    assert cache_key(config, support, _request(model="gpt-4o")).operating_point == "balanced"  # type: ignore[union-attr]
    assert cache_key(config, other, _request(model="gpt-4o-mini")).operating_point == "balanced"  # type: ignore[union-attr]
    assert cache_key(config, other, _request(model="gpt-4o")).operating_point == "strict"  # type: ignore[union-attr]
    assert cache_key(CacheConfig(operating_point="balanced"), MASTER,
                     _request(model="gpt-4o")).operating_point == "balanced"  # type: ignore[union-attr]
