"""Group commit: every record committed exactly once, in one chain, across tasks and writers."""

from __future__ import annotations

import asyncio
import json

import pytest

from serve_app.audit.chain import GENESIS_HASH, canonical_json, chain_hash
from serve_app.audit.errors import AuditWriteError
from serve_app.audit.export import iter_records
from serve_app.audit.record import AuditRecord
from serve_app.audit.verify import verify_chain
from serve_app.audit.writer import AuditWriter
from tests.unit.audit.conftest import KEY, fill, make_record
from tollgate_core.store import Database, open_database

LOG_COLUMNS = {"seq", "request_id", "time", "team_id", "record", "prev_hash", "hash"}


async def test_every_record_comes_back_exactly_once(db: Database, writer: AuditWriter) -> None:
    records = await fill(writer)
    stored = [r async for r in iter_records(db)]
    assert [r["seq"] for r in stored] == list(range(1, len(records) + 1))
    assert [{k: v for k, v in r.items() if k != "seq"} for r in stored] == [r.to_json_dict() for r in records]


async def test_append_returns_the_committed_seq(db: Database, writer: AuditWriter) -> None:
    seq = await writer.append(make_record(1))
    row = await db.fetchone("SELECT request_id, prev_hash, hash, record FROM audit_log WHERE seq = $1", seq)
    assert seq == 1 and row is not None
    assert row["request_id"] == "tgr-0001" and row["prev_hash"] == GENESIS_HASH
    assert row["hash"] == chain_hash(1, GENESIS_HASH, row["record"])
    head = await db.fetchone("SELECT seq, hash FROM audit_head WHERE id = 1")
    assert head == {"seq": 1, "hash": row["hash"]}


async def test_fifty_concurrent_tasks_make_one_valid_chain(db: Database) -> None:
    writer = AuditWriter(db, hmac_key=KEY, flush_interval_s=0.002, max_batch=16)
    try:
        seqs = await asyncio.gather(*(writer.append(make_record(i)) for i in range(50)))
    finally:
        await writer.close()
    assert sorted(seqs) == list(range(1, 51))
    report = await verify_chain(db, KEY)
    assert report.ok, report.message
    assert report.records == 50
    checkpoints = await db.fetchone("SELECT COUNT(*) AS n FROM audit_checkpoints")
    assert checkpoints is not None and 4 <= int(checkpoints["n"]) < 50  # batches of at most 16, grouped


async def test_two_writers_on_two_connections_share_one_chain(db: Database, store_url: str) -> None:
    other = await open_database(store_url)
    first = AuditWriter(db, hmac_key=KEY, flush_interval_s=0.001, max_batch=8)
    second = AuditWriter(other, hmac_key=KEY, flush_interval_s=0.001, max_batch=8)
    try:
        seqs = await asyncio.gather(*(
            (first if i % 2 else second).append(make_record(i)) for i in range(60)
        ))
    finally:
        await first.close()
        await second.close()
        await other.close()
    assert sorted(seqs) == list(range(1, 61))
    report = await verify_chain(db, KEY)
    assert report.ok, report.message
    assert report.records == 60


async def test_a_failed_commit_fails_every_waiter_of_its_batch(db: Database) -> None:
    # A row the head does not know about: the batch's first insert collides with it.
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO audit_log (seq, request_id, time, team_id, record, prev_hash, hash) "
            "VALUES (1, 'x', 0, NULL, '{}', $1, $1)", GENESIS_HASH,
        )
    writer = AuditWriter(db, hmac_key=KEY, flush_interval_s=0.005)
    try:
        results = await asyncio.gather(*(writer.append(make_record(i)) for i in range(5)), return_exceptions=True)
    finally:
        await writer.close()
    assert all(isinstance(r, AuditWriteError) for r in results), results
    assert all(r.__cause__ is not None for r in results if isinstance(r, AuditWriteError))
    assert "tgr-0000" in str(results[0])
    rows = await db.fetchall("SELECT seq FROM audit_log")
    assert [r["seq"] for r in rows] == [1]  # nothing of the batch was committed


async def test_close_flushes_and_refuses_later_appends(db: Database) -> None:
    writer = AuditWriter(db, hmac_key=KEY, flush_interval_s=10.0)
    pending = [asyncio.create_task(writer.append(make_record(i))) for i in range(3)]
    await asyncio.sleep(0)
    await writer.close()
    assert sorted(await asyncio.gather(*pending)) == [1, 2, 3]
    with pytest.raises(AuditWriteError, match="closed"):
        await writer.append(make_record(4))


async def test_a_cancelled_caller_still_gets_its_record_written(db: Database) -> None:
    writer = AuditWriter(db, hmac_key=KEY, flush_interval_s=0.02)
    try:
        task = asyncio.create_task(writer.append(make_record(1)))
        await asyncio.sleep(0)
        task.cancel()
        await writer.append(make_record(2))
    finally:
        await writer.close()
    rows = await db.fetchall("SELECT request_id FROM audit_log ORDER BY seq")
    assert [r["request_id"] for r in rows] == ["tgr-0001", "tgr-0002"]


async def test_a_full_batch_commits_without_waiting(db: Database) -> None:
    writer = AuditWriter(db, hmac_key=KEY, flush_interval_s=30.0, max_batch=4)
    try:
        seqs = await asyncio.wait_for(asyncio.gather(*(writer.append(make_record(i)) for i in range(4))), 5)
    finally:
        await writer.close()
    assert sorted(seqs) == [1, 2, 3, 4]


async def test_a_dict_with_an_unknown_field_is_refused(db: Database, writer: AuditWriter) -> None:
    values = make_record(1).to_json_dict() | {"prompt": "my SSN is 078-05-1120"}
    with pytest.raises(ValueError, match="prompt"):
        await writer.append(values)
    assert await writer.append(make_record(1).to_json_dict()) == 1


async def test_stored_rows_hold_only_the_given_fields(db: Database, writer: AuditWriter) -> None:
    record = make_record(7, end_user="user-7", sealed_text=None)
    await writer.append(record)
    rows = await db.fetchall("SELECT * FROM audit_log")
    assert len(rows) == 1 and set(rows[0]) == LOG_COLUMNS
    row = rows[0]
    stored = json.loads(row["record"])
    assert set(stored) == set(AuditRecord.model_fields)
    assert stored == record.to_json_dict()
    assert row["record"] == canonical_json(record.to_json_dict())
    assert (row["request_id"], row["time"], row["team_id"]) == (record.request_id, record.time, record.team_id)
    # The other tables hold only the chain's hashes, a time and a MAC.
    assert set((await db.fetchall("SELECT * FROM audit_head"))[0]) == {"id", "seq", "hash"}
    assert set((await db.fetchall("SELECT * FROM audit_checkpoints"))[0]) == {"seq", "hash", "created_at", "mac"}


async def test_the_writer_needs_a_key(db: Database) -> None:
    with pytest.raises(ValueError, match="^hmac_key is empty; the checkpoints need a secret key$"):
        AuditWriter(db, hmac_key=b"")


async def test_a_batch_filled_while_the_writer_waits_commits_at_once(db: Database) -> None:
    """The writer is already waiting out its interval for a lone record; the append that fills the batch wakes
    it (30 s interval, 5 s allowed: far apart)."""
    writer = AuditWriter(db, hmac_key=KEY, flush_interval_s=30.0, max_batch=4)
    try:
        first = asyncio.create_task(writer.append(make_record(1)))
        await asyncio.sleep(0.05)  # the writer task is now inside its wait
        rest = [asyncio.create_task(writer.append(make_record(i))) for i in (2, 3, 4)]
        seqs = await asyncio.wait_for(asyncio.gather(first, *rest), 5)
    finally:
        await writer.close()
    assert sorted(seqs) == [1, 2, 3, 4]
    checkpoints = await db.fetchall("SELECT seq FROM audit_checkpoints ORDER BY seq")
    assert [c["seq"] for c in checkpoints] == [4]  # one batch


async def test_batches_never_exceed_max_batch(db: Database) -> None:
    writer = AuditWriter(db, hmac_key=KEY, flush_interval_s=0.0, max_batch=2)
    try:
        seqs = await asyncio.gather(*(writer.append(make_record(i)) for i in range(5)))
    finally:
        await writer.close()
    assert sorted(seqs) == [1, 2, 3, 4, 5]
    checkpoints = await db.fetchall("SELECT seq FROM audit_checkpoints ORDER BY seq")
    assert [c["seq"] for c in checkpoints] == [2, 4, 5]


async def test_max_batch_must_be_at_least_one(db: Database) -> None:
    with pytest.raises(ValueError, match="max_batch=0: it must be at least 1"):
        AuditWriter(db, hmac_key=KEY, max_batch=0)
    writer = AuditWriter(db, hmac_key=KEY, max_batch=1)
    try:
        assert await asyncio.gather(writer.append(make_record(1)), writer.append(make_record(2))) == [1, 2]
    finally:
        await writer.close()
    checkpoints = await db.fetchall("SELECT seq FROM audit_checkpoints ORDER BY seq")
    assert [c["seq"] for c in checkpoints] == [1, 2]


async def test_checkpoints_carry_the_writers_clock_and_verify(db: Database) -> None:
    writer = AuditWriter(db, hmac_key=KEY, clock=lambda: 1234.5)
    try:
        await writer.append(make_record(1))
    finally:
        await writer.close()
    (checkpoint,) = await db.fetchall("SELECT * FROM audit_checkpoints")
    assert (checkpoint["seq"], checkpoint["created_at"]) == (1, 1234.5)
    assert (await verify_chain(db, KEY)).ok


async def test_a_missing_head_row_is_rebuilt_from_the_log_tip(db: Database) -> None:
    first = AuditWriter(db, hmac_key=KEY)
    try:
        for i in (1, 2, 3):
            await first.append(make_record(i))
    finally:
        await first.close()
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM audit_head")
    second = AuditWriter(db, hmac_key=KEY)
    try:
        assert await second.append(make_record(4)) == 4
    finally:
        await second.close()
    report = await verify_chain(db, KEY)
    assert report.ok and report.records == 4, report.message


async def test_a_missing_head_row_of_an_empty_log_starts_the_chain_at_one(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM audit_head")
    writer = AuditWriter(db, hmac_key=KEY)
    try:
        assert await writer.append(make_record(1)) == 1
    finally:
        await writer.close()
    report = await verify_chain(db, KEY)
    assert report.ok and report.records == 1, report.message


async def test_closing_an_unused_writer_returns(db: Database) -> None:
    writer = AuditWriter(db, hmac_key=KEY)
    await asyncio.wait_for(writer.close(), 5)
    with pytest.raises(AuditWriteError,
                       match="^the audit writer is closed or has stopped; the record was not written$"):
        await writer.append(make_record(1))


async def test_a_writer_whose_task_dies_fails_its_waiters_and_refuses_more(db: Database) -> None:
    """Nobody is left waiting on a record that will never be written: the queued record's caller gets an error
    naming its request, and later appends are refused."""
    writer = AuditWriter(db, hmac_key=KEY, flush_interval_s=30.0)
    waiting = asyncio.create_task(writer.append(make_record(7)))
    await asyncio.sleep(0.05)  # queued; the writer task waits out its interval
    assert writer._task is not None
    writer._task.cancel()
    with pytest.raises(AuditWriteError, match="the audit record of request tgr-0007 was not committed"):
        await asyncio.wait_for(waiting, 5)
    with pytest.raises(AuditWriteError, match="closed or has stopped"):
        await writer.append(make_record(8))
    assert await db.fetchall("SELECT seq FROM audit_log") == []
