"""``tollgate audit verify|export|tail|prune``: the audit log, read straight from the state store.

The store is ``--store URL``, or the one the Serve config (``--config``, default
``configs/local.yaml``) names. The HMAC key comes from ``--hmac-key-env`` (default:
the config's ``audit.hmac_key_env``, else ``TOLLGATE_AUDIT_HMAC_KEY``) or, when
that is unset, the key file the local profile's gateway generated in its data
directory. Nothing here starts Ray or talks to the gateway. ``verify`` exits 0
when the chain verifies, 1 when it does not, 2 when it could not be checked.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from serve_app.audit.export import iter_records, last_seq, tail, write_csv, write_jsonl
from serve_app.audit.keys import HMAC_KEY_ENV, stored_hmac_key
from serve_app.audit.retention import prune
from serve_app.audit.verify import verify_chain
from tollgate_core.config import load_serve_config, parse_gateway_config
from tollgate_core.errors import ConfigError, TollgateError
from tollgate_core.store import Database, open_database

__all__ = ["add_audit_commands", "add_judge_report_command"]

APP_IMPORT_PATH = "serve_app.app:build_app"
DEFAULT_CONFIG = "configs/local.yaml"
_DAY_S = 86400.0


@dataclass(frozen=True)
class _Target:
    url: str
    key_env: str
    data_dir: Path | None
    retention_days: float | None


def add_audit_commands(subparsers: Any) -> None:
    """Add ``audit`` and its subcommands to the ``tollgate`` parser's subparsers."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", help="the state store's URL (sqlite:///PATH or postgresql://…)")
    common.add_argument("--config", help=f"the Serve config whose store to read (default {DEFAULT_CONFIG})")
    common.add_argument("--hmac-key-env", help=f"variable holding the checkpoints' HMAC key (default {HMAC_KEY_ENV})")

    audit = subparsers.add_parser("audit", help="the tamper-evident audit log: verify, export, tail, prune")
    sub = audit.add_subparsers(dest="audit_cmd", required=True)

    verify = sub.add_parser("verify", parents=[common], help="check the hash chain and the signed checkpoints")
    verify.set_defaults(func=_cmd_verify)

    export = sub.add_parser("export", parents=[common], help="write records for the compliance repository")
    export.add_argument("--since", type=_when, help="from this time (ISO 8601 or unix time), inclusive")
    export.add_argument("--until", type=_when, help="to this time (ISO 8601 or unix time), exclusive")
    export.add_argument("--team", help="only this team id")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--out", help="write to this file instead of standard output")
    export.set_defaults(func=_cmd_export)

    tail_cmd = sub.add_parser("tail", parents=[common], help="print the latest records as JSON lines")
    tail_cmd.add_argument("-n", "--lines", type=int, default=20, help="how many existing records to show first")
    tail_cmd.add_argument("--follow", "-f", action="store_true", help="keep printing new records as they arrive")
    tail_cmd.add_argument("--poll", type=float, default=1.0, help="seconds between looks for new records")
    tail_cmd.set_defaults(func=_cmd_tail)

    prune_cmd = sub.add_parser("prune", parents=[common], help="delete old records, keeping the chain verifiable")
    prune_cmd.add_argument("--older-than-days", type=float,
                           help="delete records older than this (default: the config's audit.retention_days)")
    prune_cmd.set_defaults(func=_cmd_prune)


def add_judge_report_command(judge_subparsers: Any) -> None:
    """Add ``judge report`` (read from the audit log, so it lives with the audit commands)."""
    report = judge_subparsers.add_parser(
        "report", help="failure rates per team, model and judge over a window, with the config's alerts")
    report.add_argument("--store", help="the state store's URL (sqlite:///PATH or postgresql://…)")
    report.add_argument("--config", help=f"the Serve config whose store and alert thresholds apply "
                        f"(default {DEFAULT_CONFIG})")
    report.add_argument("--hmac-key-env", help=argparse.SUPPRESS)
    report.add_argument("--since", type=_ago_or_when, default="24h",
                        help="from this time: a duration ago (30m, 24h, 7d), ISO 8601 or unix time (default 24h)")
    report.add_argument("--until", type=_when, help="to this time (ISO 8601 or unix time), exclusive")
    report.add_argument("--team", help="only this team (ORG/TEAM)")
    report.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    report.set_defaults(func=_cmd_judge_report)


def _ago_or_when(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text[-1:] in units and text[:-1].replace(".", "", 1).isdigit():
        return time.time() - float(text[:-1]) * units[text[-1]]
    return _when(text)


def _cmd_judge_report(args: argparse.Namespace) -> int:
    from serve_app.audit.judge_report import judge_report, write_json, write_table

    async def body(db: Database, target: _Target) -> int:
        config = None
        if args.config is not None or args.store is None:
            config = parse_gateway_config(_tollgate_args(args.config or DEFAULT_CONFIG)).judges
        rows = await judge_report(db, config, args.since, args.until, args.team)
        if args.json:
            write_json(rows, args.since, args.until, sys.stdout)
        else:
            write_table(rows, sys.stdout)
        return 0

    return _run(args, body)


def _when(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither ISO 8601 (2026-01-31T12:00:00Z) nor unix time (1769860800)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _tollgate_args(path: str) -> dict[str, Any]:
    for app in load_serve_config(path).get("applications") or []:
        if app.get("import_path") == APP_IMPORT_PATH:
            return dict(app.get("args") or {})
    raise ConfigError(f"{path} has no Tollgate application")


def _target(args: argparse.Namespace) -> _Target:
    if args.store is not None and args.config is None:
        data_dir = Path(os.path.expanduser(os.environ.get("TOLLGATE_DATA_DIR") or "~/.tollgate"))
        return _Target(args.store, args.hmac_key_env or HMAC_KEY_ENV, data_dir, None)
    config = parse_gateway_config(_tollgate_args(args.config or DEFAULT_CONFIG))
    data_dir = config.server.resolved_data_dir()
    audit = getattr(config, "audit", None)
    return _Target(
        url=args.store or config.state.resolved_url(data_dir),
        key_env=args.hmac_key_env or getattr(audit, "hmac_key_env", None) or HMAC_KEY_ENV,
        data_dir=data_dir if config.profile == "local" else None,
        retention_days=getattr(audit, "retention_days", None),
    )


async def _open(url: str) -> Database:
    """The store, unchanged: a reader neither creates a database nor migrates one."""
    from tollgate_core.store.base import sqlite_path
    from tollgate_core.store.migrations import schema_version

    if url.lower().startswith("sqlite") and not Path(sqlite_path(url)).is_file():
        raise ConfigError(f"there is no state store at {sqlite_path(url)}; pass --store or --config")
    db = await open_database(url, migrate=False)
    try:
        version = await schema_version(db)
    except Exception as exc:  # either driver's "no such table": a database the gateway never used
        await db.close()
        raise ConfigError(f"{url} is not a Tollgate state store ({exc})") from exc
    if version < 2:
        await db.close()
        raise ConfigError(f"the state store has no audit log yet (schema version {version}); start the gateway once")
    return db


def _run(args: argparse.Namespace, body: Callable[[Database, _Target], Awaitable[int]], *, failure: int = 1,
         interrupted: int = 130) -> int:
    async def main() -> int:
        target = _target(args)
        db = await _open(target.url)
        try:
            return await body(db, target)
        finally:
            await db.close()

    try:
        return asyncio.run(main())
    except TollgateError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return failure
    except KeyboardInterrupt:
        return interrupted


def _cmd_verify(args: argparse.Namespace) -> int:
    async def body(db: Database, target: _Target) -> int:
        report = await verify_chain(db, stored_hmac_key(target.key_env, target.data_dir))
        if report.ok:
            print(report.message)
            return 0
        print(f"audit log tampered with ({report.kind}): {report.message}", file=sys.stderr)
        return 1

    return _run(args, body, failure=2)


def _cmd_export(args: argparse.Namespace) -> int:
    async def body(db: Database, target: _Target) -> int:
        records = iter_records(db, args.since, args.until, args.team)
        write = write_csv if args.format == "csv" else write_jsonl
        if args.out in (None, "-"):
            await write(records, sys.stdout)
            return 0
        try:
            with open(args.out, "w", encoding="utf-8", newline="") as fh:
                count = await write(records, fh)
        except OSError as exc:
            raise ConfigError(f"cannot write {args.out}: {exc.strerror}") from exc
        print(f"exported {count} records to {args.out}", file=sys.stderr)
        return 0

    return _run(args, body)


def _cmd_tail(args: argparse.Namespace) -> int:
    async def body(db: Database, target: _Target) -> int:
        start = max(0, await last_seq(db) - max(0, args.lines))
        async for record in tail(db, start, args.poll, follow=args.follow):
            print(json.dumps(record, ensure_ascii=False, separators=(",", ":")), flush=True)
        return 0

    return _run(args, body, interrupted=0)  # Ctrl-C is how `tail --follow` ends


def _cmd_prune(args: argparse.Namespace) -> int:
    async def body(db: Database, target: _Target) -> int:
        days = args.older_than_days if args.older_than_days is not None else target.retention_days
        if days is None or days <= 0:
            raise ConfigError("pass --older-than-days N (a positive number), or set audit.retention_days in the config")
        cutoff = time.time() - days * _DAY_S
        deleted = await prune(db, stored_hmac_key(target.key_env, target.data_dir), cutoff)
        when = datetime.fromtimestamp(cutoff, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        print(f"pruned {deleted} audit records from before {when}")
        return 0

    return _run(args, body)
