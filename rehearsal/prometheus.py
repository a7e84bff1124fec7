"""A real Prometheus (Debian's package) scraping the targets in Ray's service-discovery file, and the Grafana
dashboard's queries evaluated through its HTTP API."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from rehearsal.processes import free_port, stop
from rehearsal.stack import RAY_SD_FILE

__all__ = ["DASHBOARD_JSON", "Prometheus", "QueryResult", "dashboard_queries"]

DASHBOARD_JSON = Path(__file__).resolve().parents[1] / "deploy" / "grafana" / "tollgate-dashboard.json"
# What Grafana would substitute for $__rate_interval with the rehearsal's whole run on screen (it lasts under 15 minutes).
RATE_WINDOW = "15m"


@dataclass
class QueryResult:
    panel: str
    expr: str
    series: int
    sample: str   # one series' labels and value
    values: list[float]

    def shows_a_number(self) -> bool:
        """Some series has a finite, non-zero value (a rate over a quiet window is 0, a quantile of it NaN)."""
        return any(math.isfinite(v) and v != 0 for v in self.values)


def dashboard_queries(path: Path = DASHBOARD_JSON) -> list[tuple[str, str]]:
    board = json.loads(path.read_text())
    return [(p["title"], t["expr"]) for p in board["panels"] for t in p.get("targets", [])]


class Prometheus:
    """``with Prometheus() as prom:`` scrapes every 2 s until the block ends."""

    def __init__(self, binary: str | None = None) -> None:
        self.binary = binary or shutil.which("prometheus") or ""
        self.root = Path(tempfile.mkdtemp(prefix="tollgate-prometheus-"))
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Prometheus:
        if not self.binary:
            raise RuntimeError("no prometheus binary: apt-get install prometheus (make test installs it)")
        port = free_port()
        config = self.root / "prometheus.yml"
        config.write_text(json.dumps({
            "global": {"scrape_interval": "2s", "evaluation_interval": "2s"},
            "scrape_configs": [{"job_name": "ray", "file_sd_configs": [
                {"files": [str(RAY_SD_FILE)], "refresh_interval": "2s"}]}],
        }))
        self._process = subprocess.Popen(
            [self.binary, f"--config.file={config}", f"--storage.tsdb.path={self.root / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL, stderr=open(self.root / "prometheus.log", "wb"))
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.__exit__()
        raise RuntimeError("Prometheus did not become ready within 60 s")

    def __exit__(self, *exc: object) -> None:
        stop(self._process)
        self._process = None
        shutil.rmtree(self.root, ignore_errors=True)

    def query(self, expr: str) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=30)
        payload = response.json()
        if payload.get("status") != "success":
            raise ValueError(f"{expr}: {payload.get('error')}")
        return list(payload["data"]["result"])

    def up_targets(self) -> int:
        return sum(1 for s in self.query("up == 1"))

    def evaluate(self, queries: list[tuple[str, str]]) -> list[QueryResult]:
        results = []
        for panel, expr in queries:
            series = self.query(expr.replace("$__rate_interval", RATE_WINDOW))
            values = [float(s["value"][1]) for s in series]
            shown = next((s for s in series if math.isfinite(float(s["value"][1])) and float(s["value"][1])),
                         series[0] if series else None)
            sample = ""
            if shown is not None:
                labels = ",".join(f"{k}={v}" for k, v in shown["metric"].items())
                sample = f"{{{labels}}} {shown['value'][1]}"
            results.append(QueryResult(panel, expr, len(series), sample, values))
        return results

    def wait_for(self, expr: str, timeout_s: float = 60) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.query(expr):
                return True
            time.sleep(2)
        return False
