"""Group commit of audit records into one hash chain shared by every replica.

``append`` queues a record and returns its sequence number once the batch that
holds it has committed; a background task (started on the first append) commits
a batch as soon as it is free (with ``flush_interval_s`` > 0: once the oldest
record has waited that long) or when the batch is full; records that arrive
during a commit form the next batch, so batches grow with load. One transaction per batch locks the chain's head row, links and inserts
the records, moves the head and signs a checkpoint at the batch's last record.
The head row is the single point every writer serialises on, so sequence numbers
are allocated in commit order with no gaps, across processes and nodes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from serve_app.audit.chain import GENESIS_HASH, canonical_json, chain_hash, checkpoint_mac
from serve_app.audit.errors import AuditWriteError
from serve_app.audit.record import AuditRecord
from tollgate_core.store.base import Database, Transaction

__all__ = ["AuditWriter"]

logger = logging.getLogger("tollgate.audit")

_INSERT = (
    "INSERT INTO audit_log (seq, request_id, time, team_id, record, prev_hash, hash) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7)"
)
_CHECKPOINT = "INSERT INTO audit_checkpoints (seq, hash, created_at, mac) VALUES ($1, $2, $3, $4)"
_MOVE_HEAD = "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1"

# PostgreSQL: the whole batch, the head and the checkpoint in one round trip.
_PG_COMMIT = """
WITH rows AS (
    INSERT INTO audit_log (seq, request_id, time, team_id, record, prev_hash, hash)
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::float8[], $4::text[], $5::text[], $6::text[], $7::text[])
), head AS (
    UPDATE audit_head SET seq = $8, hash = $9 WHERE id = 1
)
INSERT INTO audit_checkpoints (seq, hash, created_at, mac) VALUES ($8, $9, $10, $11)
"""


@dataclass
class _Pending:
    canonical: str
    request_id: str
    time: float
    team_id: str | None
    queued_at: float
    future: asyncio.Future[int] = field(repr=False)


class AuditWriter:
    """Appends records to the audit chain with group commit; one per process is enough."""

    def __init__(self, db: Database, *, hmac_key: bytes, flush_interval_s: float = 0.0, max_batch: int = 256,
                 clock: Callable[[], float] = time.time) -> None:
        if not hmac_key:
            raise ValueError("hmac_key is empty; the checkpoints need a secret key")
        if max_batch < 1:
            raise ValueError(f"max_batch={max_batch}: it must be at least 1")
        self._db = db
        self._key = hmac_key
        self._interval = flush_interval_s
        self._max_batch = max_batch
        self._clock = clock
        self._pending: list[_Pending] = []
        self._inflight: list[_Pending] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    async def append(self, record: AuditRecord | dict[str, Any]) -> int:
        """Queue ``record``; return its sequence number once it has committed.

        Raises :class:`AuditWriteError` when its batch fails to commit or the
        writer is closed, and ``ValueError`` for a dict that is not a valid record.
        """
        if self._closing:
            raise AuditWriteError("the audit writer is closed or has stopped; the record was not written")
        if not isinstance(record, AuditRecord):
            record = AuditRecord.model_validate(record)
        data = record.to_json_dict()
        loop = asyncio.get_running_loop()
        item = _Pending(canonical_json(data), record.request_id, record.time, record.team_id, loop.time(),
                        loop.create_future())
        self._pending.append(item)
        if len(self._pending) == 1 or len(self._pending) >= self._max_batch:
            self._wake.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="tollgate-audit-writer")
        # A cancelled caller does not withdraw the record: it is still committed with its batch.
        return await item.future

    async def close(self) -> None:
        """Commit everything queued, then stop the background task."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending or not self._closing:
                if not self._pending:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                delay = self._pending[0].queued_at + self._interval - loop.time()
                if delay > 0 and len(self._pending) < self._max_batch and not self._closing:
                    self._wake.clear()
                    try:
                        async with asyncio.timeout(delay):
                            await self._wake.wait()
                    except TimeoutError:
                        pass
                    continue
                self._inflight = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._commit(self._inflight)
                self._inflight = []
        except BaseException as exc:
            # Never leave a caller waiting on a record nobody will write (cancelled task, a bug).
            self._closing = True
            self._fail([*self._inflight, *self._pending], exc)
            self._inflight, self._pending = [], []
            raise

    async def _commit(self, batch: list[_Pending]) -> None:
        try:
            async with self._db.transaction() as tx:
                first = await self._write(tx, batch)
        except Exception as exc:
            logger.error("audit: a batch of %d records failed to commit: %s", len(batch), exc)
            self._fail(batch, exc)
            return
        for offset, item in enumerate(batch):
            if not item.future.done():
                item.future.set_result(first + offset)

    async def _write(self, tx: Transaction, batch: Sequence[_Pending]) -> int:
        """Link and insert ``batch`` after the head; return the first record's seq."""
        head_seq, prev = await _lock_head(tx, self._db.dialect)
        rows: list[tuple[Any, ...]] = []
        for seq, item in enumerate(batch, start=head_seq + 1):
            link = chain_hash(seq, prev, item.canonical)
            rows.append((seq, item.request_id, item.time, item.team_id, item.canonical, prev, link))
            prev = link
        last = head_seq + len(batch)
        signed = (last, prev, self._clock(), checkpoint_mac(self._key, last, prev))
        if self._db.dialect == "postgresql":
            await tx.execute(_PG_COMMIT, *[list(column) for column in zip(*rows)], *signed)
        else:
            await tx.executemany(_INSERT, rows)
            await tx.execute(_MOVE_HEAD, last, prev)
            await tx.execute(_CHECKPOINT, *signed)
        return head_seq + 1

    @staticmethod
    def _fail(batch: Sequence[_Pending], exc: BaseException) -> None:
        for item in batch:
            if not item.future.done():
                error = AuditWriteError(f"the audit record of request {item.request_id} was not committed: {exc}")
                error.__cause__ = exc
                item.future.set_exception(error)


async def _lock_head(tx: Transaction, dialect: str) -> tuple[int, str]:
    """The chain's tip, locked until the transaction ends (SQLite: ``BEGIN IMMEDIATE`` already holds the lock)."""
    lock = " FOR UPDATE" if dialect == "postgresql" else ""
    row = await tx.fetchone("SELECT seq, hash FROM audit_head WHERE id = 1" + lock)
    if row is None:
        # The migration creates the head; should it be gone, continue from the log's own tip.
        tip = await tx.fetchone("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        seq, link = (int(tip["seq"]), str(tip["hash"])) if tip else (0, GENESIS_HASH)
        await tx.execute(
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING", seq, link
        )
        row = await tx.fetchone("SELECT seq, hash FROM audit_head WHERE id = 1" + lock)
        if row is None:
            raise AuditWriteError("the audit log's head row cannot be created")
    return int(row["seq"]), str(row["hash"])
