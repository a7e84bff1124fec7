"""Tiering policies in the config: validation, which policy a request names, and what a score routes to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deployments.guardrail.step import destination_for
from deployments.tiering.service import TierVerdict
from deployments.tiering.step import policy_for, route_for
from serve_app.governance.costing import worst_case_prices
from tests.unit.cache.conftest import team_principal
from tollgate_core.catalog import models_reachable
from tollgate_core.config import parse_gateway_config
from tollgate_core.entities import MASTER
from tollgate_core.errors import ConfigError

MODELS = {
    "local": {"targets": [{"provider": "local", "model": "smollm2"}]},
    "mini": {"targets": [{"provider": "openai", "model": "gpt-4o-mini", "api_key_env": "K", "prices": {"input": 0.15, "output": 0.6}}]},
    "big": {"fallbacks": ["mini"],
            "targets": [{"provider": "openai", "model": "gpt-4o", "api_key_env": "K", "prices": {"input": 2.5, "output": 10.0}}]},
}


def _config(tiering: dict[str, Any]) -> Any:
    return parse_gateway_config({"models": MODELS, "local_llm": {"model_id": "smollm2"}, "tiering": tiering})


POLICIES = {"auto": {"tier1": "local", "tier2": "big"},
            "auto-cheap": {"tier1": "local", "tier2": "mini", "threshold": 0.8}}


@pytest.mark.parametrize(("tiering", "problem"), [
    ({"policies": {"big": {"tier1": "local", "tier2": "mini"}}}, "cannot have the name of a catalog model"),
    ({"policies": {"auto": {"tier1": "nope", "tier2": "big"}}}, "tiering.policies.auto.tier1: 'nope' is not a model"),
    ({"policies": {"auto": {"tier1": "local", "tier2": "big", "threshold": 1.5}}}, "threshold"),
    ({"policies": POLICIES, "teams": {"acme/ml": "auto-fast"}}, "tiering.teams.acme/ml: 'auto-fast' is not a policy"),
    ({"policies": POLICIES, "keys": {"key-1": "gone"}}, "tiering.keys.key-1: 'gone' is not a policy"),
])
def test_bad_policies_are_refused_at_start_with_the_field_named(tiering: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        _config(tiering)
    assert problem in err.value.message


def test_auto_means_the_keys_then_the_teams_default_then_the_auto_policy() -> None:
    config = _config({"policies": {**POLICIES, "auto-quality": {"tier1": "mini", "tier2": "big"}},
                      "teams": {"acme/ml": "auto-cheap"}, "keys": {"key-vip": "auto-quality"}})
    assert policy_for(config, MASTER, "auto") == "auto"
    assert policy_for(config, team_principal("ml"), "auto") == "auto-cheap"
    assert policy_for(config, team_principal("ml", key="key-vip"), "auto") == "auto-quality"
    assert policy_for(config, team_principal("ml"), "auto-quality") == "auto-quality"  # a named policy is explicit
    assert policy_for(config, MASTER, "big") is None


def test_without_policies_or_when_disabled_nothing_is_a_policy() -> None:
    assert policy_for(_config({}), MASTER, "auto") is None
    assert policy_for(_config({"policies": POLICIES, "enabled": False}), MASTER, "auto") is None


def test_a_score_routes_by_the_policys_threshold_and_a_missing_one_to_tier_2() -> None:
    config = _config({"policies": POLICIES})
    low = route_for(config, "auto", TierVerdict(0.2, drivers=(("embedding", -1.0),)))
    assert (low.tier, low.model, low.escalation, low.drivers) == (1, "local", ("big",), (("embedding", -1.0),))
    assert route_for(config, "auto", TierVerdict(0.5)).model == "big"  # at the threshold: Tier 2
    assert route_for(config, "auto-cheap", TierVerdict(0.7)).model == "local"
    failed = route_for(config, "auto", None)
    assert (failed.tier, failed.model, failed.score) == (2, "big", None)
    assert failed.headers() == {"x-tollgate-tier-policy": "auto"}
    assert low.headers() == {"x-tollgate-tier-policy": "auto", "x-tollgate-tier-score": "0.2000"}


def test_a_policy_reserves_and_redacts_for_the_worst_model_it_may_reach() -> None:
    config = _config({"policies": POLICIES})
    assert set(models_reachable(config, "auto")) == {"local", "big", "mini"}
    assert worst_case_prices(config, "auto") == (2.5, 10.0)
    assert worst_case_prices(config, "auto-cheap") == (0.15, 0.6)
    assert destination_for(config, "auto") == "external"
    assert destination_for(config, "local") == "internal"


def test_config_check_says_why_a_tier_classifier_entry_is_not_created(tmp_path: Path) -> None:
    import yaml

    from serve_app.cli.main import check_config

    root = Path(__file__).resolve().parents[3]
    data = yaml.safe_load((root / "configs" / "prod.yaml").read_text())  # placement: deployment
    data["applications"][0]["args"]["tiering"]["enabled"] = False
    path = tmp_path / "no-tiering.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="TierClassifier is not created by this config \\(no tiering policy"):
        check_config(str(path))


def test_the_tier_classifier_deployment_exists_only_where_it_scores() -> None:
    from serve_app.app import deployment_names

    assert "TierClassifier" in deployment_names(_config({"policies": POLICIES}))
    assert "TierClassifier" not in deployment_names(_config({"policies": POLICIES, "placement": "ingress"}))
    assert "TierClassifier" not in deployment_names(_config({}))
