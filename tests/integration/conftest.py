"""One gateway per test session: Ray started once, the app deployed with a catalog that
points at the fake provider server (real HTTP on 127.0.0.1) and at the real local tier."""

from __future__ import annotations

import os
import socket
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from fake_providers.server import FakeProviderServer
from tests.postgres_server import new_schema

MASTER_KEY = "tg-test-master-key"
LOCAL_MODEL = "llama-3-8b"

_TEST_ENV = {
    "TG_TEST_MASTER_KEY": MASTER_KEY,
    "TG_TEST_OPENAI_KEY": "sk-test-openai",
    "TG_TEST_AZURE_KEY": "azure-test-key",
    "TG_TEST_ANTHROPIC_KEY": "sk-ant-test",
    "AWS_ACCESS_KEY_ID": "AKIDTOLLGATETEST",
    "AWS_SECRET_ACCESS_KEY": "tollgate-test-secret",
    # What `make run` uses: Serve's fast ingress path and HAProxy in front of it.
    "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
    "RAY_SERVE_ENABLE_HA_PROXY": "1",
    "HF_HUB_OFFLINE": "1",
    "TG_TEST_AUDIT_KEY": "tollgate-test-audit-hmac-key",
    # A Fernet key (urlsafe base64 of 32 bytes) for the teams whose texts are kept, encrypted.
    "TOLLGATE_AUDIT_ENCRYPTION_KEY": "x2Yd0q7Zp3rV9mN1kT6wB4cF8hJ5sL2aQeRtUyIoPaA=",
}
AUDIT_KEY_ENV = "TG_TEST_AUDIT_KEY"


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

    def claude(model: str = "claude-fake") -> dict[str, Any]:
        return {"provider": "anthropic", "model": model, "api_base": fake_url, "api_key_env": "TG_TEST_ANTHROPIC_KEY"}

    anthropic = claude()
    closed_port = _free_port()  # nothing listens there: connection refused
    return {
        "profile": "local",
        "server": {"max_request_bytes": 65536, "data_dir": data_dir},
        "auth": {"master_key_env": "TG_TEST_MASTER_KEY"},
        "audit": {"hmac_key_env": AUDIT_KEY_ENV},
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
            # Routing scenarios (tests/integration/test_routing.py)
            "retry-after": {"targets": [openai("ra-1"), openai("ra-2")], "policy": "priority"},
            "regions": {"targets": [openai("r-east", region="east"), openai("r-west", region="west")],
                        "policy": "priority", "fallbacks": ["backup"]},
            "backup": {"targets": [claude("claude-backup")]},
            "first-token": {"targets": [openai("ft-slow"), openai("ft-ok")], "policy": "priority"},
            "refused": {"targets": [openai("nobody", api_base=f"http://127.0.0.1:{closed_port}/v1"),
                                    openai("somebody")], "policy": "priority"},
            "balance": {"targets": [openai("bal-slow"), openai("bal-fast")]},
            "breaker": {"targets": [openai("brk-1"), openai("brk-2")], "policy": "priority"},
            "down": {"targets": [openai("down-1"), openai("down-2")]},
            "ctx": {"targets": [openai("ctx-small", context_window=16)], "context_fallback": "fake-anthropic"},
            # On a loaded 2-core CI machine the CPU model's first token can take longer than the
            # 1.5 s the fault tests use for commercial targets.
            "continue-local": {"targets": [openai("cut-local"),
                                           {"provider": "local", "model": "smollm2", "first_token_timeout_s": 20}],
                               "policy": "priority"},
            "tier1-flaky": {"targets": [openai("t1-flaky")]},
            # /v1/embeddings (tests/integration/test_apis.py)
            "minilm": {"type": "embedding", "targets": [{"provider": "local", "model": "all-MiniLM-L6-v2"}]},
            "fake-embed": {"type": "embedding", "targets": [openai("text-embedding-3-small")]},
            "titan-embed": {"type": "embedding", "targets": [{
                "provider": "bedrock", "model": "amazon.titan-embed-text-v2:0", "region": "us-east-1",
                "api_base": fake_url}]},
        },
        # model: "auto" -> the local tier or the fake frontier model (tests/integration/test_tiering.py)
        "tiering": {"policies": {
            "auto": {"tier1": LOCAL_MODEL, "tier2": "fake-openai", "threshold": 0.5},
            "auto-all-frontier": {"tier1": LOCAL_MODEL, "tier2": "fake-openai", "threshold": 1e-12},
            "auto-flaky": {"tier1": "tier1-flaky", "tier2": "fake-anthropic", "threshold": 0.5},
        }},
        # Injection attempts are refused here (the shipped default only flags them), except for keys of the team
        # guard-org/lenient, which may send injection-like prompts (flagged, not refused).
        "guardrails": {"policy": {"injection": {"action": "block"}},
                       "teams": {"guard-org/lenient": {"injection": {"action": "flag"}}}},
        "routing": {
            "deadline_s": 20,
            "first_token_timeout_s": 1.5,
            "idle_timeout_s": 5,
            "sync_interval_s": 0.1,
            "retry": {"attempts_per_target": 2, "backoff_base_s": 0.02, "retry_after_max_s": 2,
                      "default_cooldown_s": 30},
            "circuit": {"consecutive_failures": 3, "open_s": 1.5, "min_requests": 20},
        },
    }


@pytest.fixture(scope="session")
def fake_providers() -> Iterator[FakeProviderServer]:
    for key, value in _TEST_ENV.items():
        os.environ.setdefault(key, value)
    os.environ.pop("TG_TEST_UNSET_KEY", None)
    with FakeProviderServer() as server:
        yield server


@pytest.fixture(scope="session")
def gateway_data_dir() -> Iterator[Path]:
    """The main app's data directory: its state store is ``state.db`` there."""
    with tempfile.TemporaryDirectory(prefix="tollgate-test-") as data_dir:
        yield Path(data_dir)


@pytest.fixture(scope="session")
def gateway_url(fake_providers: FakeProviderServer, gateway_data_dir: Path) -> Iterator[str]:
    """Start Ray and the Tollgate app once for the whole session; shut both down at the end."""
    import ray
    from ray import serve

    from deployments.local_llm.model_prep import prepare_smollm2
    from serve_app.app import build_app

    model_dir = _local_model_dir()
    prepare_smollm2(model_dir)
    port = _free_port()
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        app = build_app(gateway_args(fake_providers.base_url, str(gateway_data_dir), str(model_dir)))
        serve.run(app, name="tollgate", route_prefix="/")
        yield f"http://127.0.0.1:{port}"
    finally:
        serve.shutdown()
        ray.shutdown()


@pytest.fixture(scope="session")
def base_url(gateway_url: str) -> str:
    return f"{gateway_url}/v1"


def reset_routing(gateway_url: str) -> None:
    """Forget live statistics, cooldowns and open circuits, in the ingress and the Router deployment."""
    response = httpx.post(f"{gateway_url}/admin/routing/reset", headers={"Authorization": f"Bearer {MASTER_KEY}"})
    response.raise_for_status()


@pytest.fixture
def fake(fake_providers: FakeProviderServer, gateway_url: str) -> Iterator[FakeProviderServer]:
    """The fake with no faults and no recorded requests, and routing state forgotten, around each test."""
    httpx.post(f"{fake_providers.base_url}/_fake/reset")
    reset_routing(gateway_url)
    yield fake_providers
    httpx.post(f"{fake_providers.base_url}/_fake/reset")
    reset_routing(gateway_url)


def add_fault(fake: FakeProviderServer, **rule: Any) -> None:
    httpx.post(f"{fake.base_url}/_fake/faults", json=[rule]).raise_for_status()


def recorded(fake: FakeProviderServer) -> list[dict[str, Any]]:
    return list(httpx.get(f"{fake.base_url}/_fake/requests").json())


# --- two more applications, each with two Ingress replicas: one on SQLite, one on PostgreSQL -----------------

# $0.05 per word-token both ways in the governed apps, so a handful of requests spends a budget.
METERED_PRICES = {"input": 50_000.0, "output": 50_000.0}
_QUICK_STOP = {"graceful_shutdown_timeout_s": 1, "graceful_shutdown_wait_loop_s": 0.2}
GOVERNED_OPTIONS = {"Ingress": {"num_replicas": 2, **_QUICK_STOP}, "Router": _QUICK_STOP, "OpenAIProxy": _QUICK_STOP,
                    "Guardrail": _QUICK_STOP}


def governed_args(fake_url: str, state_url: str, data_dir: str) -> dict[str, Any]:
    return {
        "profile": "local",
        "server": {"data_dir": data_dir},
        "auth": {"master_key_env": "TG_TEST_MASTER_KEY"},
        "audit": {"hmac_key_env": AUDIT_KEY_ENV, "store_text_teams": ["sealed-org/ml"]},
        "state": {"url": state_url},
        "models": {
            "metered": {"targets": [{
                "provider": "openai", "model": "metered", "api_base": f"{fake_url}/v1",
                "api_key_env": "TG_TEST_OPENAI_KEY", "prices": METERED_PRICES}]},
            # A cooldown shared by the replicas, and inherited by a new one (tests/integration/test_replica_kill.py)
            "cooling": {"policy": "priority", "targets": [
                {"provider": "openai", "model": name, "api_base": f"{fake_url}/v1", "api_key_env": "TG_TEST_OPENAI_KEY"}
                for name in ("cool-1", "cool-2")]},
        },
        "governance": {"default_max_tokens": 8},
        "cache": {"enabled": False},  # tested in the main application; here it would only cost memory
    }


@dataclass
class Governed:
    """One of the two-replica applications."""

    name: str
    url: str
    state_url: str
    data_dir: str

    def wait_for_replicas(self, count: int, timeout_s: float = 90) -> None:
        from ray import serve

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            states = serve.status().applications[self.name].deployments["Ingress"].replica_states
            if states.get("RUNNING") == count and len(states) == 1:
                return
            time.sleep(0.5)
        raise AssertionError(f"{self.name}: Ingress did not get {count} running replicas: {states}")


@pytest.fixture(scope="session")
def governed(gateway_url: str, fake_providers: FakeProviderServer,
             postgres_server: str) -> Iterator[dict[str, Governed]]:
    """Deployed beside the main app once per session (Serve's shutdown at the end removes them)."""
    from ray import serve

    from serve_app.app import build_app_with_options

    pg_url = new_schema(postgres_server)
    with tempfile.TemporaryDirectory(prefix="tollgate-gov-") as data_dir:
        apps = {}
        for store, state_url in {"sqlite": f"sqlite:///{data_dir}/state.db", "postgresql": pg_url}.items():
            name = f"gov-{store}"
            serve.run(build_app_with_options(governed_args(fake_providers.base_url, state_url, data_dir),
                                             GOVERNED_OPTIONS), name=name, route_prefix=f"/{name}")
            apps[store] = Governed(name, f"{gateway_url}/{name}", state_url, data_dir)
        yield apps
