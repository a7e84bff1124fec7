"""Retention: delete old audit records so that what remains still verifies.

Records are deleted only up to and including a checkpoint's record, and that
checkpoint is kept (the ones before it go): the first remaining record links to
the kept checkpoint's hash, which the HMAC key vouches for, so verification of
the rest starts from a signed anchor. Records are pruned in chunks, one
transaction each, and every chunk ends on a checkpoint, so an interrupted prune
leaves a log that verifies.
"""

from __future__ import annotations

from serve_app.audit.chain import mac_is_valid
from serve_app.audit.errors import AuditIntegrityError
from tollgate_core.store.base import Database, Transaction

__all__ = ["prune"]

CHUNK = 5000


async def prune(db: Database, hmac_key: bytes, older_than: float, *, chunk: int = CHUNK) -> int:
    """Delete records whose ``time`` is before ``older_than`` (unix time); return how many were deleted.

    Only a prefix of the chain goes: everything up to the last checkpoint before
    the oldest record that must stay, since a record's time is its request's
    arrival and a long request is appended after shorter later ones.
    """
    row = await db.fetchone(
        "SELECT (SELECT MIN(seq) FROM audit_log WHERE time >= $1) AS keep_from, "
        "(SELECT MAX(seq) FROM audit_log) AS last, (SELECT MIN(seq) FROM audit_log) AS first",
        older_than,
    )
    if row is None or row["first"] is None:
        return 0
    limit = int(row["keep_from"]) - 1 if row["keep_from"] is not None else int(row["last"])
    deleted = 0
    start = int(row["first"]) - 1
    while start < limit:
        boundary = await _boundary(db, start, min(start + chunk, limit), limit)
        if boundary is None:
            break
        async with db.transaction() as tx:
            deleted += await _cut(tx, db.dialect, hmac_key, boundary)
        start = boundary
    return deleted


async def _boundary(db: Database, after: int, wanted: int, limit: int) -> int | None:
    """The last checkpoint in ``(after, wanted]``, else the first one in ``(after, limit]``."""
    row = await db.fetchone(
        "SELECT (SELECT MAX(seq) FROM audit_checkpoints WHERE seq > $1 AND seq <= $2) AS within, "
        "(SELECT MIN(seq) FROM audit_checkpoints WHERE seq > $1 AND seq <= $3) AS beyond",
        after, wanted, limit,
    )
    if row is None:
        return None
    found = row["within"] if row["within"] is not None else row["beyond"]
    return int(found) if found is not None else None


async def _cut(tx: Transaction, dialect: str, hmac_key: bytes, boundary: int) -> int:
    """Delete records up to ``boundary`` and the checkpoints before it, once its checkpoint proves sound."""
    # Locking the boundary's checkpoint makes a concurrent prune (another replica) wait, then find nothing to do.
    lock = " FOR UPDATE" if dialect == "postgresql" else ""
    checkpoint = await tx.fetchone("SELECT hash, mac FROM audit_checkpoints WHERE seq = $1" + lock, boundary)
    if checkpoint is None:
        raise AuditIntegrityError(f"audit checkpoint {boundary} vanished while pruning; run `tollgate audit verify`")
    record = await tx.fetchone("SELECT hash FROM audit_log WHERE seq = $1", boundary)
    if record is None:
        return 0  # another prune got here first
    if not mac_is_valid(hmac_key, boundary, str(checkpoint["hash"]), str(checkpoint["mac"])):
        raise AuditIntegrityError(
            f"not pruning: checkpoint {boundary} has a bad signature (or the HMAC key is not the gateway's); "
            "run `tollgate audit verify`"
        )
    if checkpoint["hash"] != record["hash"]:
        raise AuditIntegrityError(
            f"not pruning: record {boundary} does not match its signed checkpoint; run `tollgate audit verify`"
        )
    counted = await tx.fetchone("SELECT COUNT(*) AS n FROM audit_log WHERE seq <= $1", boundary)
    await tx.execute("DELETE FROM audit_log WHERE seq <= $1", boundary)
    await tx.execute("DELETE FROM audit_checkpoints WHERE seq < $1", boundary)
    return int(counted["n"]) if counted else 0
