"""Fixtures shared by both test tiers: the throw-away PostgreSQL server."""

from __future__ import annotations

import os
from collections.abc import Iterator

import hypothesis  # noqa: F401  (see below)
import pytest

from tests.postgres_server import PostgresServer, new_schema

# Hypothesis's pytest plugin imports hypothesis at the end of a session that never did; pytest then
# assertion-rewrites it deep in the summary hook's stack, where CPython 3.11.7's AST constructor
# fails ("recursion depth mismatch"). Importing it here, at collection, avoids that.

# A server started outside the test session (``make mutation`` starts one for its thousands of
# pytest sessions, which would otherwise each start their own).
EXTERNAL_SERVER = "TOLLGATE_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The server's URL: an external one when ``TOLLGATE_TEST_POSTGRES_URL`` names it, else a throw-away one."""
    if os.environ.get(EXTERNAL_SERVER):
        yield os.environ[EXTERNAL_SERVER]
        return
    server = PostgresServer().start()
    try:
        yield server.url()
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A new, empty schema for one test, as the URL's search path (a schema takes milliseconds, a database 0.25 s)."""
    return new_schema(postgres_server)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that start a Ray cluster of their own (``own_ray``) run first, before the shared one exists."""
    items.sort(key=lambda item: item.get_closest_marker("own_ray") is None)
