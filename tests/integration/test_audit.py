"""The audit log on the running app: one record per request whatever its outcome, a chain that verifies,
no raw PII or key in the stored bytes, export that round-trips, and no lost record when a replica dies."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from fake_providers.server import FakeProviderServer
from tests.integration.conftest import AUDIT_KEY_ENV, MASTER_KEY, Governed, add_fault
from tests.integration.test_governance import tollgate
from tests.integration.test_guardrails import ATTACK, PLANTED, PROMPT

pytestmark = pytest.mark.integration

AUTH = {"Authorization": f"Bearer {MASTER_KEY}"}


def _records(db_path: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT seq, record FROM audit_log ORDER BY seq").fetchall()
    return [{"seq": seq, **json.loads(record)} for seq, record in rows]


def _for(db_path: Path, client_id: str, *, wait_s: float = 10.0) -> list[dict[str, Any]]:
    """The records of one request (a disconnect's record is written after the response is gone)."""
    deadline = time.monotonic() + wait_s
    while True:
        found = [r for r in _records(db_path) if r.get("client_request_id") == client_id]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def _post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[str, httpx.Response]:
    client_id = f"audit-{uuid.uuid4().hex}"
    response = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=30,
                          headers={**(AUTH if headers is None else headers), "x-request-id": client_id})
    return client_id, response


def _hello(model: str = "fake-openai", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "hello"}], **extra}


def _one(db: Path, client_id: str) -> dict[str, Any]:
    found = _for(db, client_id)
    assert len(found) == 1, found
    return found[0]


def test_a_success_records_routing_tokens_cost_and_timings(gateway_url: str, gateway_data_dir: Path,
                                                            fake: FakeProviderServer) -> None:
    client_id, response = _post(gateway_url, _hello(max_tokens=20))
    assert response.status_code == 200
    record = _one(gateway_data_dir / "state.db", client_id)
    usage = response.json()["usage"]
    assert record["status"] == 200 and record["outcome"] == "ok" and record["stream"] is False
    assert (record["model"], record["target"], record["provider"], record["tier"]) == (
        "fake-openai", "openai/gpt-4o-fake", "openai", 2)
    assert (record["attempts"], record["failovers"], record["cache"]) == (1, 0, "bypass")
    assert (record["prompt_tokens"], record["completion_tokens"]) == (usage["prompt_tokens"],
                                                                     usage["completion_tokens"])
    assert record["cost_usd"] > 0 and record["key_id"] is None and record["client_ip"]
    # The upstream's time and the gateway's own add up to the whole; the first token came within the upstream's time.
    assert 0 < record["ttft_ms"] <= record["upstream_ms"] < record["latency_ms"]
    assert record["overhead_ms"] > 0
    assert record["latency_ms"] == pytest.approx(record["upstream_ms"] + record["overhead_ms"], abs=0.01)
    assert record["injection_score"] == pytest.approx(float(response.headers["x-tollgate-injection-score"]), abs=6e-4)
    assert (record["injection_flagged"], record["injection_action"]) == (False, "allow")
    assert record["guardrail_findings"] == {}


def test_a_stream_and_a_failover_are_recorded(gateway_url: str, gateway_data_dir: Path,
                                              fake: FakeProviderServer) -> None:
    client_id, response = _post(gateway_url, _hello(stream=True))
    assert response.status_code == 200 and response.text.rstrip().endswith("[DONE]")
    streamed = _one(gateway_data_dir / "state.db", client_id)
    assert streamed["stream"] is True and streamed["outcome"] == "ok" and streamed["completion_tokens"] > 0

    add_fault(fake, match={"model": "flaky-primary"}, fault="503", times=10)
    client_id, response = _post(gateway_url, _hello("failover"))
    assert response.status_code == 200
    moved = _one(gateway_data_dir / "state.db", client_id)
    assert moved["failovers"] == 1 and moved["attempts"] >= 2 and moved["provider"] == "anthropic"


@pytest.mark.parametrize(
    ("case", "status", "outcome"),
    [("bad-key", 401, "authentication_error"), ("injection", 400, "prompt_injection_detected"),
     ("upstream", 503, "service_unavailable"), ("budget", 429, "budget_exceeded")],
    ids=["bad-key", "injection", "upstream", "budget"],
)
def test_refusals_and_failures_are_recorded_once(gateway_url: str, gateway_data_dir: Path, fake: FakeProviderServer,
                                                 case: str, status: int, outcome: str) -> None:
    headers = None
    body = _hello()
    if case == "bad-key":
        headers = {"Authorization": "Bearer tg-not-a-key"}
    elif case == "injection":
        body = {"model": "fake-openai", "messages": [{"role": "user", "content": ATTACK}]}
    elif case == "upstream":
        add_fault(fake, match={"model": "single-flaky"}, fault="500", times=10)
        body = _hello("single-flaky")
    else:
        org = f"audit-{uuid.uuid4().hex[:8]}"
        tollgate(gateway_url, "orgs", "create", org)
        tollgate(gateway_url, "teams", "create", "t", "--org", org)
        key = tollgate(gateway_url, "keys", "create", "k", "--team", f"{org}/t", "--daily-budget", "0.000001")
        headers = {"Authorization": f"Bearer {key['key']}"}
    client_id, response = _post(gateway_url, body, headers)
    assert response.status_code == status, response.text
    record = _one(gateway_data_dir / "state.db", client_id)
    assert (record["status"], record["outcome"]) == (status, outcome)
    assert record["error_type"] == outcome
    if case == "budget":
        assert record["key_id"] == key["id"] and record["cost_usd"] == 0
    if case == "injection":
        assert record["injection_flagged"] is True


def test_a_client_that_goes_away_is_recorded(gateway_url: str, gateway_data_dir: Path,
                                             fake: FakeProviderServer) -> None:
    """The client reads the first chunk of a stream that would take a minute, and hangs up: the record says so
    (499, client_disconnected) and the charge covers what was produced, not the whole answer."""
    add_fault(fake, match={"model": "gpt-4o-fake"}, fault="slow_stream", delay=2.0, times=1)
    client_id = f"audit-{uuid.uuid4().hex}"
    long_question = {"role": "user", "content": " ".join(f"word{i}" for i in range(30))}
    with httpx.stream("POST", f"{gateway_url}/v1/chat/completions", timeout=30,
                      json={**_hello(stream=True), "messages": [long_question]},
                      headers={**AUTH, "x-request-id": client_id}) as response:
        assert response.status_code == 200
        first = next(response.iter_lines())
        assert first.startswith("data: ")
    record = _one(gateway_data_dir / "state.db", client_id)
    assert (record["status"], record["outcome"]) == (499, "client_disconnected")


def test_the_chain_verifies_and_export_round_trips(gateway_url: str, gateway_data_dir: Path,
                                                  fake: FakeProviderServer, tmp_path: Path) -> None:
    for _ in range(3):
        _post(gateway_url, _hello())
    store = f"sqlite:///{gateway_data_dir / 'state.db'}"
    env = {**os.environ, "TOLLGATE_AUDIT_HMAC_KEY": os.environ[AUDIT_KEY_ENV]}
    verified = subprocess.run([sys.executable, "-m", "serve_app.cli", "audit", "verify", "--store", store],
                              env=env, capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0, verified.stderr
    stored = _records(gateway_data_dir / "state.db")
    for fmt in ("jsonl", "csv"):
        out = tmp_path / f"audit.{fmt}"
        done = subprocess.run([sys.executable, "-m", "serve_app.cli", "audit", "export", "--store", store,
                               "--format", fmt, "--out", str(out)], env=env, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        from serve_app.audit import export

        with out.open(encoding="utf-8", newline="") as fh:
            parsed = list(export.read_jsonl(fh) if fmt == "jsonl" else export.read_csv(fh))
        # Every record stored before the export is in it, field for field; records of requests still arriving
        # may follow.
        after = _records(gateway_data_dir / "state.db")
        assert len(stored) <= len(parsed) <= len(after)
        assert parsed == after[: len(parsed)]


def test_verify_finds_a_record_changed_in_the_store(gateway_url: str, gateway_data_dir: Path,
                                                   tmp_path: Path) -> None:
    """Tamper detection end to end: records written by the running gateway, one changed afterwards in a copy."""
    client_id, response = _post(gateway_url, _hello())
    assert response.status_code == 200
    seq = _one(gateway_data_dir / "state.db", client_id)["seq"]
    copy = tmp_path / "state.db"
    with sqlite3.connect(f"file:{gateway_data_dir / 'state.db'}?mode=ro", uri=True) as source, \
            sqlite3.connect(copy) as target:
        source.backup(target)
    env = {**os.environ, "TOLLGATE_AUDIT_HMAC_KEY": os.environ[AUDIT_KEY_ENV]}

    def verify() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "serve_app.cli", "audit", "verify", "--store", f"sqlite:///{copy}"],
                              env=env, capture_output=True, text=True, timeout=60, check=False)

    assert verify().returncode == 0
    with sqlite3.connect(copy) as conn:  # someone lowers the recorded cost of one request
        record = json.loads(conn.execute("SELECT record FROM audit_log WHERE seq = ?", (seq,)).fetchone()[0])
        record["cost_usd"] = 0.0
        conn.execute("UPDATE audit_log SET record = ? WHERE seq = ?", (json.dumps(record), seq))
    tampered = verify()
    assert tampered.returncode == 1
    assert "tampered" in tampered.stderr and str(seq) in tampered.stderr


def test_no_raw_pii_or_key_is_stored(gateway_url: str, gateway_data_dir: Path, fake: FakeProviderServer) -> None:
    org = f"pii-{uuid.uuid4().hex[:8]}"
    tollgate(gateway_url, "orgs", "create", org)
    tollgate(gateway_url, "teams", "create", "t", "--org", org)
    key = tollgate(gateway_url, "keys", "create", "k", "--team", f"{org}/t")["key"]
    client_id, response = _post(gateway_url, {"model": "fake-openai", "messages": [{"role": "user", "content": PROMPT}]},
                                {"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    record = _one(gateway_data_dir / "state.db", client_id)
    assert sum(record["guardrail_findings"].values()) == len(PLANTED)
    stored = b"".join(p.read_bytes() for p in gateway_data_dir.glob("state.db*"))
    for secret in (*PLANTED.values(), key):
        assert secret.encode() not in stored


def test_a_replica_killed_under_load_loses_no_record_of_a_completed_response(
    governed: dict[str, Governed], fake: FakeProviderServer
) -> None:
    import psutil

    app = governed["sqlite"]
    app.wait_for_replicas(2)
    # Ray names a replica's process after its actor: "ray::ServeReplica:APP:DEPLOYMENT".
    title = f"ServeReplica:{app.name}:Ingress"
    replicas = [p.pid for p in psutil.process_iter(["cmdline"]) if title in " ".join(p.info["cmdline"] or [])]
    assert len(replicas) == 2, replicas
    victim = replicas[0]
    completed: list[str] = []

    done = asyncio.Event()

    async def worker(client: httpx.AsyncClient) -> None:
        while not done.is_set():
            client_id = f"kill-{uuid.uuid4().hex}"
            try:
                response = await client.post("/v1/chat/completions", headers={**AUTH, "x-request-id": client_id},
                                             json={"model": "metered", "messages": [{"role": "user", "content": "hi"}]})
                if response.status_code == 200 and response.json()["choices"]:
                    completed.append(client_id)
            except (httpx.HTTPError, ValueError):
                pass  # cut by the kill: not a completed response

    async def until(count: int, within_s: float) -> None:
        # Wait for completed responses, not for a fixed time: a loaded machine is slower, not wrong.
        give_up = time.monotonic() + within_s
        while len(completed) < count and time.monotonic() < give_up:
            await asyncio.sleep(0.05)

    async def load() -> None:
        async with httpx.AsyncClient(base_url=app.url, timeout=30) as client:
            tasks = [asyncio.create_task(worker(client)) for _ in range(24)]
            await until(10, within_s=60)  # traffic is flowing through both replicas
            os.kill(victim, signal.SIGKILL)
            await until(len(completed) + 20, within_s=60)  # and goes on through the survivor
            done.set()
            await asyncio.gather(*tasks)

    asyncio.run(load())
    assert len(completed) >= 30
    db_path = Path(app.data_dir) / "state.db"
    recorded_ids = {r.get("client_request_id") for r in _records(db_path)}
    missing = [c for c in completed if c not in recorded_ids]
    assert missing == []


def test_an_opted_in_team_keeps_its_redacted_texts_sealed(governed: dict[str, Governed],
                                                          fake: FakeProviderServer) -> None:
    from serve_app.audit.sealing import unseal

    app = governed["sqlite"]
    tollgate(app.url, "orgs", "create", "sealed-org")
    tollgate(app.url, "teams", "create", "ml", "--org", "sealed-org")
    key = tollgate(app.url, "keys", "create", "k", "--team", "sealed-org/ml")["key"]
    client_id, response = _post(app.url, {"model": "metered", "messages": [{"role": "user", "content": PROMPT}]},
                                {"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    record = _one(Path(app.data_dir) / "state.db", client_id)
    texts = unseal(record["sealed_text"], os.environ["TOLLGATE_AUDIT_ENCRYPTION_KEY"])
    assert "[EMAIL_1]" in texts["prompt"][0] and "[EMAIL_1]" in texts["answer"]
    assert all(value not in json.dumps(texts) for value in PLANTED.values())
