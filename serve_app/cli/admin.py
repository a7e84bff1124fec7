"""``tollgate orgs|teams|keys|spend``: the admin API from the command line.

Every command reads the gateway URL from ``--url`` or ``TOLLGATE_URL`` and the
master key from ``--master-key``, ``TOLLGATE_MASTER_KEY`` or (the local
profile) the generated key file, and prints a table, or JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

__all__ = ["add_admin_commands", "add_cache_admin_commands"]

_DEFAULT_URL = "http://127.0.0.1:8000"
_WINDOWS = ("hourly", "daily", "monthly", "lifetime")


class _CliError(Exception):
    pass


def _master_key(args: argparse.Namespace) -> str:
    key = args.master_key or os.environ.get("TOLLGATE_MASTER_KEY", "").strip()
    if key:
        return str(key)
    generated = Path(os.path.expanduser(os.environ.get("TOLLGATE_DATA_DIR") or "~/.tollgate")) / "master_key"
    if generated.is_file():
        return generated.read_text(encoding="utf-8").strip()
    raise _CliError("no master key: pass --master-key or set TOLLGATE_MASTER_KEY")


def _call(args: argparse.Namespace, method: str, path: str, body: dict[str, Any] | None = None,
          params: dict[str, str] | None = None) -> Any:
    url = (args.url or os.environ.get("TOLLGATE_URL") or _DEFAULT_URL).rstrip("/")
    try:
        response = httpx.request(method, url + path, json=body, params=params, timeout=30,
                                 headers={"Authorization": f"Bearer {_master_key(args)}"})
    except httpx.HTTPError as exc:
        raise _CliError(f"cannot reach the gateway at {url}: {exc}") from exc
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if response.status_code >= 400:
        error = payload.get("error") if isinstance(payload, dict) else None
        message = error.get("message") if isinstance(error, dict) else response.text[:200]
        raise _CliError(f"{response.status_code}: {message}")
    return payload


def _budgets(args: argparse.Namespace, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for window in _WINDOWS:
        hard = getattr(args, f"{prefix}{window}_budget", None)
        soft = getattr(args, f"{prefix}{window}_soft_budget", None)
        if hard is not None or soft is not None:
            out[window] = {k: v for k, v in (("hard", hard), ("soft", soft)) if v is not None}
    return out


def _limits(args: argparse.Namespace) -> dict[str, Any]:
    pairs = (("rpm", args.rpm), ("tpm", args.tpm), ("max_concurrency", args.max_concurrency))
    return {k: v for k, v in pairs if v is not None}


def _models(args: argparse.Namespace) -> list[str]:
    return [m.strip() for m in (args.models or "").split(",") if m.strip()]


def _add_budget_flags(parser: argparse.ArgumentParser, prefix: str = "", who: str = "") -> None:
    for window in _WINDOWS:
        flag = f"--{prefix.replace('_', '-')}{window}"
        parser.add_argument(f"{flag}-budget", dest=f"{prefix}{window}_budget", type=float, metavar="USD",
                            help=f"hard {window} budget{who} in USD (429 once reached)")
        parser.add_argument(f"{flag}-soft-budget", dest=f"{prefix}{window}_soft_budget", type=float, metavar="USD",
                            help=f"soft {window} budget{who}: only alerts")


def _add_limit_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rpm", type=int, help="requests per minute")
    parser.add_argument("--tpm", type=int, help="tokens per minute")
    parser.add_argument("--max-concurrency", type=int, help="requests in flight at once")


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if value < 100 else f"{value:.2f}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":")) if value else "-"
    return str(value)


_COLUMNS = {
    "org": ["id", "name", "status", "budgets", "limits"],
    "team": ["id", "name", "org_id", "status", "budgets", "limits", "models"],
    "key": ["id", "name", "team_id", "key_prefix", "status", "models", "budgets", "limits", "last_used_at"],
}


def _show(args: argparse.Namespace, payload: Any, kind: str) -> None:
    if args.json:
        print(json.dumps(payload, indent=2))
        return
    rows = payload["data"] if isinstance(payload, dict) and "data" in payload else [payload]
    print(_table(rows, _COLUMNS[kind]))
    if isinstance(payload, dict) and payload.get("key"):
        print(f"\nkey: {payload['key']}\n(shown once; store it now)")


def _run(handler: Any) -> Any:
    def wrapped(args: argparse.Namespace) -> int:
        try:
            handler(args)
        except _CliError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0

    return wrapped


def _org_create(args: argparse.Namespace) -> None:
    body = {"name": args.name, "budgets": _budgets(args), "limits": _limits(args)}
    _show(args, _call(args, "POST", "/admin/orgs", body), "org")


def _team_create(args: argparse.Namespace) -> None:
    body = {"org": args.org, "name": args.name, "budgets": _budgets(args), "limits": _limits(args),
            "end_user_budgets": _budgets(args, "end_user_"), "models": _models(args)}
    _show(args, _call(args, "POST", "/admin/teams", body), "team")


def _key_create(args: argparse.Namespace) -> None:
    expires_at = time.time() + args.expires_in_days * 86400 if args.expires_in_days else None
    body = {"team": args.team, "name": args.name, "budgets": _budgets(args), "limits": _limits(args),
            "models": _models(args), "expires_at": expires_at}
    _show(args, _call(args, "POST", "/admin/keys", body), "key")


def _lister(kind: str, parent: str | None) -> Any:
    def run(args: argparse.Namespace) -> None:
        value = getattr(args, parent, None) if parent else None
        _show(args, _call(args, "GET", f"/admin/{kind}s", params={parent: value} if parent and value else None), kind)

    return run


def _action(kind: str, verb: str) -> Any:
    def run(args: argparse.Namespace) -> None:
        _show(args, _call(args, "POST", f"/admin/{kind}s/{args.id}/{verb}"), kind)

    return run


def _updater(kind: str) -> Any:
    def run(args: argparse.Namespace) -> None:
        body: dict[str, Any] = {}
        if _budgets(args):
            body["budgets"] = _budgets(args)
        if _limits(args):
            body["limits"] = _limits(args)
        if getattr(args, "models", None) is not None:
            body["models"] = _models(args)
        _show(args, _call(args, "PATCH", f"/admin/{kind}s/{args.id}", body), kind)

    return run


def _shower(kind: str) -> Any:
    def run(args: argparse.Namespace) -> None:
        payload = _call(args, "GET", f"/admin/{kind}s/{args.id}")
        if args.json:
            print(json.dumps(payload, indent=2))
            return
        print(_table([payload], _COLUMNS[kind]))
        usage = [{"window": w, **u} for w, u in (payload.get("usage") or {}).items()]
        if usage:
            print()
            print(_table(usage, ["window", "spent_usd", "reserved_usd", "limit_usd", "remaining_usd", "resets_at"]))

    return run


def _spend_report(args: argparse.Namespace) -> None:
    payload = _call(args, "GET", "/admin/spend", params={"by": args.by, "window": args.window})
    if args.json:
        print(json.dumps(payload, indent=2))
        return
    print(_table(payload["data"], [args.by, "requests", "prompt_tokens", "cached_tokens", "cache_write_tokens",
                                   "completion_tokens", "spend_usd", "saved_usd"]))


def _common_flags() -> argparse.ArgumentParser:
    """--url, --master-key and --json, shared by every admin command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help=f"gateway URL (default: $TOLLGATE_URL or {_DEFAULT_URL})")
    common.add_argument("--master-key", help="master key (default: $TOLLGATE_MASTER_KEY or the local key file)")
    common.add_argument("--json", action="store_true", help="machine-readable output")
    return common


def add_admin_commands(sub: Any) -> None:
    """Add ``orgs``, ``teams``, ``keys`` and ``spend`` to the ``tollgate`` parser."""
    common = _common_flags()

    for kind, parent in (("org", None), ("team", "org"), ("key", "team")):
        group = sub.add_parser(f"{kind}s", help=f"manage {kind}s").add_subparsers(dest=f"{kind}_cmd", required=True)
        create = group.add_parser("create", parents=[common], help=f"create a {kind}")
        create.add_argument("name")
        if parent:
            create.add_argument(f"--{parent}", required=True,
                                help="organisation id or name" if parent == "org" else "team id or ORG/TEAM")
        _add_budget_flags(create)
        _add_limit_flags(create)
        if kind != "org":
            create.add_argument("--models", help="comma-separated models it may call (default: all)")
        if kind == "team":
            _add_budget_flags(create, "end_user_", " for each end user")
        if kind == "key":
            create.add_argument("--expires-in-days", type=float, help="refuse the key after this many days")
        create.set_defaults(func=_run({"org": _org_create, "team": _team_create, "key": _key_create}[kind]))

        listing = group.add_parser("list", parents=[common], help=f"list {kind}s")
        if parent:
            listing.add_argument(f"--{parent}", help=f"only those of this {parent}")
        listing.set_defaults(func=_run(_lister(kind, parent)))

        show = group.add_parser("show", parents=[common], help=f"one {kind} with its spend per budget window")
        show.add_argument("id")
        show.set_defaults(func=_run(_shower(kind)))

        update = group.add_parser("update", parents=[common], help=f"replace a {kind}'s budgets, limits or models")
        update.add_argument("id")
        _add_budget_flags(update)
        _add_limit_flags(update)
        if kind != "org":
            update.add_argument("--models", help="comma-separated models it may call")
        update.set_defaults(func=_run(_updater(kind)))

        revoke = group.add_parser("revoke", parents=[common], help=f"disable a {kind} (and everything under it)")
        revoke.add_argument("id")
        revoke.set_defaults(func=_run(_action(kind, "revoke")))
        if kind == "key":
            rotate = group.add_parser("rotate", parents=[common], help="new secret, same key; the old one stops")
            rotate.add_argument("id")
            rotate.set_defaults(func=_run(_action(kind, "rotate")))

    spend = sub.add_parser("spend", help="spend reports").add_subparsers(dest="spend_cmd", required=True)
    report = spend.add_parser("report", parents=[common], help="spend grouped by team, key, org, model or end user")
    report.add_argument("--by", choices=["team", "key", "org", "model", "end_user"], default="team")
    report.add_argument("--window", choices=["hour", "day", "month", "all"], default="day")
    report.set_defaults(func=_run(_spend_report))


def _duration_s(text: str) -> float:
    """``90s``, ``30m``, ``12h``, ``7d`` (or plain seconds) → seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        if text and text[-1] in units:
            return float(text[:-1]) * units[text[-1]]
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 90s, 30m, 12h or 7d") from None


def _cache_purge(args: argparse.Namespace) -> None:
    body = {name: value for name, value in (("team", args.team), ("org", args.org), ("key", args.key),
                                            ("tenant", args.tenant), ("model", args.model),
                                            ("older_than_s", args.older_than)) if value is not None}
    if args.all:
        body["all"] = True
    payload = _call(args, "POST", "/admin/cache/purge", body)
    print(json.dumps(payload, indent=2) if args.json else f"deleted {payload['deleted']} cache entries")


def _cache_stats(args: argparse.Namespace) -> None:
    payload = _call(args, "GET", "/admin/cache")
    if args.json:
        print(json.dumps(payload, indent=2))
        return
    print(f"entries: {payload['entries']} (indexed on the replica that answered: {payload['indexed']})")
    rows = [{"tenant": t, "entries": n} for t, n in sorted(payload["by_tenant"].items())]
    if rows:
        print(_table(rows, ["tenant", "entries"]))


def add_cache_admin_commands(cache: Any) -> None:
    """``tollgate cache purge|stats`` over ``/admin/cache``."""
    common = _common_flags()

    purge = cache.add_parser("purge", parents=[common], help="delete cache entries by scope, model or age")
    tenant = purge.add_mutually_exclusive_group()
    tenant.add_argument("--team", help="ORG/TEAM: that team's entries (cache.scope team)")
    tenant.add_argument("--org", help="that organisation's entries (cache.scope org)")
    tenant.add_argument("--key", help="that key id's entries (cache.scope key)")
    tenant.add_argument("--tenant", help="a raw tenant label: team:ORG/TEAM, org:ORG, key:ID, master or global")
    purge.add_argument("--model", help="only entries of this requested model")
    purge.add_argument("--older-than", type=_duration_s, help="only entries older than this, e.g. 7d or 12h")
    purge.add_argument("--all", action="store_true", help="every entry (needed when no other filter is given)")
    purge.set_defaults(func=_run(_cache_purge))

    stats = cache.add_parser("stats", parents=[common], help="entries per tenant")
    stats.set_defaults(func=_run(_cache_stats))
