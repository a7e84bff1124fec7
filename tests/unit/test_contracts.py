"""What crosses a Ray call is checked where it enters the ingress: a replica of another version (mid-rollout) that
answers in another shape gives a clear upstream error, not a KeyError deep in the pipeline."""

from __future__ import annotations

from typing import Any

import pytest

from deployments.guardrail.guard import GuardVerdict
from deployments.guardrail.injection_request import InjectionVerdict
from serve_app.pipeline.backends import RayBackend, RayGuardrailLink
from tollgate_core.contracts import provider_reply
from tollgate_core.errors import UpstreamError


class _Remote:
    def __init__(self, value: Any) -> None:
        self._value = value

    async def remote(self, *args: Any) -> Any:
        return self._value


class _Handle:
    """A Serve handle whose every method answers ``value``."""

    def __init__(self, value: Any) -> None:
        self._value = value

    def options(self, **_: Any) -> _Handle:
        return self

    def __getattr__(self, name: str) -> _Remote:
        return _Remote(self._value)


def test_a_provider_reply_is_checked() -> None:
    reply = {"body": {"id": "x", "choices": []}, "headers": {}, "upstream_ms": 12.5}
    assert provider_reply(reply, "OpenAIProxy") == reply
    with pytest.raises(UpstreamError, match="OpenAIProxy answered in an unexpected shape"):
        provider_reply({"body": {}, "headers": {}}, "OpenAIProxy")
    with pytest.raises(UpstreamError):
        provider_reply({"body": "not an object", "headers": {}, "upstream_ms": 1.0}, "OpenAIProxy")


async def test_the_ray_backend_checks_what_a_proxy_answers() -> None:
    good = {"body": {"choices": []}, "headers": {"x-ratelimit-remaining-requests": "9"}, "upstream_ms": 3.0}
    assert await RayBackend(_Handle(good), "openai").complete("m", 0, {}) == good
    with pytest.raises(UpstreamError, match="openai answered in an unexpected shape"):
        await RayBackend(_Handle({"choices": []}), "openai").complete("m", 0, {})


async def test_the_guardrail_link_takes_only_a_verdict() -> None:
    verdict = GuardVerdict("allow", ["hi"], {}, {}, InjectionVerdict())
    assert await RayGuardrailLink(_Handle(verdict)).check(["hi"], "external", "default") == verdict
    with pytest.raises(UpstreamError, match="Guardrail answered with dict, not GuardVerdict"):
        await RayGuardrailLink(_Handle({"decision": "allow"})).check(["hi"], "external", "default")
