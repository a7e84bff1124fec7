"""``build_app``: the Serve application builder named by ``import_path`` in configs/*.yaml."""

from __future__ import annotations

from typing import Any

from ray.serve import Application

from serve_app.config import GatewayConfig, ProviderKind, parse_gateway_config

__all__ = ["build_app", "deployment_names"]

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
    return {"Ingress", "Router"} | {_PROXY_FOR_KIND[kind] for kind in config.provider_kinds()}


def build_app(args: dict[str, Any]) -> Application:
    """Validate ``args`` and bind the graph: Ingress → Router (statistics) and provider proxies / local tier."""
    config = parse_gateway_config(args)
    return _bind(config, args)


def _bind(config: GatewayConfig, args: dict[str, Any]) -> Application:
    from deployments.providers.deployment import AnthropicProxy, BedrockProxy, OpenAIProxy
    from deployments.router.deployment import Router
    from serve_app.ingress import Ingress

    names = deployment_names(config)
    backends: dict[str, Any] = {}
    if "OpenAIProxy" in names:
        backends[ProviderKind.OPENAI.value] = OpenAIProxy.bind(args)
    if "AnthropicProxy" in names:
        backends[ProviderKind.ANTHROPIC.value] = AnthropicProxy.bind(args)
    if "BedrockProxy" in names:
        backends[ProviderKind.BEDROCK.value] = BedrockProxy.bind(args)
    if "LocalLLM" in names and config.local_llm is not None:
        from deployments.local_llm.deployment import build_local_llm

        backends[ProviderKind.LOCAL.value] = build_local_llm(config.local_llm, config.server.resolved_data_dir())
    return Ingress.bind(args, backends, Router.bind(args))
