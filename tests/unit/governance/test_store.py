"""The state store: migrations, both backends, restart."""

from __future__ import annotations

import pytest

from serve_app.governance.directory import Directory
from tollgate_core.entities import KeyCreate, OrgCreate, TeamCreate
from tollgate_core.errors import ConfigError
from tollgate_core.store import Database, open_database
from tollgate_core.store.migrations import MIGRATIONS, migrate, schema_version


async def test_migrations_are_applied_once(db: Database) -> None:
    assert await schema_version(db) == MIGRATIONS[-1][0]
    assert await migrate(db) == MIGRATIONS[-1][0]  # nothing left to apply
    rows = await db.fetchall("SELECT version FROM schema_migrations")
    assert [r["version"] for r in rows] == [m[0] for m in MIGRATIONS]


async def test_keys_survive_a_restart(store_url: str) -> None:
    first = await open_database(store_url)
    directory = Directory(first)
    await directory.create_org(OrgCreate(name="acme"))
    await directory.create_team(TeamCreate(org="acme", name="ml"))
    created = await directory.create_key(KeyCreate(team="acme/ml", name="svc"))
    await first.close()

    second = await open_database(store_url)
    try:
        principal = await Directory(second).authenticate(created["key"])
        assert principal.key_id == created["id"]
    finally:
        await second.close()


async def test_a_transaction_that_fails_leaves_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3)", "org_x", "x", 0.0)
            raise RuntimeError("boom")
    assert await db.fetchone("SELECT id FROM orgs WHERE id = $1", "org_x") is None


@pytest.mark.parametrize("url", ["mysql://x", "sqlite://relative.db", "redis://localhost"], ids=["mysql", "two-slashes", "redis"])
async def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        await open_database(url)
