"""Versioned schema migrations, applied at start by whichever replica gets there first.

Each migration is a list of statements valid on both SQLite and PostgreSQL
(TEXT, BIGINT, DOUBLE PRECISION; JSON kept as TEXT). A migration is never edited
once released: add a new version instead.
"""

from __future__ import annotations

import logging
import time

from tollgate_core.store.base import Database

__all__ = ["MIGRATIONS", "migrate", "schema_version"]

logger = logging.getLogger("tollgate.store")

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (1, "governance: hierarchy, keys, counters, reservations, spend ledger", [
        """CREATE TABLE orgs (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL DEFAULT 'active',
            budgets TEXT NOT NULL DEFAULT '{}',
            limits TEXT NOT NULL DEFAULT '{}',
            created_at DOUBLE PRECISION NOT NULL
        )""",
        """CREATE TABLE teams (
            id TEXT PRIMARY KEY,
            org_id TEXT NOT NULL REFERENCES orgs(id),
            name TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'active',
            budgets TEXT NOT NULL DEFAULT '{}',
            limits TEXT NOT NULL DEFAULT '{}',
            end_user_budgets TEXT NOT NULL DEFAULT '{}',
            models TEXT NOT NULL DEFAULT '[]',
            created_at DOUBLE PRECISION NOT NULL,
            UNIQUE (org_id, name)
        )""",
        """CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            team_id TEXT NOT NULL REFERENCES teams(id),
            name TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            key_prefix TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'active',
            models TEXT NOT NULL DEFAULT '[]',
            budgets TEXT NOT NULL DEFAULT '{}',
            limits TEXT NOT NULL DEFAULT '{}',
            expires_at DOUBLE PRECISION,
            created_at DOUBLE PRECISION NOT NULL,
            last_used_at DOUBLE PRECISION
        )""",
        "CREATE INDEX api_keys_team ON api_keys (team_id)",
        # One row per (entity, metric, window): the unit of the atomic conditional update.
        """CREATE TABLE counters (
            scope TEXT NOT NULL,
            metric TEXT NOT NULL,
            window_start BIGINT NOT NULL,
            used BIGINT NOT NULL DEFAULT 0,
            reserved BIGINT NOT NULL DEFAULT 0,
            -- the limit the last reservation was checked against (the upsert compares with excluded.limit_hint)
            limit_hint BIGINT,
            PRIMARY KEY (scope, metric, window_start)
        )""",
        """CREATE TABLE reservations (
            id TEXT PRIMARY KEY,
            items TEXT NOT NULL,
            context TEXT NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL,
            created_at DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX reservations_expiry ON reservations (expires_at)",
        """CREATE TABLE spend_ledger (
            request_id TEXT PRIMARY KEY,
            client_request_id TEXT,
            org_id TEXT,
            team_id TEXT,
            key_id TEXT,
            end_user TEXT,
            model TEXT NOT NULL,
            target TEXT,
            prompt_tokens BIGINT NOT NULL DEFAULT 0,
            completion_tokens BIGINT NOT NULL DEFAULT 0,
            cached_tokens BIGINT NOT NULL DEFAULT 0,
            cache_write_tokens BIGINT NOT NULL DEFAULT 0,
            cost_nano BIGINT NOT NULL DEFAULT 0,
            outcome TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX spend_ledger_time ON spend_ledger (created_at)",
    ]),
    (2, "audit: hash-chained log, its head, signed checkpoints", [
        # record is the canonical JSON that was hashed; request_id, time and team_id copy it for queries.
        """CREATE TABLE audit_log (
            seq BIGINT PRIMARY KEY,
            request_id TEXT NOT NULL,
            time DOUBLE PRECISION NOT NULL,
            team_id TEXT,
            record TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )""",
        "CREATE INDEX audit_log_time ON audit_log (time)",
        "CREATE INDEX audit_log_request ON audit_log (request_id)",
        "CREATE INDEX audit_log_team_time ON audit_log (team_id, time)",
        # One row, the chain's tip: every committing batch locks it, so all replicas extend one chain.
        "CREATE TABLE audit_head (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL)",
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '" + "0" * 64 + "')",
        """CREATE TABLE audit_checkpoints (
            seq BIGINT PRIMARY KEY,
            hash TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            mac TEXT NOT NULL
        )""",
    ]),
    (3, "cache: durable response cache entries", [
        # scope hashes tenant + model + context; exact_key hashes scope + the normalised last user message.
        # embedding is the base64 of 384 little-endian float32s (one type on both engines).
        """CREATE TABLE cache_entries (
            id TEXT PRIMARY KEY,
            scope TEXT NOT NULL,
            tenant TEXT NOT NULL,
            model TEXT NOT NULL,
            exact_key TEXT NOT NULL,
            query TEXT NOT NULL,
            embedding TEXT NOT NULL,
            response TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX cache_entries_exact ON cache_entries (exact_key, created_at)",
        "CREATE INDEX cache_entries_created ON cache_entries (created_at)",
        "CREATE INDEX cache_entries_tenant ON cache_entries (tenant, created_at)",
        "CREATE INDEX cache_entries_expires ON cache_entries (expires_at)",
    ]),
    (4, "responses: stored Responses API answers for previous_response_id", [
        # ``owner`` is the team id ('' for the master key): a stored response is visible to its team only.
        """CREATE TABLE stored_responses (
            id TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            response TEXT NOT NULL,
            conversation TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX stored_responses_created ON stored_responses (created_at)",
    ]),
    (5, "spend ledger: what prompt caching saved per request", [
        "ALTER TABLE spend_ledger ADD COLUMN saved_nano BIGINT NOT NULL DEFAULT 0",
    ]),
]


async def schema_version(db: Database) -> int:
    row = await db.fetchone("SELECT MAX(version) AS v FROM schema_migrations")
    return int(row["v"]) if row and row["v"] is not None else 0


async def migrate(db: Database) -> int:
    """Apply every pending migration in one transaction; return the schema version."""
    async with db.transaction() as tx:
        if db.dialect == "postgresql":
            # Replicas starting together: one applies, the others wait and find nothing to do.
            await tx.execute("SELECT pg_advisory_xact_lock(7261)")
        await tx.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
            "description TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
        )
        row = await tx.fetchone("SELECT MAX(version) AS v FROM schema_migrations")
        current = int(row["v"]) if row and row["v"] is not None else 0
        for version, description, statements in MIGRATIONS:
            if version <= current:
                continue
            for statement in statements:
                await tx.execute(statement)
            await tx.execute(
                "INSERT INTO schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)",
                version, description, time.time(),
            )
            logger.info("state store: applied migration %d (%s)", version, description)
            current = version
    return current
