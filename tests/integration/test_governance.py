"""Governance on the running app: the CLI over the admin API, virtual keys with the openai SDK, budgets that
cut off a runaway key, and spend that stays within budget with two ingress replicas on either store."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

import httpx
import openai
import pytest

from fake_providers.server import FakeProviderServer
from tests.integration.conftest import GOVERNED_OPTIONS, MASTER_KEY, Governed, add_fault, governed_args, recorded

pytestmark = pytest.mark.integration

AUTH = {"Authorization": f"Bearer {MASTER_KEY}"}


def tollgate(url: str, *args: str) -> Any:
    """Run the ``tollgate`` CLI as an operator would and return its --json output."""
    env = {**os.environ, "TOLLGATE_URL": url, "TOLLGATE_MASTER_KEY": MASTER_KEY}
    done = subprocess.run([sys.executable, "-m", "serve_app.cli", *args, "--json"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _hierarchy(url: str, org: str, *key_flags: str, team_flags: tuple[str, ...] = ()) -> dict[str, Any]:
    tollgate(url, "orgs", "create", org)
    tollgate(url, "teams", "create", "ml", "--org", org, *team_flags)
    return dict(tollgate(url, "keys", "create", "svc", "--team", f"{org}/ml", *key_flags))


def _client(base_url: str, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key=key, max_retries=0)


def _hello(client: openai.OpenAI, model: str = "fake-openai") -> Any:
    return client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hello"}], max_tokens=5)


def test_cli_creates_a_key_that_the_openai_sdk_uses_and_revocation_is_immediate(
    gateway_url: str, base_url: str, fake: FakeProviderServer
) -> None:
    key = _hierarchy(gateway_url, "cli-org", "--models", "fake-openai,fake-anthropic")
    assert key["key"].startswith("tg-")
    client = _client(base_url, key["key"])
    assert _hello(client).choices[0].message.content
    with pytest.raises(openai.PermissionDeniedError):
        _hello(client, "fake-azure")
    listed = tollgate(gateway_url, "keys", "list", "--team", "cli-org/ml")["data"]
    assert [k["id"] for k in listed] == [key["id"]] and "key" not in listed[0]
    tollgate(gateway_url, "keys", "revoke", key["id"])
    with pytest.raises(openai.AuthenticationError):
        _hello(client)


def test_a_runaway_key_is_cut_off_and_its_sibling_keeps_working(
    gateway_url: str, base_url: str, fake: FakeProviderServer
) -> None:
    runaway = _hierarchy(gateway_url, "loop-org", "--hourly-budget", "0.01")
    sibling = tollgate(gateway_url, "keys", "create", "sibling", "--team", "loop-org/ml", "--hourly-budget", "0.01")
    client = _client(base_url, runaway["key"])
    served = 0
    with pytest.raises(openai.RateLimitError) as refused:
        for _ in range(500):
            _hello(client)
            served += 1
    assert served > 0
    error = refused.value.body
    assert isinstance(error, dict) and error["type"] == "budget_exceeded"
    assert int(refused.value.response.headers["retry-after"]) >= 1
    shown = tollgate(gateway_url, "keys", "show", runaway["id"])
    assert 0 < shown["usage"]["hourly"]["spent_usd"] <= 0.01
    assert _hello(_client(base_url, sibling["key"])).choices[0].message.content
    report = tollgate(gateway_url, "spend", "report", "--by", "key", "--window", "hour")["data"]
    by_key = {row["key"]: row for row in report}
    assert by_key[runaway["id"]]["requests"] == served
    assert by_key[runaway["id"]]["spend_usd"] <= 0.01


def test_a_keys_rate_limits_refuse_with_429_and_retry_after(
    gateway_url: str, base_url: str, fake: FakeProviderServer
) -> None:
    import threading
    import time

    # requests per minute: counted in whole-minute windows, so start well inside one
    if 60 - time.time() % 60 < 10:
        time.sleep(60 - time.time() % 60 + 0.5)
    rpm = _hierarchy(gateway_url, "rpm-org", "--rpm", "3")
    client = _client(base_url, rpm["key"])
    for _ in range(3):
        assert _hello(client).choices[0].message.content
    with pytest.raises(openai.RateLimitError) as refused:
        _hello(client)
    assert isinstance(refused.value.body, dict) and refused.value.body["code"] == "requests_per_minute_exceeded"
    assert 1 <= int(refused.value.response.headers["retry-after"]) <= 60

    # tokens per minute: a request that may use more tokens than the limit is refused before it is sent
    tpm = tollgate(gateway_url, "keys", "create", "tpm", "--team", "rpm-org/ml", "--tpm", "40")
    small, large = _client(base_url, tpm["key"]), _client(base_url, tpm["key"])
    assert small.chat.completions.create(model="fake-openai", messages=[{"role": "user", "content": "hi"}],
                                         max_tokens=5).choices
    sent = len(recorded(fake))
    with pytest.raises(openai.RateLimitError) as too_many:
        large.chat.completions.create(model="fake-openai", messages=[{"role": "user", "content": "hi"}],
                                      max_tokens=500)
    assert isinstance(too_many.value.body, dict) and too_many.value.body["code"] == "tokens_per_minute_exceeded"
    assert len(recorded(fake)) == sent, "a refused request never reaches the provider"

    # requests in flight: the first holds its slot while the upstream is slow, the second is refused
    one = tollgate(gateway_url, "keys", "create", "one-at-a-time", "--team", "rpm-org/ml", "--max-concurrency", "1")
    add_fault(fake, match={"model": "gpt-4o-fake"}, fault="slow_first_token", delay=3.0, times=1)
    first: list[Any] = []
    holder = threading.Thread(target=lambda: first.append(_hello(_client(base_url, one["key"]))))
    holder.start()
    deadline = time.monotonic() + 30
    while len(recorded(fake)) == sent and time.monotonic() < deadline:
        time.sleep(0.05)  # until the first request has reached the (slow) provider, its slot taken
    with pytest.raises(openai.RateLimitError) as busy:
        _hello(_client(base_url, one["key"]))
    holder.join(timeout=30)
    assert isinstance(busy.value.body, dict) and busy.value.body["code"] == "concurrency_limit_exceeded"
    assert first and first[0].choices[0].message.content
    assert _hello(_client(base_url, one["key"])).choices, "the slot is free again once the first request ended"


# --- two ingress replicas on each store ----------------------------------------------------------------------


async def _storm(url: str, key: str, n: int) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=n)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        body = {"model": "metered", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 8}
        return list(await asyncio.gather(*(
            client.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"})
            for _ in range(n)
        )))


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_two_replicas_never_spend_past_a_daily_budget_and_charge_each_request_once(
    governed: dict[str, Governed], fake: FakeProviderServer, store: str
) -> None:
    url = governed[store].url
    governed[store].wait_for_replicas(2)
    # A reply here is "Echo from openai metered: hello" (5 words) to 1 prompt word: $0.30 a request.
    budget = 50 * 0.30
    key = _hierarchy(url, f"storm-{store}", "--daily-budget", str(budget))
    responses = asyncio.run(_storm(url, key["key"], 200))
    ok = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert len(ok) + len(refused) == 200, {r.status_code for r in responses}
    assert all(r.json()["error"]["type"] == "budget_exceeded" for r in refused)
    assert 10 <= len(ok) <= 50
    shown = tollgate(url, "keys", "show", key["id"])["usage"]["daily"]
    charged = sum(
        (r.json()["usage"]["prompt_tokens"] + r.json()["usage"]["completion_tokens"]) * 0.05 for r in ok
    )
    assert shown["reserved_usd"] == 0
    assert shown["spent_usd"] == pytest.approx(charged) and shown["spent_usd"] <= budget
    # One ledger row per answered request, none for refusals.
    assert _key_spend(url, key["id"])["requests"] == len(ok)


def test_keys_and_spend_survive_a_restart(governed: dict[str, Governed], fake: FakeProviderServer,
                                          fake_providers: FakeProviderServer) -> None:
    from ray import serve

    from serve_app.app import build_app_with_options

    url = governed["postgresql"].url
    key = _hierarchy(url, "restart-org")
    client = _client(f"{url}/v1", key["key"])
    client.chat.completions.create(model="metered", messages=[{"role": "user", "content": "hi"}], max_tokens=8)
    before = _key_spend(url, key["id"])
    assert before["requests"] == 1 and before["spend_usd"] > 0
    serve.delete("gov-postgresql")
    args = governed_args(fake_providers.base_url, governed["postgresql"].state_url, governed["postgresql"].data_dir)
    serve.run(build_app_with_options(args, GOVERNED_OPTIONS), name="gov-postgresql",
              route_prefix="/gov-postgresql")
    assert _key_spend(url, key["id"]) == before
    client.chat.completions.create(model="metered", messages=[{"role": "user", "content": "hi"}], max_tokens=8)


def _key_spend(url: str, key_id: str) -> dict[str, Any]:
    rows = tollgate(url, "spend", "report", "--by", "key", "--window", "all")["data"]
    return next(row for row in rows if row["key"] == key_id)
