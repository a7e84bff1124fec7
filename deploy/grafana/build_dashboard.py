"""Writes deploy/grafana/tollgate-dashboard.json: ``python deploy/grafana/build_dashboard.py``.

Every query reads the ``ray_``-prefixed series that Ray's metrics agent exports (the Prometheus targets Ray lists in
/tmp/ray/prom_metrics_service_discovery.json). tests/integration/test_prod_graph.py evaluates each one in a real
Prometheus after mixed traffic and expects data from all of them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RATE = "$__rate_interval"
APP = 'application="tollgate"'

# (title, unit, [(legend, expr)]) per panel, in rows.
ROWS: list[tuple[str, list[tuple[str, str, list[tuple[str, str]]]]]] = [
    ("Traffic and errors", [
        ("Requests/s by endpoint and status", "reqps", [
            ("{{endpoint}} {{status}}", f"sum by (endpoint, status) (rate(ray_tollgate_requests_total[{RATE}]))")]),
        ("Requests/s by model and provider", "reqps", [
            ("{{model}} via {{provider}}", f"sum by (model, provider) (rate(ray_tollgate_requests_total[{RATE}]))")]),
        ("Error ratio (status ≠ 200)", "percentunit", [
            ("errors", f'sum(rate(ray_tollgate_requests_total{{status!="200"}}[{RATE}])) / '
                       f"sum(rate(ray_tollgate_requests_total[{RATE}]))")]),
    ]),
    ("Latency", [
        ("Request latency p50 / p99 by model (ms)", "ms", [
            (f"p{q} {{{{model}}}}", f"histogram_quantile(0.{q}, sum by (le, model) "
                                   f"(rate(ray_tollgate_request_duration_ms_bucket[{RATE}])))") for q in ("5", "99")]),
        ("Time to first token p50 / p99, streams (ms)", "ms", [
            (f"p{q} {{{{model}}}}", f"histogram_quantile(0.{q}, sum by (le, model) "
                                   f"(rate(ray_tollgate_time_to_first_token_ms_bucket[{RATE}])))") for q in ("5", "99")]),
        ("Upstream attempt latency p99 by target (ms)", "ms", [
            ("{{target}}", f"histogram_quantile(0.99, sum by (le, target) "
                           f"(rate(ray_tollgate_target_latency_ms_bucket[{RATE}])))")]),
    ]),
    ("Spend and tokens", [
        ("Spend by team and model (USD/hour)", "currencyUSD", [
            ("{{team}} {{model}}", f"sum by (team, model) (rate(ray_tollgate_cost_usd_total[{RATE}])) * 3600")]),
        ("Tokens/s by model and type", "short", [
            ("{{model}} {{token_type}}", f"sum by (model, token_type) (rate(ray_tollgate_tokens_total[{RATE}]))")]),
        ("Budget and rate-limit refusals/s by reason", "reqps", [
            ("{{reason}}", f"sum by (reason) (rate(ray_tollgate_governance_rejections_total[{RATE}]))")]),
    ]),
    ("Cache", [
        ("Cache hit rate (of lookups)", "percentunit", [
            ("hit rate", f'sum(rate(ray_tollgate_cache_requests_total{{result=~".*_hit"}}[{RATE}])) / '
                         f'sum(rate(ray_tollgate_cache_requests_total{{result!="bypass"}}[{RATE}]))')]),
        ("Cache results/s", "reqps", [
            ("{{result}}", f"sum by (result) (rate(ray_tollgate_cache_requests_total[{RATE}]))")]),
        ("Saved by the cache (USD/hour)", "currencyUSD", [
            ("{{model}}", f"sum by (model) (rate(ray_tollgate_cache_saved_usd_total[{RATE}])) * 3600")]),
    ]),
    ("Guardrail", [
        ("Guardrail actions/s", "reqps", [
            ("{{action}}", f"sum by (action) (rate(ray_tollgate_guardrail_actions_total[{RATE}]))")]),
        ("PII and secrets found/s by type", "short", [
            ("{{type}}", f"sum by (type) (rate(ray_tollgate_guardrail_findings_total[{RATE}]))")]),
        ("Injection flags/s by policy", "short", [
            ("{{policy}}", f"sum by (policy) (rate(ray_tollgate_injection_flagged_total[{RATE}]))")]),
        ("Judge verdicts/s by judge and verdict", "short", [
            ("{{judge}} {{verdict}}", f"sum by (judge, verdict) (rate(ray_tollgate_judge_verdicts_total[{RATE}]))")]),
    ]),
    ("Providers", [
        ("Attempts/s by target and outcome", "reqps", [
            ("{{target}} {{outcome}}", f"sum by (target, outcome) (rate(ray_tollgate_target_requests_total[{RATE}]))")]),
        ("Retries and failovers/s", "short", [
            ("retry {{target}}", f"sum by (target) (rate(ray_tollgate_retries_total[{RATE}]))"),
            ("failover from {{target}}", f"sum by (target) (rate(ray_tollgate_failovers_total[{RATE}]))")]),
        ("Circuit state (0 healthy, 1 half-open, 2 cooling down, 3 open)", "short", [
            ("{{target}}", "max by (target) (ray_tollgate_circuit_state)")]),
    ]),
    ("Deployments", [
        ("Replicas per deployment", "short", [
            ("{{deployment}}", f"sum by (deployment) (ray_serve_deployment_replica_healthy{{{APP}}})")]),
        ("Queued requests per deployment (at the callers' handles)", "short", [
            ("{{deployment}}", f"sum by (deployment) (ray_serve_deployment_queued_queries{{{APP}}})")]),
        ("Requests in progress per deployment", "short", [
            ("{{deployment}}", f"sum by (deployment) (ray_serve_replica_processing_queries{{{APP}}})")]),
    ]),
]


def dashboard() -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    y = 0
    for row_title, row in ROWS:
        panels.append({"type": "row", "title": row_title, "collapsed": False, "id": len(panels) + 1,
                       "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
        y += 1
        for i, (title, unit, queries) in enumerate(row):
            panels.append({
                "type": "timeseries", "title": title, "id": len(panels) + 1,
                "datasource": {"type": "prometheus", "uid": "${datasource}"},
                "gridPos": {"h": 8, "w": 8, "x": 8 * i, "y": y},
                "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
                "targets": [{"refId": chr(ord("A") + j), "expr": expr, "legendFormat": legend,
                             "datasource": {"type": "prometheus", "uid": "${datasource}"}}
                            for j, (legend, expr) in enumerate(queries)],
            })
        y += 8
    return {
        "title": "Tollgate", "uid": "tollgate-gateway", "tags": ["tollgate", "ray-serve"], "schemaVersion": 39,
        "timezone": "utc", "refresh": "30s", "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": [{"name": "datasource", "label": "Prometheus", "type": "datasource",
                                 "query": "prometheus", "current": {}, "hide": 0}]},
        "panels": panels,
    }


def queries(board: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, expr) of every query in a dashboard."""
    return [(p["title"], t["expr"]) for p in board["panels"] for t in p.get("targets", [])]


if __name__ == "__main__":
    path = Path(__file__).with_name("tollgate-dashboard.json")
    path.write_text(json.dumps(dashboard(), indent=2) + "\n")
    print(f"wrote {path} ({len(queries(dashboard()))} queries)")
