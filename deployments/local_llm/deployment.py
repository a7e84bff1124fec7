"""Build the local tier's deployment from the gateway config with Ray Serve LLM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ray.serve.llm import LLMConfig, build_llm_deployment

from deployments.local_llm.server import LocalLLMServer
from tollgate_core.config import LocalLLMConfig

__all__ = ["LOCAL_LLM_DEPLOYMENT", "build_local_llm", "to_llm_config"]

LOCAL_LLM_DEPLOYMENT = "LocalLLM"
PREFIX_ROUTER = "ray.serve.llm.request_router.PrefixCacheAffinityRouter"


def to_llm_config(cfg: LocalLLMConfig, data_dir: Path) -> LLMConfig:
    """The Ray Serve LLM config for the local tier."""
    options: dict[str, Any] = {
        "model_loading_config": {"model_id": cfg.model_id, "model_source": cfg.resolved_model_source(data_dir)},
        "engine_kwargs": dict(cfg.engine_kwargs),
        "placement_group_config": {"bundles": [dict(b) for b in cfg.placement_bundles]},
    }
    if cfg.accelerator_type:
        options["accelerator_type"] = cfg.accelerator_type
    if cfg.runtime_env:
        options["runtime_env"] = dict(cfg.runtime_env)
    if cfg.prefix_affinity:
        options["deployment_config"] = {"request_router_config": {"request_router_class": PREFIX_ROUTER}}
    return LLMConfig(**options)


def build_local_llm(cfg: LocalLLMConfig, data_dir: Path) -> Any:
    """A bound ``LocalLLMServer`` deployment named ``LocalLLM``."""
    return build_llm_deployment(
        to_llm_config(cfg, data_dir),
        deployment_cls=LocalLLMServer,
        override_serve_options={"name": LOCAL_LLM_DEPLOYMENT},
    )
