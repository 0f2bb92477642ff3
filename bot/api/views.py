"""``/api/v1``: records changed since a time, one record, progress per area."""

from __future__ import annotations

from aiohttp import web

from bot import clock
from bot.api.auth import current_token
from bot.api.openapi import PREFIX, query_parameters
from bot.api.serialize import progress_json, record_json
from bot.appkeys import FORM, SESSIONMAKER, SETTINGS
from bot.console.present import form_for
from bot.deadlines import deadline_for
from bot.display import json_response
from bot.params import ParamError, Query, id_value, path_id
from storage import people, reporting
from storage.models import ApiToken, RecordStatus
from storage.repositories import Actor
from storage.repositories.audit import add_event

router = web.RouteTableDef()
MAX_LIMIT = 500
DEFAULT_LIMIT = 100
STATUSES = tuple(str(s) for s in reporting.HANDED_IN)


def _actor(token: ApiToken) -> Actor:
    return Actor("api", str(token.id), f"接口令牌 {token.name}")


def _query(request: web.Request) -> Query:
    """The request's query, typed. The API's callers are programs: an empty value is as wrong
    as any other malformed one, and a parameter the description does not list (a typo such as
    ``districtid``) is refused rather than silently ignored."""
    resource = request.match_info.route.resource
    template = resource.canonical if resource is not None else ""
    allowed = query_parameters(template.removeprefix(PREFIX))
    for name in request.query:
        if name not in allowed:
            known = "、".join(sorted(allowed)) or "无"
            raise ParamError(name, f"未知参数“{name[:40]}”（可用的参数：{known}）。")
    return Query(request.query, blank="invalid")


def _filter(q: Query) -> reporting.RecordFilter:
    statuses = q.choices("status", STATUSES)
    return reporting.RecordFilter(
        district_id=q.id("district_id"),
        street_id=q.id("street_id"),
        community_id=q.id("community_id"),
        statuses=tuple(RecordStatus(s) for s in statuses),
    )


@router.get("/records", name="api_records")
async def list_records(request: web.Request) -> web.Response:
    """Handed-in records changed after ``since`` (or after ``cursor``), oldest change first."""
    token = current_token(request)
    form = request.config_dict[FORM]
    q = _query(request)
    f = _filter(q)
    since = q.instant("since")
    limit = q.number("limit", default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    cursor = q.text("cursor")
    if cursor is not None:
        try:
            _, last_id = reporting.decode_cursor(cursor)
            id_value(str(last_id), "cursor")
        except (ValueError, ParamError):
            raise ParamError(
                "cursor", "参数 cursor 无效：请使用上一页返回的 next_cursor。"
            ) from None
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        page = await reporting.changed_records(
            db, token.district_id, f, since=since, cursor=cursor, limit=limit
        )
        add_event(
            db,
            _actor(token),
            "api_read",
            channel="api",
            details={"path": request.path, "records": len(page.rows)},
        )
    return json_response(
        {
            "records": [
                record_json(form_for(form, r.form_id, r.form_version), r) for r in page.rows
            ],
            "next_cursor": page.next_cursor,
        }
    )


@router.get(r"/records/{record_id:\d+}", name="api_record")
async def get_record(request: web.Request) -> web.Response:
    """One handed-in record; 404 when unknown, a draft, or outside the token's district."""
    token = current_token(request)
    record_id = path_id(request, "record_id")
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        row = await reporting.record_row(db, token.district_id, record_id)
        if row is None:
            raise web.HTTPNotFound()
        add_event(db, _actor(token), "api_read", record_id=record_id, channel="api", details={})
    form = form_for(request.config_dict[FORM], row.form_id, row.form_version)
    return json_response(record_json(form, row))


@router.get("/progress", name="api_progress")
async def get_progress(request: web.Request) -> web.Response:
    """Progress of an area (``level`` city|district|street|community, ``id``) and its children."""
    token = current_token(request)
    q = _query(request)
    level, area_id = q.area(reporting.LEVELS)
    async with request.config_dict[SESSIONMAKER]() as db:
        if level != "city":
            district = await reporting.area_district(db, level, area_id)
            if district is None or (
                token.district_id is not None and district != token.district_id
            ):
                raise web.HTTPNotFound()
        crumbs = await reporting.area_path(db, level, area_id)
        if crumbs is None:
            raise web.HTTPNotFound()
        total, children = await reporting.progress(db, token.district_id, level, area_id)
        reach, reach_children = await people.reach(db, token.district_id, level, area_id)
    total.name = crumbs[-1].name
    settings = request.config_dict[SETTINGS]
    today = clock.today()
    by_id = {line.id: line for line in reach_children}
    child_level = reporting.CHILD_LEVEL.get(level)
    return json_response(
        {
            "area": progress_json(total, reach, deadline_for(level, settings, today)),
            "children": [
                progress_json(
                    c,
                    by_id.get(c.id) or people.ReachLine(c.level, c.id, c.name),
                    deadline_for(child_level, settings, today) if child_level else None,
                )
                for c in children
            ],
        }
    )
