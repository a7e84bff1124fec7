"""configs/prod.yaml's deployment graph on this machine (``make prod-cpu``, rehearsal/): deployed with ``serve
deploy`` under the CPU overlay, mixed traffic through every deployment, Ray's metrics scraped by a real Prometheus
and every Grafana dashboard query evaluated there, ``serve status``/``serve config`` and the Ray dashboard's Serve
page in headless Chromium, and autoscaling up under a burst and back down when quiet.

One rehearsal for the module (about six minutes); it runs before the session's shared Ray cluster (``own_ray``).
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from prometheus_client.parser import text_string_to_metric_families

from rehearsal.run import Report, rehearse

pytestmark = [pytest.mark.integration, pytest.mark.own_ray]

# Each metric an operator graphs, with the labels they slice it by (docs/operations.md, "Metrics").
EXPECTED_LABELS = {
    "ray_tollgate_requests": {"endpoint", "operation", "model", "provider", "team", "status", "outcome"},
    "ray_tollgate_request_duration_ms": {"endpoint", "operation", "model", "provider", "stream"},
    "ray_tollgate_time_to_first_token_ms": {"endpoint", "model", "provider"},
    "ray_tollgate_tokens": {"model", "provider", "team", "token_type"},
    "ray_tollgate_cost_usd": {"model", "provider", "team"},
    "ray_tollgate_cache_requests": {"model", "result"},
    "ray_tollgate_cache_saved_usd": {"model"},
    "ray_tollgate_guardrail_actions": {"action", "team"},
    "ray_tollgate_guardrail_findings": {"type"},
    "ray_tollgate_injection_flagged": {"policy"},
    "ray_tollgate_judge_verdicts": {"judge", "verdict", "mode", "team", "model"},
    "ray_tollgate_governance_rejections": {"reason"},
    "ray_tollgate_target_requests": {"model", "target", "outcome"},
    "ray_tollgate_target_latency_ms": {"model", "target"},
    "ray_tollgate_retries": {"model", "target"},
    "ray_tollgate_failovers": {"model", "target"},
    "ray_tollgate_circuit_state": {"target"},
    "ray_tollgate_tier_decisions": {"policy", "tier"},
    "ray_serve_deployment_queued_queries": {"deployment"},
    "ray_serve_replica_processing_queries": {"deployment"},
    "ray_serve_deployment_replica_healthy": {"deployment"},
}


@pytest.fixture(scope="module")
def report() -> Report:
    return rehearse(log=print)


def _series(report: Report) -> dict[str, list[dict[str, str]]]:
    """Label sets per metric family name, as a Prometheus scrape of Ray's targets sees them."""
    found: dict[str, list[dict[str, str]]] = defaultdict(list)
    for family in text_string_to_metric_families(report.scrape):
        for sample in family.samples:
            found[family.name].append(dict(sample.labels))
    return found


def test_traffic_went_through_every_deployment(report: Report) -> None:
    by_what = {x.what: x for x in report.traffic[: len(report.traffic) // 2]}
    answered = {x.answered_by.split("/")[0] for x in report.traffic if x.status == 200}
    assert {"openai", "azure", "anthropic", "bedrock", "local", "cache"} <= answered, report.traffic
    assert by_what["the same question again"].answered_by == "cache"
    assert by_what["OpenAI answers 503 twice: retried, then Azure"].answered_by.startswith("azure/")
    assert by_what["Anthropic answers 429: Bedrock"].answered_by.startswith("bedrock/")
    assert by_what["claude-3-5-sonnet, streamed (Bedrock rate-limited: Anthropic)"].answered_by.startswith("anthropic/")
    assert by_what["local tier (vLLM on CPU)"].answered_by.startswith("local/")
    assert by_what["a team over its daily budget"].status == 429
    assert all(x.status == 200 for x in report.traffic if x.what != "a team over its daily budget"), report.traffic
    assert set(report.replicas_at_start) == {"Ingress", "Guardrail", "SemanticCache", "TierClassifier", "Judge", "Router",
                                             "OpenAIProxy", "AnthropicProxy", "BedrockProxy", "LocalLLM"}
    assert report.replicas_at_start["Ingress"] == 2


def test_the_scrape_has_each_metric_with_its_labels(report: Report) -> None:
    series = _series(report)
    for name, labels in EXPECTED_LABELS.items():
        sets = series.get(name) or series.get(f"{name}_total") or []
        assert sets, f"{name} is not in the scrape"
        missing = labels - set(sets[0])
        assert not missing, f"{name} lacks labels {missing}: {sets[0]}"
    values = {(s.get("token_type"), s.get("action"), s.get("result"), s.get("reason"))
              for name in ("ray_tollgate_tokens", "ray_tollgate_guardrail_actions", "ray_tollgate_cache_requests",
                           "ray_tollgate_governance_rejections") for s in series[name]}
    for wanted in [("input", None, None, None), ("output", None, None, None), (None, "redact", None, None),
                   (None, "flag", None, None), (None, None, "exact_hit", None),
                   (None, None, None, "key_daily_budget_exceeded")]:
        assert wanted in values, wanted


def test_label_values_hold_no_request_id_or_key(report: Report) -> None:
    secret_like = re.compile(r"^(tgr-|tg-|sk-|Bearer )")
    for name, sets in _series(report).items():
        if name.startswith("ray_tollgate"):
            for labels in sets:
                bad = {k: v for k, v in labels.items() if secret_like.match(v)}
                assert not bad, f"{name}: {bad}"


def test_every_dashboard_query_returns_data(report: Report) -> None:
    empty = [(q.panel, q.expr) for q in report.queries if q.series == 0]
    assert not empty, empty
    assert len(report.queries) >= 20


def test_the_core_panels_show_numbers_not_only_series(report: Report) -> None:
    """After the burst the traffic, latency, TTFT, spend, token, cache and replica panels have real values."""
    for panel in ("Requests/s by endpoint and status", "Request latency p50 / p99 by model (ms)",
                  "Time to first token p50 / p99, streams (ms)", "Spend by team and model (USD/hour)",
                  "Tokens/s by model and type", "Cache hit rate (of lookups)", "Replicas per deployment"):
        results = [q for q in report.queries if q.panel == panel]
        assert results and any(q.shows_a_number() for q in results), (panel, [q.values for q in results])


def test_operator_commands_work_from_the_shell(report: Report) -> None:
    status_code, status = report.operator["serve status"]
    assert status_code == 0 and "status: RUNNING" in status, status
    config_code, config = report.operator["serve config"]
    assert config_code == 0 and "import_path: serve_app.app:build_app" in config, config
    assert "tollgate" in report.dashboard_text and "RUNNING" in report.dashboard_text


def test_autoscaling_went_up_under_the_burst_and_back_down(report: Report) -> None:
    assert report.scaling is not None
    assert report.scaling.scaled_up(), report.scaling.timeline
    assert report.scaling.scaled_back(), report.scaling.timeline
    assert set(report.scaling.statuses) <= {200, 503}, report.scaling.statuses
