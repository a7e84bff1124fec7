"""SQLite backend: one connection per process, driven from one dedicated thread.

Every transaction starts with ``BEGIN IMMEDIATE``, which takes the database's
write lock before the first statement, so two replicas (processes) sharing the
file serialise their transactions; inside one process an ``asyncio.Lock``
keeps coroutines from interleaving statements on the shared connection.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from serve_app.store.base import Row

__all__ = ["SQLiteDatabase", "to_qmark"]

T = TypeVar("T")

_NUMBERED = re.compile(r"\$(\d+)")
_BUSY_TIMEOUT_S = 30.0


def to_qmark(sql: str) -> str:
    """``$1`` → ``?1``: SQLite's numbered parameters keep PostgreSQL's numbering."""
    return _NUMBERED.sub(r"?\1", sql)


class _SQLiteTransaction:
    def __init__(self, db: SQLiteDatabase) -> None:
        self._db = db

    async def execute(self, sql: str, *args: Any) -> None:
        await self._db._call(lambda c: c.execute(to_qmark(sql), args))

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self._db._call(lambda c: c.executemany(to_qmark(sql), rows))

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        return await self._db._call(lambda c: _one(c.execute(to_qmark(sql), args)))

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        return await self._db._call(lambda c: _all(c.execute(to_qmark(sql), args)))


def _one(cursor: sqlite3.Cursor) -> Row | None:
    row = cursor.fetchone()
    return dict(row) if row is not None else None


def _all(cursor: sqlite3.Cursor) -> list[Row]:
    return [dict(r) for r in cursor.fetchall()]


class SQLiteDatabase:
    """The embedded store: a file, zero set-up, safe for several local replicas."""

    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tollgate-sqlite")
        self._conn: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        # Durable once committed even if the process dies; an OS crash may lose the last commits.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    async def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def run() -> T:
            if self._conn is None:
                self._conn = self._connect()
            return fn(self._conn)

        return await asyncio.get_running_loop().run_in_executor(self._executor, run)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_SQLiteTransaction]:
        async with self._lock:
            await self._call(lambda c: c.execute("BEGIN IMMEDIATE"))
            try:
                yield _SQLiteTransaction(self)
            except BaseException:
                await asyncio.shield(self._call(lambda c: c.execute("ROLLBACK")))
                raise
            await asyncio.shield(self._call(lambda c: c.execute("COMMIT")))

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        async with self._lock:
            return await self._call(lambda c: _one(c.execute(to_qmark(sql), args)))

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        async with self._lock:
            return await self._call(lambda c: _all(c.execute(to_qmark(sql), args)))

    async def close(self) -> None:
        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        async with self._lock:
            await asyncio.get_running_loop().run_in_executor(self._executor, shut)
        self._executor.shutdown(wait=True)
