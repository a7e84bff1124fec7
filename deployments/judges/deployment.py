"""The Judge deployment: the judges of answers, scaled on their own (inline calls wait for it, sampled ones do not)."""

from __future__ import annotations

from typing import Any

from ray import serve

from deployments.judges.service import prepared_service, run_judges

__all__ = ["Judge"]


@serve.deployment(name="Judge", max_ongoing_requests=128, ray_actor_options={"num_cpus": 0})
class Judge:
    """``judge(calls, messages, answer, context)`` → one outcome per call (:class:`JudgeService`)."""

    def __init__(self, gateway_args: dict[str, Any]) -> None:
        from tollgate_core.config import parse_gateway_config

        self._service = prepared_service(parse_gateway_config(gateway_args).judges)

    async def judge(self, calls: list[tuple[str, dict[str, Any]]], messages: list[dict[str, Any]], answer: str,
                    context: str | None) -> list[dict[str, Any]]:
        return await run_judges(self._service, calls, messages, answer, context)
