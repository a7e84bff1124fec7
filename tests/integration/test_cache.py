"""The response cache through Ray Serve: the SemanticCache deployment with the real model, FAISS and the decision
stage, behind the HTTP API; tenant isolation with virtual keys; restart; purge; the probe CLI agrees with it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from fake_providers.server import FakeProviderServer
from tests.integration.conftest import MASTER_KEY, recorded
from tests.integration.test_governance import tollgate

pytestmark = pytest.mark.integration

AUTH = {"Authorization": f"Bearer {MASTER_KEY}"}


def _chat(gateway_url: str, text: str, key: str = MASTER_KEY, headers: dict[str, str] | None = None,
          **extra: Any) -> httpx.Response:
    body = {"model": "fake-openai", "messages": [{"role": "user", "content": text}], "temperature": 0, **extra}
    response = httpx.post(f"{gateway_url}/v1/chat/completions", json=body, timeout=60,
                          headers={"Authorization": f"Bearer {key}", **(headers or {})})
    assert response.status_code == 200, response.text
    return response


def _stored(gateway_url: str, tenant: str, count: int = 1, timeout_s: float = 20) -> None:
    """Wait until the store after a response has committed (it runs after the response is sent)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        stats = httpx.get(f"{gateway_url}/admin/cache", headers=AUTH, timeout=30).json()
        if stats["by_tenant"].get(tenant, 0) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"no cache entry for {tenant} after {timeout_s} s: {stats}")


def _purge(gateway_url: str, **spec: Any) -> int:
    response = httpx.post(f"{gateway_url}/admin/cache/purge", headers=AUTH, json=spec, timeout=30)
    assert response.status_code == 200, response.text
    return int(response.json()["deleted"])


def test_paraphrase_hits_and_a_near_miss_misses(gateway_url: str, fake: FakeProviderServer) -> None:
    _purge(gateway_url, all=True)
    first = _chat(gateway_url, "How can I improve my English speaking skills?")
    assert first.headers["x-tollgate-cache"] == "miss"
    _stored(gateway_url, "master")
    hit = _chat(gateway_url, "How do I get better at speaking English?")
    assert hit.headers["x-tollgate-cache"] == "hit" and hit.headers["x-tollgate-cache-kind"] == "semantic"
    assert float(hit.headers["x-tollgate-cache-similarity"]) > 0.5
    assert hit.json()["choices"][0]["message"]["content"] == first.json()["choices"][0]["message"]["content"]
    assert hit.json()["usage"]["total_tokens"] == 0
    near = _chat(gateway_url, "How can I improve my English writing skills?")
    assert near.headers["x-tollgate-cache"] == "miss"
    assert len(recorded(fake)) == 2


def test_no_hit_across_tenants(gateway_url: str, fake: FakeProviderServer) -> None:
    tollgate(gateway_url, "orgs", "create", "cache-org")
    for team in ("red", "blue"):
        tollgate(gateway_url, "teams", "create", team, "--org", "cache-org")
    red_1 = tollgate(gateway_url, "keys", "create", "one", "--team", "cache-org/red")["key"]
    red_2 = tollgate(gateway_url, "keys", "create", "two", "--team", "cache-org/red")["key"]
    blue = tollgate(gateway_url, "keys", "create", "one", "--team", "cache-org/blue")["key"]
    question = "Summarise the main causes of the French Revolution."
    assert _chat(gateway_url, question, red_1).headers["x-tollgate-cache"] == "miss"
    _stored(gateway_url, "team:cache-org/red")
    assert _chat(gateway_url, question, blue).headers["x-tollgate-cache"] == "miss"
    assert _chat(gateway_url, question, red_2).headers["x-tollgate-cache"] == "hit"  # same team: shared
    assert len(recorded(fake)) == 2
    assert tollgate(gateway_url, "cache", "purge", "--team", "cache-org/red")["deleted"] == 1
    assert _chat(gateway_url, question, red_2).headers["x-tollgate-cache"] == "miss"


def test_sampling_and_tools_bypass_and_a_stream_replays(gateway_url: str, fake: FakeProviderServer) -> None:
    _purge(gateway_url, tenant="master")
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
    for _ in range(2):
        assert _chat(gateway_url, "Write a haiku about autumn.", temperature=0.8
                     ).headers["x-tollgate-cache"] == "bypass"
        assert _chat(gateway_url, "Which city is the capital of Peru?", tools=tools
                     ).headers["x-tollgate-cache"] == "bypass"
    assert len(recorded(fake)) == 4
    text = "List the planets of the solar system in order."
    answer = _chat(gateway_url, text).json()["choices"][0]["message"]["content"]
    _stored(gateway_url, "master")
    with httpx.stream("POST", f"{gateway_url}/v1/chat/completions", headers=AUTH, timeout=60, json={
            "model": "fake-openai", "temperature": 0, "stream": True,
            "messages": [{"role": "user", "content": text}]}) as response:
        assert response.headers["x-tollgate-cache"] == "hit"
        events = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == answer
    assert len(recorded(fake)) == 5


def test_entries_survive_a_restart_of_the_cache_replica(gateway_url: str, fake: FakeProviderServer) -> None:
    import psutil
    from ray import serve

    _purge(gateway_url, all=True)
    _chat(gateway_url, "What are the health benefits of drinking green tea?")
    _stored(gateway_url, "master")
    title = "ServeReplica:tollgate:SemanticCache"
    replicas = [p.pid for p in psutil.process_iter(["cmdline"]) if title in " ".join(p.info["cmdline"] or [])]
    assert len(replicas) == 1, replicas
    os.kill(replicas[0], signal.SIGKILL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        states = serve.status().applications["tollgate"].deployments["SemanticCache"].replica_states
        alive = [p.pid for p in psutil.process_iter(["cmdline"]) if title in " ".join(p.info["cmdline"] or [])]
        if states.get("RUNNING") == 1 and len(states) == 1 and alive and alive != replicas:
            break
        time.sleep(0.5)
    hit = None
    while time.monotonic() < deadline:  # the handle may still route to the dead replica for a moment
        hit = httpx.post(f"{gateway_url}/v1/chat/completions", headers=AUTH, timeout=60, json={
            "model": "fake-openai", "temperature": 0,
            "messages": [{"role": "user", "content": "Is drinking green tea good for your health?"}]})
        if hit.status_code == 200 and hit.headers.get("x-tollgate-cache") == "hit":
            break
        time.sleep(0.5)
    assert hit is not None and hit.headers.get("x-tollgate-cache") == "hit", hit.headers if hit else None
    assert hit.headers["x-tollgate-cache-kind"] == "semantic"


PROBE_LINES = [
    {"seed": "How can I improve my English speaking skills?", "query": "How do I get better at speaking English?"},
    {"seed": "What is the best way to learn Python?", "query": "What is the best way to learn Java?"},
    {"seed": "How do I lose 5 kg in a month?", "query": "How do I lose 10 kg in a month?"},
    {"seed": "Why is the sky blue?", "query": "why is the sky blue"},
    {"seed": "What is our corporate policy on remote work?",
     "query": "What is our corporate policy on remote work for contractors?"},
    {"seed": "What are some good books to read in 2024?", "query": "Which books should I read this year?"},
]


def test_the_probe_cli_and_the_deployment_agree(gateway_url: str, fake: FakeProviderServer) -> None:
    lines = "".join(json.dumps(line) + "\n" for line in PROBE_LINES)
    done = subprocess.run([sys.executable, "-m", "serve_app.cli", "cache", "probe", "--model", "fake-openai"],
                          check=False, input=lines, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    probed = [json.loads(line) for line in done.stdout.splitlines()]
    served = []
    for line in PROBE_LINES:
        _purge(gateway_url, tenant="master")
        _chat(gateway_url, line["seed"])
        _stored(gateway_url, "master")
        response = _chat(gateway_url, line["query"])
        served.append({"hit": response.headers["x-tollgate-cache"] == "hit",
                       "similarity": float(response.headers.get("x-tollgate-cache-similarity", "nan"))})
    assert [p["hit"] for p in probed] == [s["hit"] for s in served]
    assert any(p["hit"] for p in probed) and not all(p["hit"] for p in probed)
    for p, s in zip(probed, served):
        if s["hit"]:
            assert abs(p["similarity"] - s["similarity"]) < 1e-3
