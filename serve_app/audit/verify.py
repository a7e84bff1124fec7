"""Check the whole audit chain and name the first record that was tampered with.

The walk streams records and checkpoints in seq order, in pages, and stops at
the first problem. Kinds of problem:

- ``edited``: a record's contents (or its link) no longer match its hash, or the
  chain was rewritten and no longer matches a signed checkpoint;
- ``deleted``: a seq is missing, later records were renumbered down, or a signed
  checkpoint covers records the log no longer has;
- ``inserted``: a record links past its predecessor to the one before;
- ``reordered``: two neighbours hold each other's contents;
- ``unsigned_tail``: records after the last checkpoint (appended outside the gateway,
  which signs every batch in the batch's own transaction);
- ``bad_checkpoint``: a checkpoint's MAC is wrong (forged, edited, or another key).

A pruned log starts at a record whose predecessor's hash is kept in a signed
checkpoint (see :mod:`serve_app.audit.retention`). Deleting the oldest records up
to a checkpoint, together with that checkpoint's predecessors, is what pruning
does, so it cannot be told apart from pruning: the report's ``first_seq`` shows
where the log starts, to compare with the retention policy.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from serve_app.audit.chain import GENESIS_HASH, chain_hash, mac_is_valid
from tollgate_core.store.base import Database, Row

__all__ = ["PROBLEM_KINDS", "VerifyReport", "key_matches", "verify_chain"]

PROBLEM_KINDS = ("edited", "deleted", "inserted", "reordered", "unsigned_tail", "bad_checkpoint")
PAGE_SIZE = 5000
_NO_LIMIT = 2**63 - 1

_RECORDS = ("SELECT seq, request_id, time, team_id, record, prev_hash, hash FROM audit_log "
            "WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3")
_CHECKPOINTS = "SELECT seq, hash, mac FROM audit_checkpoints WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3"
# One statement, so one snapshot: the walk covers what existed at this instant, not later appends.
_BOUNDS = ("SELECT (SELECT MAX(seq) FROM audit_log) AS log_max, "
           "(SELECT MAX(seq) FROM audit_checkpoints) AS checkpoint_max")


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of :func:`verify_chain`: OK, or the first problem found."""

    ok: bool
    records: int
    checkpoints: int
    first_bad_seq: int | None = None
    kind: str | None = None
    message: str = ""
    first_seq: int | None = None
    last_seq: int | None = None


async def verify_chain(db: Database, hmac_key: bytes, *, page_size: int = PAGE_SIZE) -> VerifyReport:
    """Walk the chain in seq order; report the first edited, deleted, inserted or reordered record."""
    bounds = await db.fetchone(_BOUNDS) or {}
    log_max = int(bounds.get("log_max") or 0)
    checkpoint_max = int(bounds.get("checkpoint_max") or 0)
    walk = _Walk(hmac_key)
    records = _pages(db, _RECORDS, log_max, page_size)
    checkpoints = _Cursor(_pages(db, _CHECKPOINTS, checkpoint_max, page_size))
    try:
        await walk.run(records, checkpoints)
    except _Problem as problem:
        return VerifyReport(False, walk.records, walk.checkpoints, problem.seq, problem.kind, problem.message,
                            walk.first_seq, walk.prev_seq)
    if walk.records:
        summary = (f"OK: {_count(walk.records, 'record')} (seq {walk.first_seq}–{walk.prev_seq}), "
                   f"{_count(walk.checkpoints, 'checkpoint')}")
        if walk.first_seq and walk.first_seq > 1:
            summary += f"; records before {walk.first_seq} were pruned"
    else:
        summary = f"OK: the audit log is empty ({_count(walk.checkpoints, 'checkpoint')})"
    return VerifyReport(True, walk.records, walk.checkpoints, message=summary, first_seq=walk.first_seq,
                        last_seq=walk.prev_seq)


async def key_matches(db: Database, hmac_key: bytes) -> bool | None:
    """Whether ``hmac_key`` signed the latest checkpoint (None: no checkpoint yet).

    A replica started with another key would sign checkpoints that verification
    rejects; check at start and refuse to run instead.
    """
    row = await db.fetchone("SELECT seq, hash, mac FROM audit_checkpoints ORDER BY seq DESC LIMIT 1")
    if row is None:
        return None
    return mac_is_valid(hmac_key, int(row["seq"]), str(row["hash"]), str(row["mac"]))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


class _Problem(Exception):
    def __init__(self, kind: str, seq: int, message: str) -> None:
        super().__init__(message)
        self.kind, self.seq, self.message = kind, seq, message


async def _pages(db: Database, sql: str, upto: int, size: int) -> AsyncIterator[Row]:
    after = 0
    while True:
        rows = await db.fetchall(sql, after, upto, size)
        for row in rows:
            yield row
        if len(rows) < size:
            return
        after = int(rows[-1]["seq"])


class _Cursor:
    """Checkpoints, consumed alongside the records."""

    def __init__(self, rows: AsyncIterator[Row]) -> None:
        self._rows = rows
        self._next: Row | None = None
        self._done = False

    async def peek(self) -> Row | None:
        if self._next is None and not self._done:
            self._next = await anext(self._rows, None)
            self._done = self._next is None
        return self._next

    async def take_below(self, seq: int) -> Row | None:
        """The next checkpoint if its seq is at most ``seq``."""
        row = await self.peek()
        if row is None or int(row["seq"]) > seq:
            return None
        self._next = None
        return row


async def _with_next(rows: AsyncIterator[Row]) -> AsyncIterator[tuple[Row, Row | None]]:
    current = await anext(rows, None)
    while current is not None:
        following = await anext(rows, None)
        yield current, following
        current = following


def _named(row: Row) -> str:
    return f"record {row['seq']} (request {row['request_id']})"


class _Walk:
    def __init__(self, key: bytes) -> None:
        self.key = key
        self.records = 0
        self.checkpoints = 0
        self.first_seq: int | None = None
        self.prev_seq: int | None = None
        self.prev_hash = GENESIS_HASH
        self.prev2_hash: str | None = None  # the hash two records back
        self.prev_request: str | None = None
        self.last_signed = 0
        self.unsigned_from: Row | None = None

    async def run(self, records: AsyncIterator[Row], checkpoints: _Cursor) -> None:
        async for row, following in _with_next(records):
            if self.prev_seq is None:
                await self._anchor(row, checkpoints)
            else:
                self._check_gap(row)
            self._check_link(row, following)
            self._check_hash(row, following)
            self._check_columns(row)
            await self._check_checkpoint(row, following, checkpoints)
            self.records += 1
            self.prev_seq, self.prev2_hash, self.prev_hash = int(row["seq"]), self.prev_hash, str(row["hash"])
            self.prev_request = str(row["request_id"])
        await self._finish(checkpoints)

    def _signed(self, checkpoint: Row) -> None:
        seq = int(checkpoint["seq"])
        if not mac_is_valid(self.key, seq, str(checkpoint["hash"]), str(checkpoint["mac"])):
            raise _Problem("bad_checkpoint", seq, f"checkpoint {seq} has a bad signature: it was forged or edited "
                                                  "(or the HMAC key is not the gateway's)")

    async def _anchor(self, row: Row, checkpoints: _Cursor) -> None:
        """Where the first remaining record links to: genesis, or the signed checkpoint pruning kept."""
        seq = int(row["seq"])
        self.first_seq = seq
        anchor = None
        while (checkpoint := await checkpoints.take_below(seq - 1)) is not None:
            self._signed(checkpoint)
            if int(checkpoint["seq"]) < seq - 1:
                raise _Problem("deleted", int(checkpoint["seq"]),
                               f"record {checkpoint['seq']} was deleted: signed checkpoint {checkpoint['seq']} "
                               f"covers it, but the log starts at {_named(row)}")
            anchor = checkpoint
        if seq != 1 and anchor is None:
            raise _Problem("deleted", seq - 1, f"records before {seq} were deleted: the log starts at {_named(row)} "
                                               f"and no signed checkpoint at {seq - 1} anchors it")
        if anchor is not None:
            self.prev_hash = str(anchor["hash"])
            self.checkpoints += 1
            self.last_signed = seq - 1
        self.prev_seq = seq - 1

    def _check_gap(self, row: Row) -> None:
        seq, expected = int(row["seq"]), (self.prev_seq or 0) + 1
        if seq != expected:
            missing = f"record {expected} was" if seq == expected + 1 else f"records {expected}–{seq - 1} were"
            raise _Problem("deleted", expected, f"{missing} deleted: {_named(row)} follows record {self.prev_seq}")

    def _check_link(self, row: Row, following: Row | None) -> None:
        seq, prev = int(row["seq"]), str(row["prev_hash"])
        if prev == self.prev_hash:
            return
        if self.prev2_hash is not None and prev == self.prev2_hash:
            raise _Problem("inserted", seq - 1, f"record {seq - 1} (request {self.prev_request}) was inserted: "
                                                f"{_named(row)} links past it to record {seq - 2}")
        if (following is not None and int(following["seq"]) == seq + 1 and prev == following["hash"]
                and following["prev_hash"] == self.prev_hash):
            raise _Problem("reordered", seq, f"{_named(row)} and {_named(following)} were swapped: "
                                             "each holds the other's place in the chain")
        if chain_hash(seq + 1, prev, str(row["record"])) == row["hash"]:
            raise _Problem("deleted", seq, f"a record was deleted before {_named(row)} and later records "
                                           f"renumbered: it was record {seq + 1} and links to a record that is gone")
        raise _Problem("edited", seq, f"{_named(row)} was edited: it does not link to record {seq - 1}")

    def _check_hash(self, row: Row, following: Row | None) -> None:
        seq, prev, text = int(row["seq"]), str(row["prev_hash"]), str(row["record"])
        if chain_hash(seq, prev, text) == row["hash"]:
            return
        if (following is not None and int(following["seq"]) == seq + 1
                and chain_hash(seq, prev, str(following["record"])) == row["hash"]
                and chain_hash(seq + 1, str(following["prev_hash"]), text) == following["hash"]):
            raise _Problem("reordered", seq, f"{_named(row)} and {_named(following)} were swapped: "
                                             "each holds the other's contents")
        raise _Problem("edited", seq, f"{_named(row)} was edited: its contents do not match its hash")

    def _check_columns(self, row: Row) -> None:
        try:
            data: dict[str, Any] = json.loads(row["record"])
        except ValueError:
            raise _Problem("edited", int(row["seq"]), f"{_named(row)} was edited: it is not JSON") from None
        for column in ("request_id", "time", "team_id"):
            if data.get(column) != row[column]:
                raise _Problem("edited", int(row["seq"]),
                               f"{_named(row)} was edited: its {column} column does not match its record")

    async def _check_checkpoint(self, row: Row, following: Row | None, checkpoints: _Cursor) -> None:
        seq = int(row["seq"])
        checkpoint = await checkpoints.take_below(seq)
        if checkpoint is not None:
            self._signed(checkpoint)
            if checkpoint["hash"] != row["hash"]:
                if following is not None and following["prev_hash"] == row["prev_hash"]:
                    raise _Problem("inserted", seq, f"{_named(row)} was inserted: {_named(following)} links past it "
                                                    f"to record {seq - 1}, and checkpoint {seq} signs another record")
                first = self.last_signed + 1
                span = f"record {seq} was" if first == seq else f"records {first}–{seq} were"
                raise _Problem("edited", first, f"{span} edited and the chain recomputed: the chain at {_named(row)} "
                                                f"does not match its signed checkpoint")
            self.checkpoints += 1
            self.last_signed = seq
            self.unsigned_from = None
        elif self.unsigned_from is None:
            self.unsigned_from = row

    async def _finish(self, checkpoints: _Cursor) -> None:
        if self.prev_seq is None:
            # Empty: at most the one checkpoint a full prune keeps as the anchor of future records.
            kept = []
            while (checkpoint := await checkpoints.take_below(_NO_LIMIT)) is not None:
                kept.append(checkpoint)
            for checkpoint in kept:
                self._signed(checkpoint)
            if len(kept) > 1:
                seq = int(kept[0]["seq"])
                raise _Problem("deleted", seq, f"record {seq} was deleted: signed checkpoint {seq} covers it, "
                                               "but the audit log is empty")
            self.checkpoints = len(kept)
            return
        checkpoint = await checkpoints.peek()
        if checkpoint is not None:
            self._signed(checkpoint)
            first, last = self.prev_seq + 1, int(checkpoint["seq"])
            span = f"record {first} was" if first == last else f"records {first}–{last} were"
            raise _Problem("deleted", first, f"{span} deleted: signed checkpoint {last} covers records the log "
                                             f"no longer has (it ends at record {self.prev_seq})")
        if self.unsigned_from is not None:
            first, last = int(self.unsigned_from["seq"]), self.prev_seq
            span = (f"{_named(self.unsigned_from)} was appended outside the gateway: no signed checkpoint covers it"
                    if first == last else
                    f"records {first}–{last} (the first is request {self.unsigned_from['request_id']}) were appended "
                    "outside the gateway: no signed checkpoint covers them")
            raise _Problem("unsigned_tail", first, span)
