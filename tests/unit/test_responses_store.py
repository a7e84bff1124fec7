"""Stored Responses API answers: scoped to their team, kept for the retention period, on both stores and in memory."""

from __future__ import annotations

import pytest

from serve_app.http.responses_store import ResponseStore
from tests.unit.governance.conftest import Clock, clock, db, store_url  # noqa: F401  (fixtures: both backends)
from tollgate_core.store import Database

DAY = 86400.0


@pytest.fixture(params=["database", "memory"])
def store(request: pytest.FixtureRequest, db: Database, clock: Clock) -> ResponseStore:  # noqa: F811
    return ResponseStore(db if request.param == "database" else None, retention_s=30 * DAY, clock=clock)


async def test_a_response_is_its_teams_alone(store: ResponseStore) -> None:
    await store.save("acme/ml", {"id": "resp_1", "output": []}, [{"role": "user", "content": "hi"}])
    assert await store.load("acme/ml", "resp_1") == ({"id": "resp_1", "output": []},
                                                     [{"role": "user", "content": "hi"}])
    assert await store.load("acme/web", "resp_1") is None
    assert not await store.delete("acme/web", "resp_1")
    assert await store.delete("acme/ml", "resp_1")
    assert await store.load("acme/ml", "resp_1") is None


async def test_a_response_is_kept_for_the_retention_period(store: ResponseStore, clock: Clock) -> None:  # noqa: F811
    await store.save("", {"id": "resp_old", "output": []}, [])
    clock.advance(29 * DAY)
    assert await store.load("", "resp_old") is not None
    clock.advance(2 * DAY)
    assert await store.load("", "resp_old") is None
    await store.save("", {"id": "resp_new", "output": []}, [])  # and the expired one is deleted for good
    assert await store.load("", "resp_new") is not None


async def test_expired_rows_are_deleted_on_save(db: Database, clock: Clock) -> None:  # noqa: F811
    store = ResponseStore(db, retention_s=DAY, clock=clock)
    await store.save("", {"id": "a", "output": []}, [])
    clock.advance(2 * DAY)
    await store.save("", {"id": "b", "output": []}, [])
    assert [r["id"] for r in await db.fetchall("SELECT id FROM stored_responses")] == ["b"]
