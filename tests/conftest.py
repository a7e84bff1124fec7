"""Fixtures shared by both test tiers: the throw-away PostgreSQL server."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import hypothesis  # noqa: F401  (see below)
import pytest

from tests.postgres_server import PostgresServer

# Hypothesis's pytest plugin imports hypothesis at the end of a session that never did; pytest then
# assertion-rewrites it deep in the summary hook's stack, where CPython 3.11.7's AST constructor
# fails ("recursion depth mismatch"). Importing it here, at collection, avoids that.

_database_names = (f"tollgate_test_{i}" for i in itertools.count())


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A new, empty database for one test."""
    return postgres_server.create_database(next(_database_names))
