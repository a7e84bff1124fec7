"""The TierClassifier deployment: scales on its own, and reuses the SemanticCache's embedding.

The ingress passes the cache lookup's vector when there was a lookup; otherwise (a request that bypassed the cache)
this deployment asks the SemanticCache deployment to embed the text through its batcher, so a request is embedded
once either way. A graph without the cache (``cache.enabled: false``) loads its own copy of the model here.
"""

from __future__ import annotations

from typing import Any

from ray import serve

from deployments.tiering.service import TierClassifierService, TierVerdict, embed_via, local_embed

__all__ = ["TierClassifier"]


@serve.deployment(name="TierClassifier", max_ongoing_requests=256, ray_actor_options={"num_cpus": 0})
class TierClassifier:
    """``classify(request, vector)`` → ``{"score", "drivers", "features", "embedded", "classify_ms"}``."""

    def __init__(self, gateway_args: dict[str, Any], cache: Any = None) -> None:
        self._service = TierClassifierService(embed_via(cache.embed.remote) if cache is not None else local_embed())

    async def classify(self, request: dict[str, Any], vector: list[float] | None) -> TierVerdict:
        return await self._service.classify(request, vector)
