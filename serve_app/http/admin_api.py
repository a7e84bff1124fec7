"""``/admin/``: organisations, teams, virtual keys and spend, for the master key only.

Thin routes over :class:`serve_app.governance.directory.Directory` and the
ledger; the ``tollgate orgs|teams|keys|spend`` commands are clients of these.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from serve_app.governance.directory import EntityKind
from serve_app.governance.enforcer import Governance
from serve_app.governance.ledger import Kind
from tollgate_core.entities import NANO, EntityUpdate, KeyCreate, OrgCreate, TeamCreate
from tollgate_core.errors import BadRequestError, TollgateError
from tollgate_core.windows import BUDGET_WINDOWS, Window, window_bounds

__all__ = ["admin_routes", "parse_body"]

M = TypeVar("M", bound=BaseModel)
Handler = Callable[[Request], Awaitable[Response]]
Authorize = Callable[[Request], Awaitable[None]]
Render = Callable[[Any, int], Response]

_CREATE: dict[str, type[BaseModel]] = {"org": OrgCreate, "team": TeamCreate, "key": KeyCreate}
_PARENT_PARAM = {"team": "org", "key": "team"}
_REPORT_WINDOWS = {"hour": Window.HOURLY, "day": Window.DAILY, "month": Window.MONTHLY, "all": Window.LIFETIME}
_REPORT_BY = ("team", "key", "org", "model", "end_user")


async def parse_body(request: Request, model: type[M]) -> M:
    """The JSON body as ``model``; a bad field is 400 naming it in ``param``."""
    body = await request.body()
    try:
        return model.model_validate_json(body or b"{}", strict=True)  # "5" is no number: as the schema says
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(p) for p in first["loc"]) or None
        raise BadRequestError(f"{param + ': ' if param else ''}{first['msg']}", param=param) from exc


async def _usage(governance: Governance, entity: dict[str, Any]) -> dict[str, Any]:
    """Spend and what remains in each budget window of an org, team or key."""
    scope = f"{entity['object']}:{entity['id']}"
    budgets = entity.get("budgets") or {}
    now = governance.ledger.clock()
    out: dict[str, Any] = {}
    for window in BUDGET_WINDOWS:
        used, reserved = await governance.ledger.counter(scope, Kind.USD, window)
        limit = (budgets.get(window.value) or {}).get("hard")
        entry: dict[str, Any] = {"spent_usd": used / NANO, "reserved_usd": reserved / NANO}
        if limit is not None:
            entry["limit_usd"] = limit
            entry["remaining_usd"] = max(0.0, limit - (used + reserved) / NANO)
        if window is not Window.LIFETIME:
            entry["resets_at"] = window_bounds(window, now)[1]
        if used or reserved or limit is not None:
            out[window.value] = entry
    return out


def admin_routes(governance: Governance, authorize: Authorize, render: Render,
                 on_error: Callable[[TollgateError, Request], Response]) -> list[Route]:
    """The routes; ``authorize`` raises unless the caller holds the master key."""

    def endpoint(fn: Callable[[Request], Awaitable[tuple[Any, int]]]) -> Handler:
        async def handle(request: Request) -> Response:
            try:
                await authorize(request)
                body, status = await fn(request)
            except TollgateError as err:
                return on_error(err, request)
            return render(body, status)

        return handle

    def collection(kind: EntityKind) -> Handler:
        async def run(request: Request) -> tuple[Any, int]:
            if request.method == "POST":
                spec = await parse_body(request, _CREATE[kind])
                if kind == "org":
                    return await governance.directory.create_org(spec), 201  # type: ignore[arg-type]
                if kind == "team":
                    return await governance.directory.create_team(spec), 201  # type: ignore[arg-type]
                return await governance.directory.create_key(spec), 201  # type: ignore[arg-type]
            parent = request.query_params.get(_PARENT_PARAM.get(kind, ""))
            return {"object": "list", "data": await governance.directory.list(kind, parent)}, 200

        return endpoint(run)

    def item(kind: EntityKind) -> Handler:
        async def run(request: Request) -> tuple[Any, int]:
            entity_id = request.path_params["id"]
            if request.method == "PATCH":
                change = await parse_body(request, EntityUpdate)
                entity = await governance.directory.update(kind, entity_id, change)
            else:
                entity = await governance.directory.get(kind, entity_id)
            return {**entity, "usage": await _usage(governance, entity)}, 200

        return endpoint(run)

    def action(kind: EntityKind, verb: str) -> Handler:
        async def run(request: Request) -> tuple[Any, int]:
            entity_id = request.path_params["id"]
            if verb == "rotate":
                return await governance.directory.rotate_key(entity_id), 200
            return await governance.directory.revoke(kind, entity_id), 200

        return endpoint(run)

    async def spend(request: Request) -> tuple[Any, int]:
        by = request.query_params.get("by", "team")
        window_name = request.query_params.get("window", "day")
        if by not in _REPORT_BY:
            raise BadRequestError(f"by must be one of {', '.join(_REPORT_BY)}", param="by")
        if window_name not in _REPORT_WINDOWS:
            raise BadRequestError(f"window must be one of {', '.join(_REPORT_WINDOWS)}", param="window")
        since, _ = window_bounds(_REPORT_WINDOWS[window_name], governance.ledger.clock())
        rows = await governance.ledger.spend_report(by, float(since))
        return {"object": "spend_report", "by": by, "window": window_name, "since": since, "data": rows}, 200

    routes = [Route("/admin/spend", endpoint(spend), methods=["GET"])]
    for kind in ("org", "team", "key"):
        k: EntityKind = kind
        routes += [
            Route(f"/admin/{kind}s", collection(k), methods=["GET", "POST"]),
            Route(f"/admin/{kind}s/{{id}}", item(k), methods=["GET", "PATCH"]),
            Route(f"/admin/{kind}s/{{id}}/revoke", action(k, "revoke"), methods=["POST"]),
        ]
    routes.append(Route("/admin/keys/{id}/rotate", action("key", "rotate"), methods=["POST"]))
    return routes


