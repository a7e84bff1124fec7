"""Cache tests: the real embedding model (loaded once), and the store on both backends."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import numpy as np
import pytest

from deployments.cache.embedder import Embedder, shared_embedder
from tests.unit.governance.conftest import Clock, db, store_url  # noqa: F401  (fixtures: both backends)
from tollgate_core.entities import Principal, Scope

Embed = Callable[[list[str]], Awaitable[np.ndarray]]


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return shared_embedder()


@pytest.fixture
def embed(embedder: Embedder) -> Embed:
    async def run(texts: list[str]) -> np.ndarray:
        return embedder.embed(texts)

    return run


@pytest.fixture
def clock() -> Clock:
    return Clock()


def team_principal(team: str = "ml", key: str = "key-1", org: str = "acme") -> Principal:
    """A virtual key of team ORG/TEAM."""
    return Principal(key_id=key, team_id=f"team-{team}", org_id=f"org-{org}",
                     scopes=(Scope(level="org", id=f"org-{org}", name=org),
                             Scope(level="team", id=f"team-{team}", name=team)))
