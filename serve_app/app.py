"""``build_app``: the Serve application builder named by ``import_path`` in configs/*.yaml."""

from __future__ import annotations

from typing import Any

from ray.serve import Application

from tollgate_core.config import GatewayConfig, ProviderKind, parse_gateway_config
from tollgate_core.errors import ConfigError

__all__ = ["build_app", "build_app_with_options", "deployment_names"]

# Which proxy deployment serves each provider kind (the local tier is the LocalLLM deployment).
_PROXY_FOR_KIND = {
    ProviderKind.OPENAI: "OpenAIProxy",
    ProviderKind.AZURE: "OpenAIProxy",
    ProviderKind.ANTHROPIC: "AnthropicProxy",
    ProviderKind.BEDROCK: "BedrockProxy",
    ProviderKind.LOCAL: "LocalLLM",
}


def deployment_names(config: GatewayConfig) -> set[str]:
    """The deployments ``build_app`` creates for this config: a backend only where a target needs it."""
    rails = config.guardrails
    guardrail = {"Guardrail"} if rails.enabled and rails.placement == "deployment" else set()
    cache = {"SemanticCache"} if config.cache.enabled else set()
    tiers = {"TierClassifier"} if config.tiering.active and config.tiering.placement == "deployment" else set()
    judge = {"Judge"} if config.judges.needs_deployment else set()
    in_ingress = config.routing.proxy_placement == "ingress"
    backends = {_PROXY_FOR_KIND[kind] for kind in config.provider_kinds()
                if kind is ProviderKind.LOCAL or not in_ingress}
    return {"Ingress", "Router"} | guardrail | cache | tiers | judge | backends


def build_app(args: dict[str, Any]) -> Application:
    """Validate ``args`` and bind the graph: Ingress → Guardrail, SemanticCache, TierClassifier (→ SemanticCache for
    embeddings), Judge, Router (statistics) and provider proxies / local tier.

    Serve calls this with the config's ``args``; it requires a builder with exactly one parameter.
    """
    return build_app_with_options(args, {})


def build_app_with_options(args: dict[str, Any], deployment_options: dict[str, dict[str, Any]]) -> Application:
    """``build_app`` with per-deployment options (e.g. ``{"Ingress": {"num_replicas": 2}}``): in Python what a
    Serve config's ``deployments:`` list does in YAML."""
    config = parse_gateway_config(args)
    return _bind(config, args, deployment_options)


def _bind(config: GatewayConfig, args: dict[str, Any], options: dict[str, dict[str, Any]]) -> Application:
    from deployments.providers.deployment import AnthropicProxy, BedrockProxy, OpenAIProxy
    from deployments.router.deployment import Router
    from serve_app.ingress import Ingress

    names = deployment_names(config)
    backends: dict[str, Any] = {}
    unknown = set(options) - (names - {"LocalLLM"})
    if unknown:
        raise ConfigError(
            f"deployment_options for {sorted(unknown)}: this config creates {sorted(names)}, and the local tier's "
            "options come from local_llm in the args"
        )
    if "OpenAIProxy" in names:
        backends[ProviderKind.OPENAI.value] = OpenAIProxy.options(**options.get("OpenAIProxy", {})).bind(args)
    if "AnthropicProxy" in names:
        backends[ProviderKind.ANTHROPIC.value] = AnthropicProxy.options(**options.get("AnthropicProxy", {})).bind(args)
    if "BedrockProxy" in names:
        backends[ProviderKind.BEDROCK.value] = BedrockProxy.options(**options.get("BedrockProxy", {})).bind(args)
    if "LocalLLM" in names and config.local_llm is not None:
        from deployments.local_llm.deployment import build_local_llm

        backends[ProviderKind.LOCAL.value] = build_local_llm(config.local_llm, config.server.resolved_data_dir())
    router = Router.options(**options.get("Router", {})).bind(args)
    guardrail = None
    if "Guardrail" in names:
        from deployments.guardrail.deployment import Guardrail

        guardrail = Guardrail.options(**options.get("Guardrail", {})).bind(args)
    cache = None
    if "SemanticCache" in names:
        from deployments.cache.deployment import SemanticCache

        cache = SemanticCache.options(**options.get("SemanticCache", {})).bind(args)
    tiers = None
    if "TierClassifier" in names:
        from deployments.tiering.deployment import TierClassifier

        tiers = TierClassifier.options(**options.get("TierClassifier", {})).bind(args, cache)
    judge = None
    if "Judge" in names:
        from deployments.judges.deployment import Judge

        judge = Judge.options(**options.get("Judge", {})).bind(args)
    return Ingress.options(**options.get("Ingress", {})).bind(args, backends, router, guardrail, cache, tiers, judge)
