"""Config validation: a wrong config fails at start with a message that names the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from serve_app.cli.main import check_config, main
from tollgate_core.config import ProviderKind, TargetConfig, parse_gateway_config
from tollgate_core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def _args(**over: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "models": {"m": {"targets": [{"provider": "openai", "model": "gpt-4o", "api_key_env": "K"}]}},
    }
    args.update(over)
    return args


def test_minimal_config_is_valid() -> None:
    config = parse_gateway_config(_args())
    target = config.models["m"].targets[0]
    assert target.provider is ProviderKind.OPENAI
    assert target.base_url == "https://api.openai.com/v1"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (_args(modelz={}), "args.modelz"),
        (_args(models={"m": {"targets": []}}), "args.models.m.targets"),
        (_args(models={"m": {"targets": [{"provider": "openia", "model": "x"}]}}), "args.models.m.targets.0.provider"),
        (_args(models={"m": {"targets": [{"provider": "openai", "model": "x", "api_key_env": "K",
                                          "prices": {"input": -1}}]}}), "args.models.m.targets.0.prices.input"),
        (_args(server={"max_request_bytes": 0}), "args.server.max_request_bytes"),
        (_args(profile="staging"), "args.profile"),
    ],
    ids=["unknown-top-level", "no-targets", "bad-provider", "negative-price", "zero-body-limit", "bad-profile"],
)
def test_bad_field_is_named(args: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_gateway_config(args)
    assert field in info.value.message


@pytest.mark.parametrize(
    ("target", "needle"),
    [
        ({"provider": "azure", "model": "d", "api_key_env": "K", "api_version": "v"}, "api_base"),
        ({"provider": "azure", "model": "d", "api_key_env": "K", "api_base": "https://x"}, "api_version"),
        ({"provider": "bedrock", "model": "anthropic.claude"}, "region"),
        ({"provider": "anthropic", "model": "claude"}, "api_key_env"),
    ],
    ids=["azure-base", "azure-version", "bedrock-region", "anthropic-key"],
)
def test_kind_specific_fields_are_required(target: dict[str, Any], needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_gateway_config(_args(models={"m": {"targets": [target]}}))
    assert needle in info.value.message


def test_local_target_needs_matching_local_llm() -> None:
    local = {"models": {"m": {"targets": [{"provider": "local", "model": "smollm2"}]}}}
    with pytest.raises(ConfigError, match="needs local_llm"):
        parse_gateway_config(local)
    with pytest.raises(ConfigError, match="must match"):
        parse_gateway_config({**local, "local_llm": {"model_id": "other"}})
    assert parse_gateway_config({**local, "local_llm": {"model_id": "smollm2"}}).local_llm is not None


def test_generated_master_key_only_in_local_profile() -> None:
    with pytest.raises(ConfigError, match="generate_master_key"):
        parse_gateway_config(_args(profile="prod", auth={"generate_master_key": True}))


def test_availability_follows_key_variables() -> None:
    openai = TargetConfig(provider=ProviderKind.OPENAI, model="x", api_key_env="K")
    assert openai.unavailable_reason({}) == "environment variable K is not set"
    assert openai.unavailable_reason({"K": "sk"}) is None
    azure = TargetConfig(provider=ProviderKind.AZURE, model="d", api_key_env="K", api_version="v",
                         api_base="${AZ_ENDPOINT}")
    assert "AZ_ENDPOINT" in (azure.unavailable_reason({"K": "k"}) or "")
    bedrock = TargetConfig(provider=ProviderKind.BEDROCK, model="m", region="us-east-1")
    assert bedrock.unavailable_reason({}) is not None
    assert bedrock.unavailable_reason({"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}) is None
    assert bedrock.base_url == "https://bedrock-runtime.us-east-1.amazonaws.com"


@pytest.mark.parametrize("name", ["local.yaml", "prod.yaml"])
def test_shipped_configs_pass_config_check(name: str) -> None:
    summaries = check_config(str(ROOT / "configs" / name))
    assert summaries and all(": OK" in s for s in summaries)


def test_config_check_names_the_bad_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (ROOT / "configs" / "local.yaml").read_text().replace("max_request_bytes:", "max_request_byte:")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    assert main(["config", "check", str(bad)]) == 1
    assert "args.server.max_request_byte" in capsys.readouterr().err


def test_config_check_uses_rays_schema(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("applications:\n  - name: x\n    import_path: serve_app.app:build_app\n    route_prefix: 7\n")
    with pytest.raises(ConfigError, match="not a valid Ray Serve config"):
        check_config(str(bad))


def test_config_check_rejects_unknown_deployment_names(tmp_path: Path) -> None:
    text = (ROOT / "configs" / "prod.yaml").read_text().replace("- name: OpenAIProxy", "- name: OpenAIProxi")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(ConfigError, match="OpenAIProxi"):
        check_config(str(bad))


def test_config_check_rejects_options_for_a_deployment_the_app_does_not_create(tmp_path: Path) -> None:
    import yaml

    data = yaml.safe_load((ROOT / "configs" / "prod.yaml").read_text())
    models = data["applications"][0]["args"]["models"]
    del models["claude-3-5-sonnet"]
    for model in models.values():
        model.pop("fallbacks", None)
    data["applications"][0]["args"]["tiering"]["policies"]["auto-quality"]["tier2"] = "gpt-4o"  # was claude
    bad = tmp_path / "no-anthropic.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="AnthropicProxy is not created"):
        check_config(str(bad))
    # configs/local.yaml calls the providers from the Ingress: a proxy deployment's entry there is refused too.
    local = yaml.safe_load((ROOT / "configs" / "local.yaml").read_text())
    local["applications"][0]["deployments"].append({"name": "OpenAIProxy", "max_ongoing_requests": 256})
    bad.write_text(yaml.safe_dump(local))
    with pytest.raises(ConfigError, match="OpenAIProxy is not created .*proxy_placement: ingress"):
        check_config(str(bad))


@pytest.mark.parametrize("url", ["mysql://db/x", "redis://cache"], ids=["mysql", "redis"])
def test_state_url_scheme_is_checked(url: str) -> None:
    with pytest.raises(ConfigError, match="state.url"):
        parse_gateway_config(_args(state={"url": url}))


def test_state_url_defaults_to_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    config = parse_gateway_config(_args())
    assert config.state.resolved_url(tmp_path) == f"sqlite:///{tmp_path / 'state.db'}"


def test_state_url_names_an_unset_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = parse_gateway_config(_args(state={"url": "${TG_TEST_DB_URL}"}))
    monkeypatch.delenv("TG_TEST_DB_URL", raising=False)
    with pytest.raises(ConfigError, match="TG_TEST_DB_URL"):
        config.state.resolved_url(tmp_path)
    monkeypatch.setenv("TG_TEST_DB_URL", "postgresql://u@h:5432/d")
    assert config.state.resolved_url(tmp_path) == "postgresql://u@h:5432/d"


def test_deployment_options_for_a_deployment_the_app_does_not_create_are_refused() -> None:
    from serve_app.app import build_app_with_options

    with pytest.raises(ConfigError, match="BedrockProxy"):
        build_app_with_options(_args(), {"BedrockProxy": {"num_replicas": 2}})


def test_serve_accepts_build_app_as_the_import_path_builder() -> None:
    """`serve run configs/*.yaml` calls build_app through this check (one parameter, the args dict)."""
    from ray.serve._private.api import call_user_app_builder_with_args_if_necessary
    from ray.serve.deployment import Application

    from serve_app.app import build_app

    app = call_user_app_builder_with_args_if_necessary(build_app, _args())
    assert isinstance(app, Application)
