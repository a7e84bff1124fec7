"""The seam every stateful feature uses: a database with one kind of transaction.

SQL is written once, with PostgreSQL's numbered placeholders (``$1``, ``$2``);
the SQLite backend rewrites them to ``?1``, ``?2``. Both engines understand
``INSERT … ON CONFLICT`` and ``UPDATE … RETURNING``, so one statement serves both.
Transactions take the write lock up front (SQLite ``BEGIN IMMEDIATE``;
PostgreSQL row locks from the conditional updates), so a conditional update
inside one is atomic across every replica that shares the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol
from urllib.parse import urlsplit

from tollgate_core.errors import ConfigError

__all__ = ["Database", "Row", "Transaction", "open_database"]

Row = dict[str, Any]


class Transaction(Protocol):
    """Statements inside one transaction; it commits when its block ends without an error."""

    async def execute(self, sql: str, *args: Any) -> None: ...

    async def fetchone(self, sql: str, *args: Any) -> Row | None: ...

    async def fetchall(self, sql: str, *args: Any) -> list[Row]: ...

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...


class Database(Protocol):
    """A connection pool to one store."""

    dialect: str

    def transaction(self) -> AbstractAsyncContextManager[Transaction]: ...

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        """One read outside an explicit transaction."""
        ...

    async def fetchall(self, sql: str, *args: Any) -> list[Row]: ...

    async def close(self) -> None: ...


async def open_database(url: str, *, migrate: bool = True) -> Database:
    """Connect to ``sqlite:///path`` or ``postgresql://…`` and bring the schema up to date."""
    scheme = urlsplit(url).scheme.lower()
    db: Database
    if scheme == "sqlite":
        from tollgate_core.store.sqlite import SQLiteDatabase

        db = SQLiteDatabase(sqlite_path(url))
    elif scheme in ("postgres", "postgresql"):
        from tollgate_core.store.postgres import PostgresDatabase

        db = await PostgresDatabase.connect(url)
    else:
        raise ConfigError(f"state.url {url!r}: use sqlite:///PATH or postgresql://USER@HOST:PORT/DB")
    if migrate:
        from tollgate_core.store.migrations import migrate as apply_migrations

        try:
            await apply_migrations(db)
        except BaseException:
            await db.close()
            raise
    return db


def sqlite_path(url: str) -> str:
    """``sqlite:///relative.db`` → ``relative.db``; ``sqlite:////abs/x.db`` → ``/abs/x.db``; ``~`` expanded."""
    import os

    rest = url.split(":", 1)[1]
    if not rest.startswith("///"):
        raise ConfigError(f"state.url {url!r}: a SQLite URL has three slashes, e.g. sqlite:///~/.tollgate/state.db")
    return os.path.expanduser(rest[3:])
