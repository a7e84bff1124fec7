"""Governance tests run against both store backends: SQLite and the throw-away PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from serve_app.governance.enforcer import Governance
from tollgate_core.config import GatewayConfig, parse_gateway_config
from tollgate_core.store import Database, open_database


class Clock:
    """An injectable clock: starts at a fixed UTC time, moves only when told."""

    def __init__(self, now: float = 1_767_225_600.0 + 3 * 3600 + 120) -> None:  # 2026-01-01T03:02:00Z
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# $100 per 1M tokens both ways: one token costs $0.0001.
PRICES = {"input": 100.0, "output": 100.0}


def governance_config(**extra: Any) -> GatewayConfig:
    return parse_gateway_config({
        "models": {
            "m": {"targets": [{"provider": "openai", "model": "x", "api_key_env": "K", "prices": PRICES}]},
            "other": {"targets": [{"provider": "openai", "model": "y", "api_key_env": "K", "prices": PRICES}]},
        },
        **extra,
    })


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def db(store_url: str) -> AsyncIterator[Database]:
    database = await open_database(store_url)
    yield database
    await database.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_governance(db: Database, clock: Clock) -> Callable[..., Governance]:
    def make(database: Database | None = None, **config: Any) -> Governance:
        return Governance(database or db, governance_config(**config), clock=clock)

    return make
