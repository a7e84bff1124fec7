"""One rehearsal of the prod graph on this machine: deploy, traffic, metrics, dashboard, operator tools,
autoscaling; a report of what was seen."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rehearsal.autoscale import WATCHED, ScalingRun, burst_and_quiet
from rehearsal.browser import serve_page_text
from rehearsal.prometheus import Prometheus, QueryResult, dashboard_queries
from rehearsal.stack import APP, DASHBOARD, Stack
from rehearsal.traffic import Exchange, mixed_traffic, team_keys

__all__ = ["Report", "rehearse"]

# Two of Ray's 10 s metric reports, plus scrapes.
_METRICS_SETTLE_S = 25


@dataclass
class Report:
    deploy_s: float = 0.0
    replicas_at_start: dict[str, int] = field(default_factory=dict)
    traffic: list[Exchange] = field(default_factory=list)
    scrape: str = ""                                       # the raw exposition text of Ray's metrics targets
    queries: list[QueryResult] = field(default_factory=list)
    operator: dict[str, tuple[int, str]] = field(default_factory=dict)  # command: (exit code, output tail)
    dashboard_text: str = ""
    scaling: ScalingRun | None = None


def _scrape() -> str:
    """Every target in Ray's service-discovery file, scraped as Prometheus does."""
    import json

    import httpx

    from rehearsal.stack import RAY_SD_FILE

    texts = []
    for group in json.loads(RAY_SD_FILE.read_text()):
        for target in group["targets"]:
            try:
                texts.append(httpx.get(f"http://{target}/metrics", timeout=10).text)
            except httpx.HTTPError:
                continue  # a target of an earlier session
    return "\n".join(texts)


def _operator_commands(stack: Stack) -> dict[str, tuple[int, str]]:
    """``serve status`` and ``serve config`` as docs/operations.md tells an operator to run them."""
    env = {**os.environ, "RAY_AUTH_MODE": "token"}
    results = {}
    for command in (["serve", "status"], ["serve", "config"]):
        binary = str(stack._serve()) if command[0] == "serve" else command[0]
        done = subprocess.run([binary, *command[1:]], check=False, capture_output=True, text=True, timeout=120, env=env)
        results[" ".join(command)] = (done.returncode, done.stdout if done.returncode == 0 else done.stderr[-3000:])
    return results


def rehearse(log: Callable[[str], Any] = print, *, scaling: bool = True) -> Report:
    report = Report()
    started = time.monotonic()
    with Stack(log=log) as stack:
        stack.wait_until_running()
        report.deploy_s = round(time.monotonic() - started, 1)
        report.replicas_at_start = stack.replicas()
        log(f"{APP} RUNNING after {report.deploy_s} s: " +
            ", ".join(f"{n} {c}" for n, c in sorted(report.replicas_at_start.items())))
        with Prometheus() as prometheus:
            log(f"Prometheus on {prometheus.url}, scraping Ray's targets; mixed traffic, twice")
            keys = team_keys(stack)
            report.traffic = mixed_traffic(stack, keys)
            time.sleep(_METRICS_SETTLE_S)  # the first values scraped: a rate needs a second round on top of them
            report.traffic += mixed_traffic(stack, keys)
            report.operator = _operator_commands(stack)
            report.dashboard_text = serve_page_text(
                DASHBOARD, stack.ray_auth().get("Authorization", "")[7:] or None, expect=(APP, "RUNNING"))
            if scaling:
                log(f"autoscaling: a streamed burst on claude-3-5-sonnet, then quiet; running replicas "
                    f"({', '.join(WATCHED)} watched)")
                report.scaling = burst_and_quiet(stack, log=log)
            time.sleep(_METRICS_SETTLE_S)
            report.scrape = _scrape()
            report.queries = prometheus.evaluate(dashboard_queries())
    return report
