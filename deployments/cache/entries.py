"""Cache entries in the state store (SQLite or PostgreSQL): durable, shared by every replica, and the source the
in-memory index is rebuilt from at start."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from deployments.cache.embedder import DIMENSIONS
from tollgate_core.store import Database, Row

__all__ = ["CacheEntries", "CacheEntry", "IndexedEntry", "decode_vector", "encode_vector"]


def encode_vector(vector: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(vector, dtype="<f4").tobytes()).decode("ascii")


def decode_vector(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f4").reshape(DIMENSIONS)


@dataclass(frozen=True)
class CacheEntry:
    """One stored answer. ``query`` is the last user message (after redaction); ``response`` is what a hit replays:
    ``content``, ``model``, ``usage`` and ``cost_usd`` of the original call, and the ``target`` that answered."""

    id: str
    scope: str
    tenant: str
    model: str
    exact_key: str
    query: str
    vector: np.ndarray
    response: dict[str, Any]
    created_at: float
    expires_at: float


@dataclass(frozen=True)
class IndexedEntry:
    """What a replica's vector index holds of an entry; the rest is read when it is a candidate."""

    id: str
    scope: str
    embedding: str  # as stored: decoded only for entries the index does not have yet
    expires_at: float

    @property
    def vector(self) -> np.ndarray:
        return decode_vector(self.embedding)


def _entry(row: Row) -> CacheEntry:
    return CacheEntry(
        id=row["id"], scope=row["scope"], tenant=row["tenant"], model=row["model"], exact_key=row["exact_key"],
        query=row["query"], vector=decode_vector(row["embedding"]), response=json.loads(row["response"]),
        created_at=float(row["created_at"]), expires_at=float(row["expires_at"]),
    )


_COLUMNS = "id, scope, tenant, model, exact_key, query, embedding, response, created_at, expires_at"


class CacheEntries:
    """The ``cache_entries`` table (schema version 3)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(self, entry: CacheEntry) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                f"INSERT INTO cache_entries ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
                "ON CONFLICT (id) DO NOTHING",
                entry.id, entry.scope, entry.tenant, entry.model, entry.exact_key, entry.query,
                encode_vector(entry.vector), json.dumps(entry.response, separators=(",", ":")),
                entry.created_at, entry.expires_at,
            )

    async def find_exact(self, exact_key: str, now: float) -> CacheEntry | None:
        """The newest live entry for this exact request (the key already includes the scope)."""
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM cache_entries WHERE exact_key = $1 AND expires_at > $2 "
            "ORDER BY created_at DESC LIMIT 1",
            exact_key, now,
        )
        return _entry(row) if row else None

    async def fetch(self, ids: list[str], now: float) -> dict[str, CacheEntry]:
        """The live entries among ``ids`` (purged or expired ones are simply absent)."""
        if not ids:
            return {}
        marks = ", ".join(f"${i}" for i in range(2, len(ids) + 2))
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM cache_entries WHERE expires_at > $1 AND id IN ({marks})", now, *ids
        )
        return {row["id"]: _entry(row) for row in rows}

    async def indexed_since(self, since: float, now: float) -> list[IndexedEntry]:
        """The index columns of live entries created at or after ``since`` (the whole live cache for ``since=0``):
        no query text or answer, so the rebuild at start and the tail read only what the index needs."""
        rows = await self._db.fetchall(
            "SELECT id, scope, embedding, expires_at FROM cache_entries WHERE created_at >= $1 AND expires_at > $2 "
            "ORDER BY created_at",
            since, now,
        )
        return [IndexedEntry(row["id"], row["scope"], row["embedding"], float(row["expires_at"])) for row in rows]

    async def purge(self, *, now: float, tenant: str | None = None, model: str | None = None,
                    older_than_s: float | None = None) -> int:
        """Delete entries matching every given filter (all entries when none is given); the number deleted."""
        cutoff = now - older_than_s if older_than_s is not None else None
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "DELETE FROM cache_entries WHERE (CAST($1 AS TEXT) IS NULL OR tenant = $1) "
                "AND (CAST($2 AS TEXT) IS NULL OR model = $2) "
                "AND (CAST($3 AS DOUBLE PRECISION) IS NULL OR created_at < $3) RETURNING id",
                tenant, model, cutoff,
            )
        return len(rows)

    async def delete_expired(self, now: float) -> int:
        async with self._db.transaction() as tx:
            rows = await tx.fetchall("DELETE FROM cache_entries WHERE expires_at <= $1 RETURNING id", now)
        return len(rows)

    async def count(self, now: float) -> dict[str, int]:
        """Live entries per tenant."""
        rows = await self._db.fetchall(
            "SELECT tenant, COUNT(*) AS n FROM cache_entries WHERE expires_at > $1 GROUP BY tenant", now
        )
        return {row["tenant"]: int(row["n"]) for row in rows}
