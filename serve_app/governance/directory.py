"""Organisations, teams and virtual keys in the store; authentication of a key.

A key's secret (``tg-…``) is returned once, at creation or rotation, and stored
only as its SHA-256 (the secrets are 256 random bits, so a fast hash is the
standard choice). Every request looks its key up in the store, so a revoked,
rotated or expired key is refused at once by every replica.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from typing import Any, Literal

from tollgate_core.entities import (
    Budgets,
    EntityUpdate,
    KeyCreate,
    OrgCreate,
    Principal,
    RateLimits,
    Scope,
    TeamCreate,
)
from tollgate_core.errors import AuthenticationError, BadRequestError, NotFoundError
from tollgate_core.store.base import Database, Row

__all__ = ["Directory", "EntityKind", "hash_key"]

EntityKind = Literal["org", "team", "key"]
_TABLES: dict[str, str] = {"org": "orgs", "team": "teams", "key": "api_keys"}
KEY_PREFIX = "tg-"


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_id(kind: str) -> str:
    return f"{kind}_{secrets.token_hex(8)}"


def _new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _public(kind: EntityKind, row: Row) -> dict[str, Any]:
    """A stored row as the admin API shows it (JSON columns decoded, never the hash)."""
    out = {k: v for k, v in row.items() if k != "key_hash"}
    for column in ("budgets", "limits", "end_user_budgets", "models"):
        if column in out and isinstance(out[column], str):
            out[column] = json.loads(out[column])
    out["object"] = kind
    return out


class Directory:
    """CRUD over the hierarchy and the key lookup on the request path."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    # -- organisations and teams ---------------------------------------------------------

    async def create_org(self, spec: OrgCreate) -> dict[str, Any]:
        org_id = _new_id("org")
        async with self.db.transaction() as tx:
            if await tx.fetchone("SELECT id FROM orgs WHERE name = $1", spec.name):
                raise BadRequestError(f"an organisation named {spec.name!r} already exists", param="name",
                                      code="already_exists")
            await tx.execute(
                "INSERT INTO orgs (id, name, budgets, limits, created_at) VALUES ($1, $2, $3, $4, $5)",
                org_id, spec.name, spec.budgets.model_dump_json(exclude_none=True),
                spec.limits.model_dump_json(exclude_none=True), self.clock(),
            )
        return await self.get("org", org_id)

    async def create_team(self, spec: TeamCreate) -> dict[str, Any]:
        org = await self._resolve_org(spec.org)
        team_id = _new_id("team")
        async with self.db.transaction() as tx:
            if await tx.fetchone("SELECT id FROM teams WHERE org_id = $1 AND name = $2", org["id"], spec.name):
                raise BadRequestError(f"organisation {org['name']!r} already has a team named {spec.name!r}",
                                      param="name", code="already_exists")
            await tx.execute(
                "INSERT INTO teams (id, org_id, name, budgets, limits, end_user_budgets, models, created_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                team_id, org["id"], spec.name, spec.budgets.model_dump_json(exclude_none=True),
                spec.limits.model_dump_json(exclude_none=True),
                spec.end_user_budgets.model_dump_json(exclude_none=True), json.dumps(spec.models), self.clock(),
            )
        return await self.get("team", team_id)

    # -- keys ------------------------------------------------------------------------------

    async def create_key(self, spec: KeyCreate) -> dict[str, Any]:
        """Create a key; the result carries ``key`` (the secret) this once."""
        team = await self._resolve_team(spec.team)
        key_id, secret = _new_id("key"), _new_secret()
        await self._insert_key(key_id, team["id"], spec, secret)
        return {**await self.get("key", key_id), "key": secret}

    async def _insert_key(self, key_id: str, team_id: str, spec: KeyCreate, secret: str) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO api_keys (id, team_id, name, key_hash, key_prefix, models, budgets, limits, expires_at, "
                "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                key_id, team_id, spec.name, hash_key(secret), secret[:10], json.dumps(spec.models),
                spec.budgets.model_dump_json(exclude_none=True), spec.limits.model_dump_json(exclude_none=True),
                spec.expires_at, self.clock(),
            )

    async def rotate_key(self, key_id: str) -> dict[str, Any]:
        """A new secret for the same key (same budgets, limits and spend); the old one stops working now."""
        secret = _new_secret()
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "UPDATE api_keys SET key_hash = $1, key_prefix = $2 WHERE id = $3 AND status = 'active' RETURNING id",
                hash_key(secret), secret[:10], key_id,
            )
        if row is None:
            await self.get("key", key_id)  # 404 if it does not exist
            raise BadRequestError(f"key {key_id} is revoked; create a new key instead", code="key_revoked")
        return {**await self.get("key", key_id), "key": secret}

    # -- common ----------------------------------------------------------------------------

    async def get(self, kind: EntityKind, entity_id: str) -> dict[str, Any]:
        row = await self.db.fetchone(f"SELECT * FROM {_TABLES[kind]} WHERE id = $1", entity_id)
        if row is None:
            raise NotFoundError(f"no {kind} with id {entity_id!r}", code=f"{kind}_not_found")
        return _public(kind, row)

    async def list(self, kind: EntityKind, parent: str | None = None) -> list[dict[str, Any]]:
        if kind == "org":
            rows = await self.db.fetchall("SELECT * FROM orgs ORDER BY created_at")
        elif kind == "team":
            org_id = (await self._resolve_org(parent))["id"] if parent else None
            rows = await self.db.fetchall(
                "SELECT * FROM teams WHERE (CAST($1 AS TEXT) IS NULL OR org_id = $1) ORDER BY created_at", org_id
            )
        else:
            team_id = (await self._resolve_team(parent))["id"] if parent else None
            rows = await self.db.fetchall(
                "SELECT * FROM api_keys WHERE (CAST($1 AS TEXT) IS NULL OR team_id = $1) ORDER BY created_at", team_id
            )
        return [_public(kind, r) for r in rows]

    async def revoke(self, kind: EntityKind, entity_id: str) -> dict[str, Any]:
        """Disable an org, team or key; everything under it is refused from the next request."""
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                f"UPDATE {_TABLES[kind]} SET status = 'revoked' WHERE id = $1 RETURNING id", entity_id
            )
        if row is None:
            raise NotFoundError(f"no {kind} with id {entity_id!r}", code=f"{kind}_not_found")
        return await self.get(kind, entity_id)

    async def update(self, kind: EntityKind, entity_id: str, change: EntityUpdate) -> dict[str, Any]:
        await self.get(kind, entity_id)
        columns: dict[str, Any] = {}
        if change.budgets is not None:
            columns["budgets"] = change.budgets.model_dump_json(exclude_none=True)
        if change.limits is not None:
            columns["limits"] = change.limits.model_dump_json(exclude_none=True)
        if change.end_user_budgets is not None:
            if kind != "team":
                raise BadRequestError("end_user_budgets are set on a team", param="end_user_budgets")
            columns["end_user_budgets"] = change.end_user_budgets.model_dump_json(exclude_none=True)
        if change.models is not None:
            if kind == "org":
                raise BadRequestError("allowed models are set on a team or a key", param="models")
            columns["models"] = json.dumps(change.models)
        if change.expires_at is not None:
            if kind != "key":
                raise BadRequestError("expires_at is set on a key", param="expires_at")
            columns["expires_at"] = change.expires_at
        if columns:
            assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(columns, start=2))
            async with self.db.transaction() as tx:
                await tx.execute(f"UPDATE {_TABLES[kind]} SET {assignments} WHERE id = $1", entity_id,
                                 *columns.values())
        return await self.get(kind, entity_id)

    async def _resolve_org(self, ref: str) -> Row:
        row = await self.db.fetchone("SELECT * FROM orgs WHERE id = $1 OR name = $1", ref)
        if row is None:
            raise NotFoundError(f"no organisation with id or name {ref!r}", param="org", code="org_not_found")
        return row

    async def _resolve_team(self, ref: str) -> Row:
        """A team by id, or by ``ORG/TEAM`` names."""
        if "/" in ref:
            org_ref, _, name = ref.partition("/")
            row = await self.db.fetchone(
                "SELECT t.* FROM teams t JOIN orgs o ON o.id = t.org_id "
                "WHERE (o.id = $1 OR o.name = $1) AND t.name = $2", org_ref, name,
            )
        else:
            row = await self.db.fetchone("SELECT * FROM teams WHERE id = $1", ref)
        if row is None:
            raise NotFoundError(f"no team {ref!r} (give its id or ORG/TEAM)", param="team", code="team_not_found")
        return row

    # -- the request path ------------------------------------------------------------------

    async def authenticate(self, secret: str) -> Principal:
        """The caller behind a virtual key, or :class:`AuthenticationError` (401)."""
        row = await self.db.fetchone(
            "SELECT k.id AS key_id, k.name AS key_name, k.status AS key_status, k.models AS key_models, "
            "k.budgets AS key_budgets, k.limits AS key_limits, k.expires_at, "
            "t.id AS team_id, t.name AS team_name, t.status AS team_status, t.models AS team_models, "
            "t.budgets AS team_budgets, t.limits AS team_limits, t.end_user_budgets, "
            "o.id AS org_id, o.name AS org_name, o.status AS org_status, o.budgets AS org_budgets, "
            "o.limits AS org_limits "
            "FROM api_keys k JOIN teams t ON t.id = k.team_id JOIN orgs o ON o.id = t.org_id WHERE k.key_hash = $1",
            hash_key(secret),
        )
        if row is None:
            raise AuthenticationError("Incorrect API key provided.")
        if row["key_status"] != "active":
            raise AuthenticationError("This API key has been revoked.", code="key_revoked")
        if row["expires_at"] is not None and row["expires_at"] <= self.clock():
            raise AuthenticationError("This API key has expired.", code="key_expired")
        if row["team_status"] != "active" or row["org_status"] != "active":
            raise AuthenticationError("This API key's team or organisation has been disabled.", code="key_disabled")
        key_models, team_models = json.loads(row["key_models"]), json.loads(row["team_models"])
        models = [m for m in key_models if not team_models or m in team_models] if key_models else team_models
        if key_models and team_models and not models:
            models = ["\0none"]  # the key's list and its team's do not overlap: nothing is allowed
        return Principal(
            key_id=row["key_id"], key_name=row["key_name"], team_id=row["team_id"], org_id=row["org_id"],
            models=tuple(models),
            scopes=(
                _scope("org", row["org_id"], row["org_name"], row["org_budgets"], row["org_limits"]),
                _scope("team", row["team_id"], row["team_name"], row["team_budgets"], row["team_limits"]),
                _scope("key", row["key_id"], row["key_name"], row["key_budgets"], row["key_limits"]),
            ),
            end_user_budgets=Budgets.model_validate_json(row["end_user_budgets"] or "{}"),
        )


def _scope(level: Literal["org", "team", "key"], entity_id: str, name: str, budgets: str, limits: str) -> Scope:
    return Scope(level=level, id=entity_id, name=name, budgets=Budgets.model_validate_json(budgets or "{}"),
                 limits=RateLimits.model_validate_json(limits or "{}"))
