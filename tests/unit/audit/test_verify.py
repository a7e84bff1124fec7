"""Verification names the first tampered record, and how it was tampered with."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import pytest

from serve_app.audit.chain import GENESIS_HASH, canonical_json, chain_hash, checkpoint_mac
from serve_app.audit.verify import PROBLEM_KINDS, key_matches, verify_chain
from serve_app.audit.writer import AuditWriter
from tests.unit.audit.conftest import KEY, fill, make_record
from tollgate_core.store import Database

Tamper = Callable[[Database], Awaitable[None]]


async def _row(db: Database, seq: int) -> dict[str, object]:
    row = await db.fetchone("SELECT * FROM audit_log WHERE seq = $1", seq)
    assert row is not None
    return row


async def _set_record(db: Database, seq: int, text: object) -> None:
    async with db.transaction() as tx:
        await tx.execute("UPDATE audit_log SET record = $1 WHERE seq = $2", text, seq)


async def edit_field(db: Database) -> None:
    data = json.loads(str((await _row(db, 8))["record"]))
    data["cost_usd"] = 0.0
    await _set_record(db, 8, canonical_json(data))


async def delete_record(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM audit_log WHERE seq = 4")


def inserting(at: int) -> Tamper:
    """Renumber records ``at``.. up by one and put a forged record, correctly linked, at ``at``."""

    async def insert_record(db: Database) -> None:
        prev = str((await _row(db, at - 1))["hash"]) if at > 1 else GENESIS_HASH
        forged = make_record(99, cost_usd=0.0).to_json_dict()
        text = canonical_json(forged)
        async with db.transaction() as tx:
            await tx.execute("UPDATE audit_log SET seq = -seq - 1 WHERE seq >= $1", at)
            await tx.execute("UPDATE audit_log SET seq = -seq WHERE seq < 0")
            await tx.execute(
                "INSERT INTO audit_log (seq, request_id, time, team_id, record, prev_hash, hash) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                at, forged["request_id"], forged["time"], forged["team_id"], text, prev, chain_hash(at, prev, text),
            )

    insert_record.__name__ = f"insert_record_at_{at}"
    return insert_record


async def swap_pair(db: Database) -> None:
    first, second = await _row(db, 9), await _row(db, 10)
    await _set_record(db, 9, second["record"])
    await _set_record(db, 10, first["record"])


async def swap_rows(db: Database) -> None:
    """Exchange two whole rows' places (seq numbers)."""
    async with db.transaction() as tx:
        await tx.execute("UPDATE audit_log SET seq = -1 WHERE seq = 2")
        await tx.execute("UPDATE audit_log SET seq = 2 WHERE seq = 3")
        await tx.execute("UPDATE audit_log SET seq = 3 WHERE seq = -1")


async def _append_forged(db: Database, seq: int) -> None:
    """A record ``seq`` correctly linked after the tip, written past the gateway (no checkpoint signs it)."""
    tip = await _row(db, seq - 1)
    forged = make_record(seq).to_json_dict()
    text = canonical_json(forged)
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO audit_log (seq, request_id, time, team_id, record, prev_hash, hash) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7)",
            seq, forged["request_id"], forged["time"], forged["team_id"], text, tip["hash"],
            chain_hash(seq, str(tip["hash"]), text),
        )


async def forge_tail(db: Database) -> None:
    await _append_forged(db, 13)


async def bad_checkpoint(db: Database) -> None:
    row = await _row(db, 3)
    async with db.transaction() as tx:
        await tx.execute("UPDATE audit_checkpoints SET mac = $1 WHERE seq = 3",
                         checkpoint_mac(b"not the gateway's key", 3, str(row["hash"])))


async def rewrite_chain(db: Database) -> None:
    """Edit record 2 and recompute every hash after it: only the signed checkpoints can tell."""
    async with db.transaction() as tx:
        rows = await tx.fetchall("SELECT * FROM audit_log WHERE seq >= 2 ORDER BY seq")
        prev = str(rows[0]["prev_hash"])
        for row in rows:
            data = json.loads(str(row["record"]))
            if row["seq"] == 2:
                data["prompt_tokens"] = 1
            text = canonical_json(data)
            link = chain_hash(int(row["seq"]), prev, text)
            await tx.execute("UPDATE audit_log SET record = $1, prev_hash = $2, hash = $3 WHERE seq = $4",
                             text, prev, link, row["seq"])
            prev = link


async def delete_and_renumber(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM audit_log WHERE seq = 3")
        await tx.execute("UPDATE audit_log SET seq = seq - 1 WHERE seq > 3")


async def truncate_tail(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM audit_log WHERE seq >= 11")


async def edit_team_column(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("UPDATE audit_log SET team_id = 'team-other' WHERE seq = 6")


async def forge_two_tail_records(db: Database) -> None:
    await _append_forged(db, 13)
    await _append_forged(db, 14)


async def delete_last_record(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM audit_log WHERE seq = 12")


async def delete_every_record(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM audit_log")


async def delete_head(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM audit_log WHERE seq <= 8")


async def delete_head_and_its_checkpoints(db: Database) -> None:
    await delete_head(db)
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM audit_checkpoints WHERE seq <= 8")


CASES: list[tuple[Tamper, str, int, str]] = [
    (edit_field, "edited", 8, "record 8 (request tgr-0008) was edited: its contents do not match its hash"),
    (delete_record, "deleted", 4, "record 4 was deleted: record 5 (request tgr-0005) follows record 3"),
    # 5 was a batch of its own (a checkpoint signs the original); 8 is inside the last batch (no checkpoint).
    (inserting(5), "inserted", 5, "record 5 (request tgr-0099) was inserted: record 6 (request tgr-0005) links past"),
    (inserting(8), "inserted", 8, "record 8 (request tgr-0099) was inserted: record 9 (request tgr-0008) links past"),
    (inserting(1), "inserted", 1, "record 1 (request tgr-0099) was inserted: record 2 (request tgr-0001) links past"),
    (swap_pair, "reordered", 9, "record 9 (request tgr-0009) and record 10 (request tgr-0010) were swapped"),
    (swap_rows, "reordered", 2, "record 2 (request tgr-0003) and record 3 (request tgr-0002) were swapped"),
    (forge_tail, "unsigned_tail", 13,
     "record 13 (request tgr-0013) was appended outside the gateway: no signed checkpoint covers it"),
    (forge_two_tail_records, "unsigned_tail", 13, ("records 13–14 (the first is request tgr-0013) were appended "
     "outside the gateway: no signed checkpoint covers them")),
    (delete_last_record, "deleted", 12, ("record 12 was deleted: signed checkpoint 12 covers records the log no "
     "longer has (it ends at record 11)")),
    (delete_every_record, "deleted", 1, ("record 1 was deleted: signed checkpoint 1 covers it, but the audit log "
     "is empty")),
    (delete_head, "deleted", 1, ("record 1 was deleted: signed checkpoint 1 covers it, but the log starts at "
     "record 9 (request tgr-0009)")),
    (delete_head_and_its_checkpoints, "deleted", 8, ("records before 9 were deleted: the log starts at record 9 "
     "(request tgr-0009) and no signed checkpoint at 8 anchors it")),
    (bad_checkpoint, "bad_checkpoint", 3, "checkpoint 3 has a bad signature"),
    (rewrite_chain, "edited", 2, "record 2 was edited and the chain recomputed"),
    (delete_and_renumber, "deleted", 3, "a record was deleted before record 3 (request tgr-0004)"),
    (truncate_tail, "deleted", 11, "records 11–12 were deleted: signed checkpoint 12"),
    (edit_team_column, "edited", 6, "record 6 (request tgr-0006) was edited: its team_id column"),
]


async def test_an_untouched_log_verifies(db: Database, writer: AuditWriter) -> None:
    await fill(writer)
    report = await verify_chain(db, KEY)
    assert report.ok, report.message
    assert (report.records, report.first_seq, report.last_seq) == (12, 1, 12)
    assert report.checkpoints >= 7 and report.kind is None and report.first_bad_seq is None
    assert report.message.startswith("OK: 12 records (seq 1–12)")


async def test_an_empty_log_verifies(db: Database) -> None:
    report = await verify_chain(db, KEY)
    assert report.ok and report.records == 0


@pytest.mark.parametrize(("tamper", "kind", "seq", "message"), CASES, ids=[case[0].__name__ for case in CASES])
async def test_tampering_is_named(db: Database, writer: AuditWriter, tamper: Tamper, kind: str, seq: int,
                                  message: str) -> None:
    await fill(writer)
    if tamper is rewrite_chain:
        # Record 2 is its own batch, so its checkpoint pins the rewrite down to it.
        assert await db.fetchone("SELECT seq FROM audit_checkpoints WHERE seq = 2") is not None
    await tamper(db)
    report = await verify_chain(db, KEY)
    assert not report.ok
    assert (report.kind, report.first_bad_seq) == (kind, seq), report.message
    assert report.kind in PROBLEM_KINDS
    assert message in report.message


async def test_a_log_pruned_at_a_checkpoint_verifies_from_its_anchor(db: Database, writer: AuditWriter) -> None:
    """What retention does: records up to a signed checkpoint go, that checkpoint stays as the anchor."""
    await fill(writer)
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM audit_log WHERE seq <= 6")
        await tx.execute("DELETE FROM audit_checkpoints WHERE seq < 6")
    report = await verify_chain(db, KEY)
    assert report.ok, report.message
    assert (report.records, report.first_seq, report.last_seq, report.checkpoints) == (6, 7, 12, 2)
    # The same prune with the next record edited is still caught, against the anchor's hash.
    await edit_field(db)
    report = await verify_chain(db, KEY)
    assert (report.kind, report.first_bad_seq) == ("edited", 8)


async def test_an_emptied_log_keeps_one_anchor_and_verifies(db: Database, writer: AuditWriter) -> None:
    await fill(writer)
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM audit_log")
        await tx.execute("DELETE FROM audit_checkpoints WHERE seq < 12")
    report = await verify_chain(db, KEY)
    assert report.ok and (report.records, report.checkpoints) == (0, 1)


async def test_a_wrong_key_fails_at_the_first_checkpoint(db: Database, writer: AuditWriter) -> None:
    await fill(writer)
    report = await verify_chain(db, b"another key")
    assert (report.ok, report.kind, report.first_bad_seq) == (False, "bad_checkpoint", 1)
    assert "HMAC key" in report.message


async def test_the_walk_spans_pages(db: Database, writer: AuditWriter) -> None:
    await fill(writer)
    assert (await verify_chain(db, KEY, page_size=5)).ok
    await edit_field(db)
    report = await verify_chain(db, KEY, page_size=3)
    assert (report.kind, report.first_bad_seq) == ("edited", 8)


async def test_a_swap_across_a_page_boundary_is_still_a_swap(db: Database, writer: AuditWriter) -> None:
    await fill(writer)
    await swap_pair(db)
    report = await verify_chain(db, KEY, page_size=9)
    assert (report.kind, report.first_bad_seq) == ("reordered", 9)


async def test_verifying_while_records_are_appended(db: Database) -> None:
    """The walk covers one snapshot's records: batches committed meanwhile are neither unsigned nor missing."""
    writer = AuditWriter(db, hmac_key=KEY, flush_interval_s=0.001, max_batch=8)
    try:
        appending = asyncio.gather(*(writer.append(make_record(i)) for i in range(120)))
        reports = []
        while not appending.done():
            reports.append(await verify_chain(db, KEY, page_size=7))
            await asyncio.sleep(0)
        await appending
    finally:
        await writer.close()
    assert reports and all(r.ok for r in reports), [r.message for r in reports if not r.ok]


async def test_a_replica_can_check_its_key_at_start(db: Database, writer: AuditWriter) -> None:
    assert await key_matches(db, KEY) is None
    await writer.append(make_record(1))
    assert await key_matches(db, KEY) is True
    assert await key_matches(db, b"another key") is False
