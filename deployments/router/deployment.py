"""The Router deployment: the aggregate of every ingress replica's observations.

Ingress replicas call :meth:`Router.exchange` every ``routing.sync_interval_s``
with what they saw since the last call and load the merged state it returns,
so routing decisions never wait on this deployment. Keep it at one replica:
it is the place where observations meet (several replicas would each see a
share and converge more slowly).
"""

from __future__ import annotations

from typing import Any

from ray import serve

from deployments.router.board import BoardSnapshot, Observation, TargetBoard
from tollgate_core.config import parse_gateway_config

__all__ = ["Router"]


@serve.deployment(name="Router", max_ongoing_requests=1000, ray_actor_options={"num_cpus": 0})
class Router:
    """Aggregates target statistics and circuit state across ingress replicas."""

    def __init__(self, gateway_args: dict[str, Any]) -> None:
        config = parse_gateway_config(gateway_args)
        self._board = TargetBoard(config.routing.circuit)

    async def exchange(self, observations: list[Observation]) -> BoardSnapshot:
        for obs in observations:
            if not isinstance(obs, Observation):
                raise TypeError(f"Router.exchange takes Observations, not {type(obs).__name__}")
            self._board.record(obs)
        return self._board.snapshot()

    async def reset(self) -> None:
        self._board.reset()

    async def check_health(self) -> None:
        return None
