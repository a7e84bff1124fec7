"""One gateway per test session: Ray started once, the app deployed with a catalog that
points at the fake provider server (real HTTP on 127.0.0.1) and at the real local tier."""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from serve_app.fake_providers import FakeProviderServer

MASTER_KEY = "tg-test-master-key"
LOCAL_MODEL = "llama-3-8b"

_TEST_ENV = {
    "TG_TEST_MASTER_KEY": MASTER_KEY,
    "TG_TEST_OPENAI_KEY": "sk-test-openai",
    "TG_TEST_AZURE_KEY": "azure-test-key",
    "TG_TEST_ANTHROPIC_KEY": "sk-ant-test",
    "AWS_ACCESS_KEY_ID": "AKIDTOLLGATETEST",
    "AWS_SECRET_ACCESS_KEY": "tollgate-test-secret",
    "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
    "HF_HUB_OFFLINE": "1",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _local_model_dir() -> Path:
    data_dir = Path(os.path.expanduser(os.environ.get("TOLLGATE_DATA_DIR") or "~/.tollgate"))
    return data_dir / "models" / "smollm2"


def gateway_args(fake_url: str, data_dir: str, model_dir: str) -> dict[str, Any]:
    def openai(model: str, **extra: Any) -> dict[str, Any]:
        return {"provider": "openai", "model": model, "api_base": f"{fake_url}/v1",
                "api_key_env": "TG_TEST_OPENAI_KEY", "prices": {"input": 2.5, "output": 10}, **extra}

    anthropic = {"provider": "anthropic", "model": "claude-fake", "api_base": fake_url,
                 "api_key_env": "TG_TEST_ANTHROPIC_KEY"}
    return {
        "profile": "local",
        "server": {"max_request_bytes": 65536, "data_dir": data_dir},
        "auth": {"master_key_env": "TG_TEST_MASTER_KEY"},
        "local_llm": {
            "model_id": "smollm2",
            "model_source": model_dir,
            "engine_kwargs": {"dtype": "bfloat16", "max_model_len": 2048, "enforce_eager": True},
            "placement_bundles": [{"CPU": 1}],
            "runtime_env": {"env_vars": {"VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1"}},
        },
        "models": {
            LOCAL_MODEL: {"targets": [{"provider": "local", "model": "smollm2"}]},
            "fake-openai": {"targets": [openai("gpt-4o-fake")]},
            "fake-azure": {"targets": [{
                "provider": "azure", "model": "gpt4o-deployment", "api_base": fake_url,
                "api_version": "2024-10-21", "api_key_env": "TG_TEST_AZURE_KEY", "region": "eastus"}]},
            "fake-anthropic": {"targets": [anthropic]},
            "fake-bedrock": {"targets": [{
                "provider": "bedrock", "model": "anthropic.claude-3-5-sonnet-20241022-v2:0",
                "region": "us-east-1", "api_base": fake_url}]},
            "failover": {"targets": [openai("flaky-primary"), anthropic], "policy": "priority"},
            "single-flaky": {"targets": [openai("single-flaky")]},
            "slow": {"targets": [openai("slow-model", timeout_s=1.0)]},
            "no-key": {"targets": [{"provider": "openai", "model": "x", "api_key_env": "TG_TEST_UNSET_KEY"}]},
        },
    }


@pytest.fixture(scope="session")
def fake_providers() -> Iterator[FakeProviderServer]:
    for key, value in _TEST_ENV.items():
        os.environ[key] = value
    os.environ.pop("TG_TEST_UNSET_KEY", None)
    with FakeProviderServer() as server:
        yield server


@pytest.fixture(scope="session")
def gateway_url(fake_providers: FakeProviderServer) -> Iterator[str]:
    """Start Ray and the Tollgate app once for the whole session; shut both down at the end."""
    import ray
    from ray import serve

    from serve_app.app import build_app
    from serve_app.model_prep import prepare_smollm2

    model_dir = _local_model_dir()
    prepare_smollm2(model_dir)
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="tollgate-test-") as data_dir:
        ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
        try:
            serve.start(http_options={"host": "127.0.0.1", "port": port})
            app = build_app(gateway_args(fake_providers.base_url, data_dir, str(model_dir)))
            serve.run(app, name="tollgate", route_prefix="/")
            yield f"http://127.0.0.1:{port}"
        finally:
            serve.shutdown()
            ray.shutdown()


@pytest.fixture(scope="session")
def base_url(gateway_url: str) -> str:
    return f"{gateway_url}/v1"


@pytest.fixture
def fake(fake_providers: FakeProviderServer) -> Iterator[FakeProviderServer]:
    """The fake with no faults and no recorded requests, before and after each test."""
    httpx.post(f"{fake_providers.base_url}/_fake/reset")
    yield fake_providers
    httpx.post(f"{fake_providers.base_url}/_fake/reset")


def add_fault(fake: FakeProviderServer, **rule: Any) -> None:
    httpx.post(f"{fake.base_url}/_fake/faults", json=[rule]).raise_for_status()


def recorded(fake: FakeProviderServer) -> list[dict[str, Any]]:
    return list(httpx.get(f"{fake.base_url}/_fake/requests").json())
