"""The CPU overlay changes configs/prod.yaml only where hardware or secrets need it (rehearsal/overlay.py)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from rehearsal.overlay import PROD, changed_paths, disallowed_changes, merge, prod_on_cpu
from serve_app.app import deployment_names
from tollgate_core.config import parse_gateway_config


def _prod() -> dict[str, Any]:
    return dict(yaml.safe_load(PROD.read_text()))


def _app(config: dict[str, Any]) -> dict[str, Any]:
    (app,) = config["applications"]
    return dict(app)


def test_the_overlay_changes_only_what_it_is_allowed_to() -> None:
    assert disallowed_changes(_prod(), prod_on_cpu()) == []


def test_a_change_outside_the_allowed_fields_is_caught() -> None:
    """The guard itself: an overlay that touched autoscaling, a model's fallbacks or the store would be named."""
    for overlay, path in [
        ({"applications": [{"name": "tollgate", "deployments": [
            {"name": "AnthropicProxy", "autoscaling_config": {"max_replicas": 2}}]}]},
         "applications[tollgate].deployments[AnthropicProxy].autoscaling_config.max_replicas"),
        ({"applications": [{"name": "tollgate", "args": {"models": {"gpt-4o": {"fallbacks": []}}}}]},
         "applications[tollgate].args.models.gpt-4o.fallbacks"),
        ({"applications": [{"name": "tollgate", "args": {"state": {"url": "sqlite:///x.db"}}}]},
         "applications[tollgate].args.state.url"),
        ({"http_options": {"port": 9000}}, "http_options.port"),
    ]:
        assert disallowed_changes(_prod(), merge(_prod(), overlay)) == [path]


def test_same_deployments_graph_and_autoscaling() -> None:
    prod, cpu = _app(_prod()), _app(prod_on_cpu())
    assert [d["name"] for d in cpu["deployments"]] == [d["name"] for d in prod["deployments"]]
    for before, after in zip(prod["deployments"], cpu["deployments"], strict=True):
        assert after["autoscaling_config"] == before["autoscaling_config"]
        assert after["max_ongoing_requests"] == before["max_ongoing_requests"]
        assert after.get("ray_actor_options", {}).get("num_gpus", 0) == 0
    graph = deployment_names(parse_gateway_config(cpu["args"]))
    assert graph == deployment_names(parse_gateway_config(prod["args"]))
    assert graph == {d["name"] for d in prod["deployments"]}, "every deployment the graph makes has prod settings"


def test_a_min_replicas_one_deployment_can_scale_and_ingress_has_two_replicas() -> None:
    deployments = {d["name"]: d for d in _app(prod_on_cpu())["deployments"]}
    assert deployments["Ingress"]["autoscaling_config"]["min_replicas"] == 2
    anthropic = deployments["AnthropicProxy"]["autoscaling_config"]
    assert anthropic["min_replicas"] == 1 and anthropic["max_replicas"] > 1


def test_merge_rules() -> None:
    base = {"a": {"b": 1, "c": 2}, "xs": [{"name": "n1", "v": 1}, {"name": "n2", "v": 2}],
            "targets": [{"m": 1, "k": 1}, {"m": 2}], "plain": [1, 2]}
    overlay = {"a": {"c": None}, "xs": [{"name": "n2", "v": 3}], "targets": [{"k": 9}], "plain": [3]}
    merged = merge(base, overlay)
    assert merged == {"a": {"b": 1}, "xs": [{"name": "n1", "v": 1}, {"name": "n2", "v": 3}],
                      "targets": [{"m": 1, "k": 9}, {"m": 2}], "plain": [3]}
    assert changed_paths(base, merged) == ["a.c", "plain", "targets[0].k", "xs[n2].v"]
    with pytest.raises(ValueError, match="does not have"):
        merge(base, {"xs": [{"name": "n3"}]})
