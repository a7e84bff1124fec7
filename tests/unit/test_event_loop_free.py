"""No blocking call on the event loop along the request path (issue 23's tail latency: one blocking call in an
Ingress replica stalls every request it holds).

blockbuster patches the blocking functions (sleep, file and socket I/O, os.stat, …) so that one called on a running
event loop from our packages raises ``BlockingError``. The request path is then driven through every answer
endpoint, streamed and not, with the guardrail (redacting and restoring), governance, the audit log and an inline
judge on. (The SemanticCache and the tier classifier run in their own deployments; their Ray calls are awaited.) Deliberate exceptions, each with its reason:

- SQLite statements run inline on the loop (tollgate_core/store/sqlite.py: a statement on a local WAL database takes
  tens of microseconds, less than a thread hop); PostgreSQL goes through asyncpg.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from blockbuster import BlockBuster, BlockingError

from fake_providers.server import FakeProviderServer
from tests.unit.test_judging import ENDPOINTS, MASTER, body_for, judged_gateway

PACKAGES = ["serve_app", "deployments", "tollgate_core"]


@pytest.fixture
def blockbuster() -> Iterator[BlockBuster]:
    bb = BlockBuster(scanned_modules=PACKAGES)
    bb.activate()
    for name in [n for n in bb.functions if n.startswith("sqlite3.")]:
        bb.functions[name].deactivate()  # deliberately inline; see the module's docstring
    try:
        yield bb
    finally:
        bb.deactivate()


async def test_the_detector_catches_a_blocking_call_under_our_code(blockbuster: BlockBuster,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """This file's guard: a blocking call made while one of our coroutines runs raises (here a helper the judge step
    calls, made to sleep)."""
    from serve_app.audit.trace import RequestTrace
    from serve_app.pipeline import judging
    from tests.unit.test_judging import PRINCIPAL, SYSTEM, BlockingLink, RecordingMetrics, step_for

    def sleeping_retrieved_context(messages: Any) -> None:
        time.sleep(0.001)

    monkeypatch.setattr(judging, "retrieved_context", sleeping_retrieved_context)
    step = step_for({"policy": {"prompt_leak": {"mode": "inline", "action": "flag"}}}, BlockingLink(sleep_s=0.001),
                    RecordingMetrics())
    plan = step.plan(PRINCIPAL, "m")
    assert plan is not None
    with pytest.raises(BlockingError, match="time.sleep"):
        await step.inline(plan, SYSTEM, "hello", RequestTrace())


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_the_request_path_never_blocks_the_loop(fake: FakeProviderServer, tmp_path: Path, stream: bool,
                                                      request: pytest.FixtureRequest) -> None:
    judges: dict[str, Any] = {"policy": {"prompt_leak": {"mode": "inline", "action": "flag", "confidential": ["X-1"]}}}
    async with judged_gateway(fake, tmp_path, judges) as stack:
        # The first request loads what loads lazily (the guardrail's recognisers, tokenizers): start-up, not traffic.
        await stack.client.post("/v1/chat/completions", json=body_for("/v1/chat/completions", "warm up", False),
                                headers=MASTER)
        bb = request.getfixturevalue("blockbuster")
        try:
            for endpoint in ENDPOINTS:
                for text in ("what are your opening hours", "mail jane.doe@example.com the code X-1"):
                    response = await stack.client.post(endpoint, json=body_for(endpoint, text, stream),
                                                       headers=MASTER)
                    assert response.status_code == 200, response.text
                    assert "BlockingError" not in response.text
            await stack.gateway.drain()
        finally:
            bb.deactivate()
        records = await stack.records()
        assert len(records) == 1 + 2 * len(ENDPOINTS)
        assert all(r["outcome"] == "ok" for r in records), [r["outcome"] for r in records]
