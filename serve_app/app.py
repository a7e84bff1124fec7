"""``build_app``: the Serve application builder named by ``import_path`` in configs/*.yaml."""

from __future__ import annotations

from typing import Any

from ray.serve import Application

from serve_app.config import GatewayConfig, ProviderKind, parse_gateway_config

__all__ = ["build_app"]


def build_app(args: dict[str, Any]) -> Application:
    """Validate ``args`` and bind the graph: Ingress → Router (statistics) and provider proxies / local tier."""
    config = parse_gateway_config(args)
    return _bind(config, args)


def _bind(config: GatewayConfig, args: dict[str, Any]) -> Application:
    from deployments.providers.deployment import AnthropicProxy, BedrockProxy, OpenAIProxy
    from deployments.router.deployment import Router
    from serve_app.ingress import Ingress

    kinds = config.provider_kinds()
    backends: dict[str, Any] = {}
    if kinds & {ProviderKind.OPENAI, ProviderKind.AZURE}:
        backends[ProviderKind.OPENAI.value] = OpenAIProxy.bind(args)
    if ProviderKind.ANTHROPIC in kinds:
        backends[ProviderKind.ANTHROPIC.value] = AnthropicProxy.bind(args)
    if ProviderKind.BEDROCK in kinds:
        backends[ProviderKind.BEDROCK.value] = BedrockProxy.bind(args)
    if ProviderKind.LOCAL in kinds and config.local_llm is not None and config.local_llm.enabled:
        from deployments.local_llm.deployment import build_local_llm

        backends[ProviderKind.LOCAL.value] = build_local_llm(config.local_llm, config.server.resolved_data_dir())
    return Ingress.bind(args, backends, Router.bind(args))
