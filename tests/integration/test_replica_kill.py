"""A replica killed under load (SIGKILL to its worker process): requests in flight end with an answer or a clean
error, never a hang; Serve replaces the replica; the reservations the dead replica held are settled by the sweep;
the audit chain still verifies. On the governed SQLite app: two Ingress replicas, one OpenAIProxy replica."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psutil
import pytest

from fake_providers.server import FakeProviderServer
from serve_app.audit.verify import verify_chain
from serve_app.governance.ledger import Kind, Ledger
from tests.integration.conftest import AUDIT_KEY_ENV, MASTER_KEY, Governed, add_fault, recorded
from tollgate_core.store import open_database
from tollgate_core.windows import Window

pytestmark = pytest.mark.integration

AUTH = {"Authorization": f"Bearer {MASTER_KEY}"}
IN_FLIGHT = 12
NO_HANG_S = 30.0
BUDGET_USD = 1000.0


def replica_pids(app: str, deployment: str) -> list[int]:
    """The worker processes of a deployment's replicas: Ray titles them ``ray::ServeReplica:APP:DEPLOYMENT`` (with
    the method being run appended)."""
    title = f"ray::ServeReplica:{app}:{deployment}"
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if cmdline == title or cmdline.startswith((f"{title}.", f"{title} ")):
            found.append(proc.pid)
    return found


def governed_key(app: Governed, org: str) -> tuple[str, str]:
    with httpx.Client(base_url=app.url, headers=AUTH, timeout=30) as admin:
        admin.post("/admin/orgs", json={"name": org})
        admin.post("/admin/teams", json={"org": org, "name": "ml"})
        created = admin.post("/admin/keys", json={"team": f"{org}/ml", "name": "svc",
                                                  "budgets": {"hourly": {"hard": BUDGET_USD}}})
    assert created.status_code == 201, created.text
    return str(created.json()["key"]), str(created.json()["id"])


def ask(url: str, key: str, i: int) -> tuple[str, float]:
    """One request: its status (or the transport error's name) and how long it took."""
    started = time.monotonic()
    try:
        response = httpx.post(f"{url}/v1/chat/completions", timeout=NO_HANG_S + 30,
                              headers={"Authorization": f"Bearer {key}"},
                              json={"model": "metered", "messages": [{"role": "user", "content": f"q{i}"}]})
        outcome = str(response.status_code)
        if response.status_code >= 400 and response.headers.get("content-type", "").startswith("application/json"):
            outcome += f":{response.json().get('error', {}).get('code')}"
            outcome += "+retry-after" if response.headers.get("retry-after") else ""
    except httpx.HTTPError as exc:
        outcome = type(exc).__name__
    return outcome, time.monotonic() - started


def kill_one_under_load(app: Governed, deployment: str, key: str) -> list[tuple[str, float]]:
    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        futures = [pool.submit(ask, app.url, key, i) for i in range(IN_FLIGHT)]
        time.sleep(1.5)  # the requests are in flight: the fake holds each answer 3 s
        victims = replica_pids(app.name, deployment)
        assert victims, f"no {deployment} replica found"
        os.kill(victims[0], signal.SIGKILL)
        return [f.result(timeout=NO_HANG_S + 60) for f in futures]


async def settle_and_verify(app: Governed, key_id: str) -> tuple[int, int]:
    """Run the expiry sweep as it runs once the dead replica's reservations expire; the key's hourly USD
    counter ``(used, reserved)`` afterwards. Also checks the audit chain."""
    db = await open_database(app.state_url)
    try:
        swept = Ledger(db, clock=lambda: time.time() + 3600)
        while await swept.settle_expired():
            pass
        counter = await Ledger(db).counter(f"key:{key_id}", Kind.USD, Window.HOURLY)
        report = await verify_chain(db, os.environ[AUDIT_KEY_ENV].encode())
        assert report.ok, report.message
        return counter
    finally:
        await db.close()


def recovered(app: Governed, key: str) -> list[str]:
    return [ask(app.url, key, 100 + i)[0] for i in range(4)]


@pytest.mark.parametrize("deployment", ["Ingress", "OpenAIProxy"])
def test_a_replica_killed_under_load(governed: dict[str, Governed], fake: FakeProviderServer, deployment: str) -> None:
    app = governed["sqlite"]
    app.wait_for_replicas(2)
    key, key_id = governed_key(app, f"kill-{deployment.lower()}")
    add_fault(fake, match={"model": "metered"}, fault="slow_first_token", delay=3)

    outcomes = kill_one_under_load(app, deployment, key)

    assert all(seconds < NO_HANG_S for _, seconds in outcomes), outcomes  # nothing hangs
    if deployment == "Ingress":
        assert any(o.startswith("200") for o, _ in outcomes), outcomes  # the other Ingress replica answered
    else:  # the only proxy replica is gone: the gateway says so, with when to retry
        assert all(o.startswith("200") or o == "503:no_available_target+retry-after" for o, _ in outcomes), outcomes
    # The requests on the dead replica end with an error from HAProxy, Serve's proxy or the gateway (503 and
    # Retry-After when the proxy replica is gone), never the gateway's own 500.
    assert not any(o.startswith("500:") for o, _ in outcomes), outcomes
    httpx.post(f"{fake.base_url}/_fake/reset")
    if deployment == "Ingress":
        app.wait_for_replicas(2, timeout_s=120)
    else:
        wait_running(app, deployment)
    deadline = time.monotonic() + 60
    while (statuses := recovered(app, key)) != ["200"] * 4 and time.monotonic() < deadline:
        time.sleep(1)
    assert statuses == ["200"] * 4, statuses  # Serve replaced the replica

    used, reserved = asyncio.run(settle_and_verify(app, key_id))
    assert reserved == 0  # the dead replica's reservations were settled by the sweep
    assert 0 < used <= BUDGET_USD * 1e9


def wait_running(app: Governed, deployment: str, timeout_s: float = 120) -> None:
    from ray import serve

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        states = serve.status().applications[app.name].deployments[deployment].replica_states
        if states.get("RUNNING") == 1 and len(states) == 1:
            return
        time.sleep(0.5)
    raise AssertionError(f"{deployment} was not replaced: {states}")



def test_a_replica_that_replaces_a_dead_one_keeps_away_from_a_cooling_target(
        governed: dict[str, Governed], fake: FakeProviderServer) -> None:
    """Two Ingress replicas share a 429's cooldown (Retry-After 120 s), and so does the replica Serve starts in
    place of a killed one: none of them calls the cooling target again."""
    app = governed["sqlite"]
    app.wait_for_replicas(2)
    add_fault(fake, match={"model": "cool-1"}, fault="429", retry_after=120)

    def cool_1_calls() -> int:
        return sum(1 for r in recorded(fake) if r.get("body", {}).get("model") == "cool-1")

    def ask_cooling(n: int) -> None:
        for i in range(n):
            response = httpx.post(f"{app.url}/v1/chat/completions", headers=AUTH, timeout=30, json={
                "model": "cooling", "messages": [{"role": "user", "content": f"c{i}"}]})
            assert response.status_code == 200, response.text  # answered by cool-2

    ask_cooling(1)
    assert cool_1_calls() == 1
    time.sleep(1)  # one Router sync interval and more
    ask_cooling(10)  # HAProxy spreads them over both replicas
    assert cool_1_calls() == 1

    os.kill(replica_pids(app.name, "Ingress")[0], signal.SIGKILL)
    app.wait_for_replicas(2, timeout_s=120)
    ask_cooling(10)
    assert cool_1_calls() == 1  # the new replica started with the shared cooldown
