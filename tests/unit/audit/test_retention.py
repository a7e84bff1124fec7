"""Pruning deletes a prefix that ends on a checkpoint, so what remains still verifies."""

from __future__ import annotations

import pytest

from serve_app.audit.errors import AuditIntegrityError
from serve_app.audit.retention import prune
from serve_app.audit.verify import verify_chain
from serve_app.audit.writer import AuditWriter
from tests.unit.audit.conftest import KEY, T0, fill, make_record
from tollgate_core.store import Database


async def _seqs(db: Database) -> list[int]:
    return [int(r["seq"]) for r in await db.fetchall("SELECT seq FROM audit_log ORDER BY seq")]


async def test_pruning_keeps_the_rest_verifiable(db: Database, writer: AuditWriter) -> None:
    await fill(writer)  # record i has time T0 + 60 i (+0.125); 1..6 one batch each, 7..12 one batch
    deleted = await prune(db, KEY, older_than=T0 + 60 * 4)
    assert deleted == 3 and await _seqs(db) == list(range(4, 13))
    checkpoints = await db.fetchall("SELECT seq FROM audit_checkpoints ORDER BY seq")
    assert checkpoints[0]["seq"] == 3  # the anchor is kept, the ones before it go
    report = await verify_chain(db, KEY)
    assert report.ok, report.message
    assert (report.records, report.first_seq) == (9, 4)
    assert "pruned" in report.message
    # The chain goes on from the pruned log.
    await writer.append(make_record(13))
    assert (await verify_chain(db, KEY)).ok


async def test_pruning_stops_at_a_checkpoint(db: Database, writer: AuditWriter) -> None:
    await fill(writer)
    # Records 7..12 share one checkpoint (at 12): a cutoff inside that batch keeps all of it.
    assert await prune(db, KEY, older_than=T0 + 60 * 9) == 6
    assert await _seqs(db) == list(range(7, 13))
    assert (await verify_chain(db, KEY)).ok


async def test_a_late_record_holds_back_the_cut(db: Database, writer: AuditWriter) -> None:
    await fill(writer, sequential=3, together=0)
    await writer.append(make_record(4, time=T0 + 86400.0))  # arrived much later...
    await writer.append(make_record(5, time=T0))  # ...than this one, which committed after it
    assert await prune(db, KEY, older_than=T0 + 3600) == 3
    assert await _seqs(db) == [4, 5]
    assert (await verify_chain(db, KEY)).ok


async def test_pruning_everything_then_appending_still_verifies(db: Database, writer: AuditWriter) -> None:
    await fill(writer)
    assert await prune(db, KEY, older_than=T0 + 86400) == 12
    report = await verify_chain(db, KEY)
    assert report.ok and report.records == 0 and report.checkpoints == 1
    assert await writer.append(make_record(20)) == 13
    report = await verify_chain(db, KEY)
    assert report.ok and (report.first_seq, report.last_seq) == (13, 13)


async def test_pruning_in_chunks_leaves_the_same_log(db: Database, writer: AuditWriter) -> None:
    await fill(writer)
    assert await prune(db, KEY, older_than=T0 + 60 * 6, chunk=2) == 5
    assert await _seqs(db) == list(range(6, 13))
    assert (await verify_chain(db, KEY)).ok
    assert await prune(db, KEY, older_than=T0 + 60 * 6) == 0


async def test_deleting_old_records_without_their_checkpoints_is_caught(db: Database, writer: AuditWriter) -> None:
    await fill(writer)
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM audit_log WHERE seq <= 3")
    report = await verify_chain(db, KEY)
    assert (report.ok, report.kind, report.first_bad_seq) == (False, "deleted", 1)


async def test_pruning_refuses_an_unsound_anchor(db: Database, writer: AuditWriter) -> None:
    await fill(writer)
    async with db.transaction() as tx:
        await tx.execute("UPDATE audit_checkpoints SET mac = 'forged' WHERE seq = 3")
    with pytest.raises(AuditIntegrityError, match="checkpoint 3"):
        await prune(db, KEY, older_than=T0 + 60 * 4)
    assert await _seqs(db) == list(range(1, 13))


async def test_an_empty_log_prunes_nothing(db: Database) -> None:
    assert await prune(db, KEY, older_than=T0) == 0
