"""The hierarchy and virtual keys: creation, hashing, revocation, rotation, expiry."""

from __future__ import annotations

import pytest

from serve_app.governance.directory import Directory, hash_key
from tests.unit.governance.conftest import Clock
from tollgate_core.entities import Budget, Budgets, EntityUpdate, KeyCreate, OrgCreate, TeamCreate
from tollgate_core.errors import AuthenticationError, BadRequestError, NotFoundError
from tollgate_core.store import Database


@pytest.fixture
async def directory(db: Database, clock: Clock) -> Directory:
    d = Directory(db, clock)
    await d.create_org(OrgCreate(name="acme"))
    await d.create_team(TeamCreate(org="acme", name="ml", models=["m", "other"]))
    return d


async def test_the_secret_is_shown_once_and_stored_only_as_a_hash(directory: Directory, db: Database) -> None:
    created = await directory.create_key(KeyCreate(team="acme/ml", name="svc"))
    assert created["key"].startswith("tg-") and len(created["key"]) > 40
    stored = await db.fetchone("SELECT * FROM api_keys WHERE id = $1", created["id"])
    assert stored is not None and stored["key_hash"] == hash_key(created["key"])
    assert created["key"] not in str(stored.values())
    listed = await directory.list("key")
    assert "key" not in listed[0] and "key_hash" not in listed[0]
    assert listed[0]["key_prefix"] == created["key"][:10]


async def test_revoked_keys_are_refused_at_once(directory: Directory) -> None:
    created = await directory.create_key(KeyCreate(team="acme/ml", name="svc"))
    await directory.authenticate(created["key"])
    await directory.revoke("key", created["id"])
    with pytest.raises(AuthenticationError) as refused:
        await directory.authenticate(created["key"])
    assert refused.value.code == "key_revoked"


async def test_a_revoked_team_disables_its_keys(directory: Directory) -> None:
    created = await directory.create_key(KeyCreate(team="acme/ml", name="svc"))
    team = (await directory.list("team"))[0]
    await directory.revoke("team", team["id"])
    with pytest.raises(AuthenticationError) as refused:
        await directory.authenticate(created["key"])
    assert refused.value.code == "key_disabled"


async def test_rotation_replaces_the_secret_and_keeps_the_key(directory: Directory) -> None:
    created = await directory.create_key(KeyCreate(team="acme/ml", name="svc"))
    rotated = await directory.rotate_key(created["id"])
    assert rotated["id"] == created["id"] and rotated["key"] != created["key"]
    with pytest.raises(AuthenticationError):
        await directory.authenticate(created["key"])
    assert (await directory.authenticate(rotated["key"])).key_id == created["id"]


async def test_expired_keys_are_refused(directory: Directory, clock: Clock) -> None:
    created = await directory.create_key(KeyCreate(team="acme/ml", name="svc", expires_at=clock.now + 10))
    await directory.authenticate(created["key"])
    clock.advance(10)
    with pytest.raises(AuthenticationError) as refused:
        await directory.authenticate(created["key"])
    assert refused.value.code == "key_expired"


async def test_unknown_keys_and_parents(directory: Directory) -> None:
    with pytest.raises(AuthenticationError):
        await directory.authenticate("tg-not-a-key")
    with pytest.raises(NotFoundError):
        await directory.create_key(KeyCreate(team="acme/nope", name="svc"))
    with pytest.raises(NotFoundError):
        await directory.create_team(TeamCreate(org="nope", name="x"))
    with pytest.raises(BadRequestError):
        await directory.create_team(TeamCreate(org="acme", name="ml"))


async def test_allowed_models_are_the_keys_within_the_teams(directory: Directory) -> None:
    both = await directory.create_key(KeyCreate(team="acme/ml", name="a", models=["m", "gpt-4o"]))
    inherit = await directory.create_key(KeyCreate(team="acme/ml", name="b"))
    assert (await directory.authenticate(both["key"])).models == ("m",)
    assert (await directory.authenticate(inherit["key"])).models == ("m", "other")


async def test_updates_change_budgets_and_show_in_the_next_authentication(directory: Directory) -> None:
    created = await directory.create_key(KeyCreate(team="acme/ml", name="svc"))
    await directory.update("key", created["id"], EntityUpdate(budgets=Budgets(daily=Budget(hard=3.0))))
    principal = await directory.authenticate(created["key"])
    assert principal.scopes[-1].budgets.daily == Budget(hard=3.0)


async def test_listing_filters_by_parent(directory: Directory) -> None:
    await directory.create_team(TeamCreate(org="acme", name="ops"))
    mine = await directory.create_key(KeyCreate(team="acme/ml", name="mine"))
    await directory.create_key(KeyCreate(team="acme/ops", name="theirs"))
    assert [k["id"] for k in await directory.list("key", "acme/ml")] == [mine["id"]]
    assert len(await directory.list("key")) == 2
    assert [t["name"] for t in await directory.list("team", "acme")] == ["ml", "ops"]
