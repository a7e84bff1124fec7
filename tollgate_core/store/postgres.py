"""PostgreSQL backend: an asyncpg pool; for many ingress replicas on many nodes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from tollgate_core.errors import ConfigError, StoreUnavailableError
from tollgate_core.store.base import Row

__all__ = ["PostgresDatabase"]

_CONNECT_TIMEOUT_S = 10.0
# A request that cannot reach the store waits this long for a connection, then is refused (503), not queued.
_ACQUIRE_TIMEOUT_S = 10.0
_RETRY_AFTER_S = 2.0

# The server is gone, restarting or refusing connections: the store is unavailable, not the request wrong.
_UNREACHABLE = (OSError, TimeoutError, asyncpg.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError,
                asyncpg.InterfaceError, asyncpg.InternalClientError)


@asynccontextmanager
async def _reachable() -> AsyncIterator[None]:
    """Turns a lost or refused connection into :class:`StoreUnavailableError`: keys cannot be checked nor spend
    recorded, so the request is refused with 503 (fail closed). The pool reconnects on the next acquire."""
    try:
        yield
    except _UNREACHABLE as exc:
        raise StoreUnavailableError(
            f"the state store cannot be reached ({type(exc).__name__}); the request was not answered",
            retry_after=_RETRY_AFTER_S) from exc


class _PostgresTransaction:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, *args: Any) -> None:
        await self._conn.execute(sql, *args)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        row = await self._conn.fetchrow(sql, *args)
        return dict(row) if row is not None else None

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        return [dict(r) for r in await self._conn.fetch(sql, *args)]


class PostgresDatabase:
    """A pool of connections; each transaction holds one connection from begin to commit."""

    dialect = "postgresql"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, url: str, *, min_size: int = 1, max_size: int = 10) -> PostgresDatabase:
        try:
            pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size, timeout=_CONNECT_TIMEOUT_S)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            raise ConfigError(f"cannot connect to the PostgreSQL state store: {exc}") from exc
        return cls(pool)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_PostgresTransaction]:
        async with _reachable(), self._pool.acquire(timeout=_ACQUIRE_TIMEOUT_S) as conn, conn.transaction():
            yield _PostgresTransaction(conn)

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        async with _reachable(), self._pool.acquire(timeout=_ACQUIRE_TIMEOUT_S) as conn:
            row = await conn.fetchrow(sql, *args)
        return dict(row) if row is not None else None

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        async with _reachable(), self._pool.acquire(timeout=_ACQUIRE_TIMEOUT_S) as conn:
            return [dict(r) for r in await conn.fetch(sql, *args)]

    async def close(self) -> None:
        await self._pool.close()
