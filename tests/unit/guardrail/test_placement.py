"""``guardrails.placement``: the Guardrail deployment, or the scan in each Ingress replica (no hop), where a long
request is scanned on a worker thread so the event loop keeps serving the others."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from deployments.guardrail.service import GuardrailService
from deployments.guardrail.step import LocalGuardrailLink
from serve_app.app import deployment_names
from tollgate_core.config import parse_gateway_config

MODELS = {"m": {"targets": [{"provider": "openai", "model": "m", "api_base": "http://127.0.0.1:9/v1",
                             "api_key_env": "UNIT_KEY"}]}}


@pytest.mark.parametrize(("guardrails", "deployed"), [
    ({}, True),
    ({"placement": "deployment"}, True),
    ({"placement": "ingress"}, False),
    ({"enabled": False}, False),
])
def test_the_graph_has_a_guardrail_deployment_only_where_it_scans(guardrails: dict[str, Any], deployed: bool) -> None:
    names = deployment_names(parse_gateway_config({"models": MODELS, "guardrails": guardrails}))
    assert ("Guardrail" in names) is deployed


@pytest.mark.parametrize(("text", "on_the_loop"), [("mail jane.doe@example.com", True),
                                                   ("mail jane.doe@example.com " + "word " * 2000, False)])
async def test_a_long_request_is_scanned_off_the_event_loop(text: str, on_the_loop: bool) -> None:
    service = GuardrailService({}, {}, {})
    threads: list[int] = []
    scan = service.check

    def recording_check(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return scan(*args, **kwargs)

    service.check = recording_check  # type: ignore[method-assign]
    verdict = await LocalGuardrailLink(service, inline_max_chars=4000).check([text], "external", "default")
    assert verdict.counts.get("EMAIL") == 1  # redacted either way
    assert (threads == [threading.get_ident()]) is on_the_loop


def test_the_ingress_scans_in_process_with_placement_ingress() -> None:
    from serve_app.ingress import _guardrail
    from serve_app.pipeline.backends import RayGuardrailLink

    guards, link = _guardrail(parse_gateway_config({"models": MODELS, "guardrails": {"placement": "ingress"}}), None)
    assert isinstance(link, LocalGuardrailLink) and isinstance(guards, GuardrailService)
    _, deployed = _guardrail(parse_gateway_config({"models": MODELS}), object())
    assert isinstance(deployed, RayGuardrailLink)
    assert _guardrail(parse_gateway_config({"models": MODELS, "guardrails": {"enabled": False}}), None) == (None, None)


def test_provider_calls_from_the_ingress_leave_only_the_local_tier_deployed(monkeypatch: pytest.MonkeyPatch) -> None:
    """``routing.proxy_placement: ingress``: no proxy deployment; the Ingress calls every commercial kind through
    one in-process proxy (Azure through the OpenAI backend, as in the graph). The local tier stays deployed."""
    from serve_app.ingress import provider_backends
    from serve_app.pipeline.backends import InProcessBackend, RayBackend
    from tollgate_core.config import ProviderKind

    monkeypatch.setenv("UNIT_ANTHROPIC_KEY", "k")
    models = {**MODELS, "claude": {"targets": [{"provider": "anthropic", "model": "claude", "api_key_env": "UNIT_KEY",
                                                "api_base": "http://127.0.0.1:9"}]},
              "azure": {"targets": [{"provider": "azure", "model": "gpt", "api_key_env": "UNIT_KEY",
                                     "api_base": "https://x.openai.azure.com", "api_version": "2024-10-21"}]}}
    placed = parse_gateway_config({"models": models, "routing": {"proxy_placement": "ingress"}})
    assert not {"OpenAIProxy", "AnthropicProxy"} & deployment_names(placed)
    assert {"OpenAIProxy", "AnthropicProxy"} <= deployment_names(parse_gateway_config({"models": models}))

    class Handle:
        def options(self, **_: Any) -> Handle:
            return self

    backends, local = provider_backends(placed, {"local": Handle()})
    assert isinstance(local, InProcessBackend)
    assert backends[ProviderKind.OPENAI] is local and backends[ProviderKind.ANTHROPIC] is local
    assert isinstance(backends[ProviderKind.LOCAL], RayBackend)
    deployed, none = provider_backends(parse_gateway_config({"models": models}), {"openai": Handle()})
    assert none is None and isinstance(deployed[ProviderKind.OPENAI], RayBackend)
