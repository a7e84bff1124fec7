"""Export for the compliance repository: filters, JSON lines and CSV round trips, and the live tail."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from serve_app.audit.export import (
    CSV_COLUMNS,
    iter_records,
    last_seq,
    read_csv,
    read_jsonl,
    tail,
    write_csv,
    write_jsonl,
)
from serve_app.audit.record import AuditRecord
from serve_app.audit.writer import AuditWriter
from tests.unit.audit.conftest import T0, fill, make_record
from tollgate_core.store import Database


def _varied() -> list[AuditRecord]:
    """Outcomes with nulls, booleans, unicode, commas and quotes, and findings."""
    return [
        make_record(1),
        make_record(2, cache="hit", target=None, provider=None, region=None, tier=None, attempts=0, cost_usd=0.0,
                    ttft_ms=None, upstream_ms=None, overhead_ms=None, injection_score=None),
        make_record(3, status=429, outcome="budget_exceeded", error_type="budget_exceeded",
                    error_code="team_daily_budget_exceeded", end_user='Zoë "the, admin"', stream=True),
        make_record(4, status=400, outcome="prompt_injection_detected", injection_flagged=True, injection_score=0.97,
                    guardrail_findings={"EMAIL_ADDRESS": 2, "US_SSN": 1}, sealed_text="gAAAAAB-token"),
        make_record(5, status=499, outcome="client_disconnected", latency_ms=1e-05, client_ip=None, key_id=None),
    ]


async def _appended(writer: AuditWriter, records: list[AuditRecord]) -> list[dict[str, Any]]:
    return [{"seq": await writer.append(r), **r.to_json_dict()} for r in records]


async def test_records_come_back_in_field_order(db: Database, writer: AuditWriter) -> None:
    await writer.append(make_record(1))
    [record] = [r async for r in iter_records(db)]
    assert list(record) == list(CSV_COLUMNS)


async def test_jsonl_round_trips(db: Database, writer: AuditWriter) -> None:
    expected = await _appended(writer, _varied())
    out = io.StringIO()
    assert await write_jsonl(iter_records(db), out) == len(expected)
    assert list(read_jsonl(io.StringIO(out.getvalue()))) == expected
    assert "Zoë" in out.getvalue()  # UTF-8 kept as is


async def test_csv_round_trips(db: Database, writer: AuditWriter) -> None:
    expected = await _appended(writer, _varied())
    out = io.StringIO()
    assert await write_csv(iter_records(db), out) == len(expected)
    text = out.getvalue()
    assert text.splitlines()[0] == ",".join(CSV_COLUMNS)
    assert '"{""EMAIL_ADDRESS"":2,""US_SSN"":1}"' in text  # findings: one JSON column
    assert list(read_csv(io.StringIO(text))) == expected


async def test_filters_by_time_and_team(db: Database, writer: AuditWriter) -> None:
    await fill(writer)  # record i: T0 + 60 i + 0.125, team-{i % 3}
    since, until = T0 + 60 * 3, T0 + 60 * 9
    window = [r["seq"] async for r in iter_records(db, since, until)]
    assert window == [3, 4, 5, 6, 7, 8]
    team = [r["request_id"] async for r in iter_records(db, since, until, "team-1")]
    assert team == ["tgr-0004", "tgr-0007"]
    assert [r["seq"] async for r in iter_records(db, team="nobody")] == []


async def test_iteration_spans_pages(db: Database, writer: AuditWriter) -> None:
    await fill(writer)
    assert [r["seq"] async for r in iter_records(db, page_size=5)] == list(range(1, 13))
    assert [r["seq"] async for r in iter_records(db, team="team-0", page_size=1)] == [3, 6, 9, 12]


async def test_tail_follows_new_records(db: Database, writer: AuditWriter) -> None:
    await writer.append(make_record(1))
    assert await last_seq(db) == 1
    follow = tail(db, after_seq=await last_seq(db), poll_s=0.01)
    try:
        first = asyncio.ensure_future(anext(follow))
        await asyncio.sleep(0.03)
        assert not first.done()  # nothing new yet
        await writer.append(make_record(2))
        await writer.append(make_record(3))
        got = [await asyncio.wait_for(first, 5), await asyncio.wait_for(anext(follow), 5)]
    finally:
        await follow.aclose()
    assert [r["request_id"] for r in got] == ["tgr-0002", "tgr-0003"]


async def test_tail_without_follow_stops_when_caught_up(db: Database, writer: AuditWriter) -> None:
    await fill(writer, sequential=3, together=0)
    assert [r["seq"] async for r in tail(db, after_seq=1, follow=False)] == [2, 3]
    assert await last_seq(db) == 3
