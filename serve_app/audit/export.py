"""Reading the audit log out: filtered iteration, JSON lines and CSV (and back), and a live tail.

Records come back as dicts in :class:`AuditRecord` field order with ``seq`` first.
In CSV, ``guardrail_findings`` and ``judges`` are JSON in one column each, booleans are
``true``/``false`` and an empty cell is null (so an empty string in an optional
field reads back as null).
"""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any, TextIO

from serve_app.audit.chain import canonical_json
from serve_app.audit.record import AuditRecord
from tollgate_core.store.base import Database, Row

__all__ = ["CSV_COLUMNS", "iter_records", "last_seq", "read_csv", "read_jsonl", "tail", "write_csv", "write_jsonl"]

PAGE_SIZE = 1000
CSV_COLUMNS: tuple[str, ...] = ("seq", *AuditRecord.model_fields)
_JSON_COLUMNS = frozenset({"guardrail_findings", "injection_reasons", "judges"})

Records = AsyncIterable[dict[str, Any]] | Iterable[dict[str, Any]]


async def iter_records(db: Database, since: float | None = None, until: float | None = None,
                       team: str | None = None, *, after_seq: int = 0,
                       page_size: int = PAGE_SIZE) -> AsyncIterator[dict[str, Any]]:
    """Records in seq order with ``since <= time < until`` and ``team_id = team`` where given."""
    filters, args = ["seq > $1"], [after_seq]  # type: list[str], list[Any]
    for clause, value in (("time >= ", since), ("time < ", until), ("team_id = ", team)):
        if value is not None:
            args.append(value)
            filters.append(f"{clause}${len(args)}")
    args.append(page_size)
    sql = f"SELECT seq, record FROM audit_log WHERE {' AND '.join(filters)} ORDER BY seq LIMIT ${len(args)}"
    while True:
        rows = await db.fetchall(sql, *args)
        for row in rows:
            yield _as_dict(row)
        if len(rows) < page_size:
            return
        args[0] = int(rows[-1]["seq"])


async def tail(db: Database, after_seq: int, poll_s: float = 1.0, *,
               follow: bool = True) -> AsyncIterator[dict[str, Any]]:
    """Records after ``after_seq`` as they arrive; without ``follow``, stop once caught up.

    Sequence numbers are allocated in commit order (every batch locks the chain's
    head), so a record never appears below one already seen.
    """
    while True:
        caught_up = True
        async for record in iter_records(db, after_seq=after_seq):
            after_seq = int(record["seq"])
            caught_up = False
            yield record
        if caught_up and not follow:
            return
        if caught_up:
            await asyncio.sleep(poll_s)


async def last_seq(db: Database) -> int:
    """The highest seq in the log (0 when empty): where a tail of new records starts."""
    row = await db.fetchone("SELECT MAX(seq) AS seq FROM audit_log")
    return int(row["seq"]) if row and row["seq"] is not None else 0


def _as_dict(row: Row) -> dict[str, Any]:
    data = json.loads(row["record"])
    ordered: dict[str, Any] = {"seq": int(row["seq"])}
    ordered.update((name, data.pop(name)) for name in AuditRecord.model_fields if name in data)
    ordered.update(data)  # fields a later version added
    return ordered


async def write_jsonl(records: Records, out: TextIO) -> int:
    """One JSON object per line; return how many records were written."""
    count = 0
    async for record in _each(records):
        out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
    return count


async def write_csv(records: Records, out: TextIO) -> int:
    """A header of :data:`CSV_COLUMNS`, then one row per record; return how many were written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    async for record in _each(records):
        writer.writerow([_cell(name, record.get(name)) for name in CSV_COLUMNS])
        count += 1
    return count


def read_jsonl(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Parse what :func:`write_jsonl` wrote."""
    for line in lines:
        if line.strip():
            yield json.loads(line)


def read_csv(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Parse what :func:`write_csv` wrote, with each field converted back to its type."""
    for row in csv.DictReader(lines):
        values: dict[str, Any] = {}
        for name, text in row.items():
            if name == "seq" or text in (None, ""):
                continue
            values[name] = json.loads(text) if name in _JSON_COLUMNS else text
        record = AuditRecord.model_validate(values).to_json_dict()
        yield {"seq": int(row["seq"]), **record}


def _cell(name: str, value: Any) -> Any:
    if value is None:
        return ""
    if name in _JSON_COLUMNS:
        return canonical_json(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


async def _each(records: Records) -> AsyncIterator[dict[str, Any]]:
    if isinstance(records, AsyncIterable):
        async for record in records:
            yield record
    else:
        for record in records:
            yield record
