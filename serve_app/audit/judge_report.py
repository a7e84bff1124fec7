"""``tollgate judge report``: the judges' failure rates per team, model and judge over a window, from the audit log.

Inline verdicts are in the requests' own records, sampled ones in ``judgement`` records of the same request id; both
count. A verdict of ``error`` is counted apart and never as a pass or a failure. A row whose failure rate reaches
the ``alert_failure_rate`` of the team's rule (with at least ``judges.alert_min_verdicts`` verdicts) is marked as an
alert.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, TextIO

from serve_app.audit.export import iter_records
from tollgate_core.config import JudgesConfig
from tollgate_core.store.base import Database

__all__ = ["ReportRow", "judge_report", "write_table"]


@dataclass
class ReportRow:
    team: str  # ORG/TEAM, or the team id when the hierarchy no longer has it; "(master key)" without one
    model: str
    judge: str
    judged: int = 0
    failed: int = 0
    errors: int = 0
    flagged: int = 0
    blocked: int = 0
    alert_threshold: float | None = None
    alert: bool = False

    @property
    def failure_rate(self) -> float | None:
        return self.failed / self.judged if self.judged else None

    def to_dict(self) -> dict[str, Any]:
        rate = self.failure_rate
        return {**asdict(self), "failure_rate": round(rate, 4) if rate is not None else None}


async def _team_paths(db: Database) -> dict[str, str]:
    rows = await db.fetchall("SELECT t.id AS id, o.name AS org, t.name AS team FROM teams t "
                             "JOIN orgs o ON o.id = t.org_id")
    return {str(r["id"]): f"{r['org']}/{r['team']}" for r in rows}


async def judge_report(db: Database, config: JudgesConfig | None, since: float, until: float | None = None,
                       team: str | None = None) -> list[ReportRow]:
    """One row per (team, model, judge) that judged anything in ``[since, until)``; ``team`` is an ORG/TEAM name."""
    paths = await _team_paths(db)
    team_id = None
    if team is not None:
        team_id = next((i for i, p in paths.items() if p == team), team)
    rows: dict[tuple[str, str, str], ReportRow] = {}
    async for record in iter_records(db, since, until, team_id):
        for verdict in record.get("judges") or []:
            tid = record.get("team_id") or ""
            path = paths.get(tid, tid) if tid else "(master key)"
            key = (path, str(record.get("model") or ""), str(verdict.get("judge")))
            row = rows.setdefault(key, ReportRow(*key))
            outcome = verdict.get("verdict")
            if outcome == "error":
                row.errors += 1
                continue
            row.judged += 1
            row.failed += outcome == "fail"
            row.flagged += verdict.get("action") == "flag"
            row.blocked += verdict.get("action") == "block"
    if config is not None:
        for row in rows.values():
            row.alert_threshold = _threshold(config, row.team, row.model, row.judge)
            rate = row.failure_rate
            row.alert = (row.alert_threshold is not None and rate is not None
                         and row.judged >= config.alert_min_verdicts and rate >= row.alert_threshold)
    return sorted(rows.values(), key=lambda r: (r.team, r.model, r.judge))


def _threshold(config: JudgesConfig, team: str, model: str, judge: str) -> float | None:
    try:
        rule = config.rules(team, model).get(judge)
    except ValueError:
        return None
    return rule.alert_failure_rate if rule is not None else None


def write_table(rows: list[ReportRow], out: TextIO) -> None:
    """The rows as an aligned text table."""
    header = ("team", "model", "judge", "judged", "failed", "rate", "errors", "flagged", "blocked", "alert")
    lines = [header]
    for r in rows:
        rate = r.failure_rate
        alert = ("ALERT" if r.alert else "ok") + (f" (>= {r.alert_threshold:.1%})" if r.alert_threshold else "")
        lines.append((r.team, r.model, r.judge, str(r.judged), str(r.failed),
                      f"{rate:.1%}" if rate is not None else "-", str(r.errors), str(r.flagged), str(r.blocked),
                      alert if r.alert_threshold is not None else "-"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        out.write("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() + "\n")
    if not rows:
        out.write("(no judged answers in the window)\n")


def write_json(rows: list[ReportRow], since: float, until: float | None, out: TextIO) -> None:
    out.write(json.dumps({"since": since, "until": until, "rows": [r.to_dict() for r in rows]}, ensure_ascii=False)
              + "\n")
