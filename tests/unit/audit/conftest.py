"""Audit tests run against both store backends; helpers to build records and fill the log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from serve_app.audit.record import AuditRecord
from serve_app.audit.writer import AuditWriter
from tests.unit.governance.conftest import db, store_url  # noqa: F401  (fixtures: both backends)
from tollgate_core.store import Database

KEY = b"audit-test-hmac-key-0123456789abcdef"
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def make_record(i: int, **fields: Any) -> AuditRecord:
    """A realistic record: request ``tgr-{i}``, ``i`` minutes after T0, team ``team-{i % 3}``."""
    values: dict[str, Any] = {
        "request_id": f"tgr-{i:04d}",
        "client_request_id": f"client-{i}",
        "time": T0 + 60.0 * i + 0.125,
        "org_id": "org-acme",
        "team_id": f"team-{i % 3}",
        "key_id": f"key-{i % 5}",
        "end_user": f"user-{i}",
        "client_ip": "10.0.0.7",
        "stream": i % 2 == 0,
        "model": "gpt-4o",
        "target": "openai/gpt-4o",
        "provider": "openai",
        "region": "eastus",
        "tier": 2,
        "cache": "miss",
        "attempts": 1,
        "prompt_tokens": 10 + i,
        "completion_tokens": 20 + i,
        "cost_usd": 0.0001 * (i + 1),
        "latency_ms": 123.456,
        "ttft_ms": 45.6,
        "upstream_ms": 100.1,
        "overhead_ms": 23.356,
        "guardrail_findings": {"EMAIL_ADDRESS": 1} if i % 4 == 0 else {},
        "injection_score": 0.01,
    }
    values.update(fields)
    return AuditRecord.model_validate(values)


@pytest.fixture
async def writer(db: Database) -> AsyncIterator[AuditWriter]:  # noqa: F811
    w = AuditWriter(db, hmac_key=KEY, flush_interval_s=0.001)
    yield w
    await w.close()


async def fill(writer: AuditWriter, sequential: int = 6, together: int = 6) -> list[AuditRecord]:
    """``sequential`` records one batch each, then ``together`` records in one batch."""
    records = [make_record(i) for i in range(1, sequential + together + 1)]
    for record in records[:sequential]:
        await writer.append(record)
    await asyncio.gather(*(writer.append(r) for r in records[sequential:]))
    return records
