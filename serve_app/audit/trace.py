"""A request's audit record as it is filled in along the request path."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, Protocol

from serve_app.audit.record import AuditRecord

__all__ = ["AuditSink", "RequestTrace"]


class AuditSink(Protocol):
    def append(self, record: AuditRecord) -> Awaitable[int]:
        """Resolve once the record is durably committed."""
        ...


@dataclass
class RequestTrace:
    """Everything the audit record of one request needs; ``record()`` builds it."""

    started: float = field(default_factory=time.perf_counter)
    time: float = field(default_factory=time.time)
    request_id: str = field(default_factory=lambda: f"tgr-{uuid.uuid4().hex}")
    fields: dict[str, Any] = field(default_factory=dict)
    recorded: bool = False
    scheduled: bool = False  # a background task will write the record (record_soon)
    # The redacted texts of a team that opted in; sealed (encrypted) into the record, never stored plain.
    texts: dict[str, Any] | None = None

    def set(self, **values: Any) -> None:
        self.fields.update({k: v for k, v in values.items() if v is not None})

    def record(self) -> AuditRecord:
        elapsed_ms = (time.perf_counter() - self.started) * 1000
        values = {"latency_ms": round(elapsed_ms, 3), **self.fields}
        upstream = values.get("upstream_ms")
        if upstream is not None and "overhead_ms" not in values:
            values["overhead_ms"] = round(max(0.0, elapsed_ms - float(upstream)), 3)
        return AuditRecord(request_id=self.request_id, time=self.time, **values)
