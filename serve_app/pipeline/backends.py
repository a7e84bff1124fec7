"""Backends the ingress calls (provider proxies, the local tier), and the Ray seam.

:class:`Backend` is what the gateway logic needs; :class:`RayBackend` adapts a
Serve ``DeploymentHandle`` to it and is the one place Ray's exceptions become
gateway errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol, TypeVar

from deployments.cache.service import CacheKey, Lookup
from deployments.guardrail.guard import GuardVerdict
from deployments.router.board import BoardSnapshot, Observation
from deployments.tiering.service import TierVerdict
from tollgate_core.contracts import ProviderReply, provider_reply
from tollgate_core.errors import TollgateError, UpstreamError, UpstreamTimeoutError, UpstreamUnavailableError

__all__ = ["Backend", "InProcessBackend", "RayBackend", "RayCacheLink", "RayGuardrailLink", "RayJudgeLink", "RayRouterLink", "RayTierLink", "expect", "translate_ray_error"]


class Backend(Protocol):
    """A deployment that answers chat requests for catalog targets."""

    async def complete(self, model: str, index: int, request: dict[str, Any]) -> ProviderReply:
        ...

    def complete_stream(self, model: str, index: int, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        ...

    async def embed(self, model: str, index: int, request: dict[str, Any]) -> ProviderReply:
        ...

    async def check_health(self, timeout_s: float) -> None:
        ...


def translate_ray_error(exc: BaseException, name: str) -> TollgateError:
    """A Ray or Serve exception as the gateway error a client should see."""
    from ray import exceptions as ray_exc
    from ray.serve import exceptions as serve_exc

    # RayTaskError first: Ray's wrapper also subclasses the cause's class, but its class
    # attributes (status_code, error_type, code) would shadow the cause's own values.
    if isinstance(exc, ray_exc.RayTaskError):
        cause = exc.cause
        if isinstance(cause, TollgateError):
            return cause
        return UpstreamError(f"{name} failed: {type(cause).__name__ if cause else 'error'}")
    if isinstance(exc, TollgateError):
        return exc
    if isinstance(exc, serve_exc.BackPressureError):
        return UpstreamUnavailableError(f"{name} is overloaded; retry shortly", retry_after=1)
    if isinstance(exc, (serve_exc.DeploymentUnavailableError, ray_exc.RayActorError, ray_exc.ActorUnavailableError)):
        return UpstreamUnavailableError(f"{name} is not available right now; retry shortly", retry_after=1)
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return UpstreamTimeoutError(f"{name} did not answer in time")
    return UpstreamError(f"{name} failed: {type(exc).__name__}")


T = TypeVar("T")


def expect(value: Any, kind: type[T], name: str) -> T:
    """A deployment's answer checked where it enters the ingress (a replica of another version may differ)."""
    if not isinstance(value, kind):
        raise UpstreamError(f"{name} answered with {type(value).__name__}, not {kind.__name__}")
    return value


class RayBackend:
    """A Serve deployment handle seen as a :class:`Backend`."""

    def __init__(self, handle: Any, name: str) -> None:
        self._handle = handle
        self._stream_handle = handle.options(stream=True)
        self._name = name

    async def complete(self, model: str, index: int, request: dict[str, Any]) -> ProviderReply:
        try:
            result = await self._handle.complete.remote(model, index, request)
        except Exception as exc:
            raise translate_ray_error(exc, self._name) from exc
        return provider_reply(result, self._name)

    async def embed(self, model: str, index: int, request: dict[str, Any]) -> ProviderReply:
        try:
            result = await self._handle.embed.remote(model, index, request)
        except Exception as exc:
            raise translate_ray_error(exc, self._name) from exc
        return provider_reply(result, self._name)

    async def complete_stream(self, model: str, index: int, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        generator = self._stream_handle.complete_stream.remote(model, index, request)
        finished = False
        try:
            async for item in generator:
                yield item
            finished = True
        except Exception as exc:
            finished = True
            raise translate_ray_error(exc, self._name) from exc
        finally:
            if not finished:
                # The client went away: stop the upstream call too.
                generator.cancel()

    async def check_health(self, timeout_s: float) -> None:
        try:
            await asyncio.wait_for(self._handle.check_health.remote(), timeout_s)
        except Exception as exc:
            raise translate_ray_error(exc, self._name) from exc


class InProcessBackend:
    """A provider proxy in the calling process (``routing.proxy_placement: ingress``, tests): the same calls the
    proxy deployment's handle takes, without the hop."""

    def __init__(self, proxy: Any) -> None:
        self._proxy = proxy  # deployments.providers.proxy.ProviderProxy

    async def complete(self, model: str, index: int, request: dict[str, Any]) -> ProviderReply:
        return await self._proxy.complete(model, index, request)  # type: ignore[no-any-return]

    async def complete_stream(self, model: str, index: int, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        async for item in self._proxy.complete_stream(model, index, request):
            yield item

    async def embed(self, model: str, index: int, request: dict[str, Any]) -> ProviderReply:
        return await self._proxy.embed(model, index, request)  # type: ignore[no-any-return]

    async def check_health(self, timeout_s: float) -> None:
        return None

    async def aclose(self) -> None:
        await self._proxy.aclose()


class RayRouterLink:
    """The Router deployment's handle as a :class:`deployments.router.failover.RouterLink`."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    async def exchange(self, observations: list[Observation]) -> BoardSnapshot:
        try:
            snapshot: BoardSnapshot = await self._handle.exchange.remote(observations)
        except Exception as exc:
            raise translate_ray_error(exc, "Router") from exc
        return snapshot

    async def reset(self) -> None:
        try:
            await self._handle.reset.remote()
        except Exception as exc:
            raise translate_ray_error(exc, "Router") from exc


class RayGuardrailLink:
    """The Guardrail deployment behind a Serve handle."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    async def check(self, texts: list[str], destination: str, policy: str,
                    origins: Sequence[Sequence[Any]] | None = None) -> GuardVerdict:
        try:
            result = await self._handle.check.remote(texts, destination, policy, origins)
        except Exception as exc:
            raise translate_ray_error(exc, "Guardrail") from exc
        return expect(result, GuardVerdict, "Guardrail")


class RayJudgeLink:
    """The Judge deployment behind a Serve handle."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    async def judge(self, calls: list[tuple[str, dict[str, Any]]], messages: list[dict[str, Any]], answer: str,
                    context: str | None) -> list[dict[str, Any]]:
        try:
            return list(await self._handle.judge.remote(calls, messages, answer, context))
        except Exception as exc:
            raise translate_ray_error(exc, "Judge") from exc


class RayCacheLink:
    """The SemanticCache deployment behind a Serve handle."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    async def _call(self, method: str, *args: Any) -> Any:
        try:
            return await getattr(self._handle, method).remote(*args)
        except Exception as exc:
            raise translate_ray_error(exc, "SemanticCache") from exc

    async def lookup(self, key: CacheKey, semantic: bool) -> Lookup:
        return expect(await self._call("lookup", key, semantic), Lookup, "SemanticCache")

    async def store(self, key: CacheKey, response: dict[str, Any], ttl_s: float, vector: list[float] | None) -> None:
        await self._call("store", key, response, ttl_s, vector)

    async def purge(self, *, tenant: str | None = None, model: str | None = None,
                    older_than_s: float | None = None) -> int:
        return int(await self._call("purge", tenant, model, older_than_s))

    async def stats(self) -> dict[str, Any]:
        return dict(await self._call("stats"))

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return list(await self._call("embed", texts))


class RayTierLink:
    """The TierClassifier deployment behind a Serve handle."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    async def classify(self, request: dict[str, Any], vector: list[float] | None) -> TierVerdict:
        try:
            result = await self._handle.classify.remote(request, vector)
        except Exception as exc:
            raise translate_ray_error(exc, "TierClassifier") from exc
        return expect(result, TierVerdict, "TierClassifier")
