"""``/api/v1``: records changed since a time, one record, progress per area."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from bot import clock
from bot.api.auth import current_token, error
from bot.api.serialize import progress_json, record_json
from bot.appkeys import FORM, SESSIONMAKER, SETTINGS
from bot.console.present import form_for
from bot.deadlines import deadline_for
from storage import people, reporting
from storage.models import ApiToken, RecordStatus
from storage.repositories import Actor
from storage.repositories.audit import add_event

router = web.RouteTableDef()
MAX_LIMIT = 500
DEFAULT_LIMIT = 100


class BadRequest(Exception):
    """A query parameter is wrong; the message says which and what is expected."""


def _actor(token: ApiToken) -> Actor:
    return Actor("api", str(token.id), f"接口令牌 {token.name}")


def _int_param(query: Any, name: str, default: int | None = None) -> int | None:
    raw = query.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"参数 {name} 应为正整数") from None
    if value < 1:
        raise BadRequest(f"参数 {name} 应为正整数")
    return value


def _filter(query: Any) -> reporting.RecordFilter:
    statuses: tuple[RecordStatus, ...] = ()
    if query.get("status"):
        allowed = {str(s) for s in reporting.HANDED_IN}
        wanted = [s.strip() for s in str(query["status"]).split(",") if s.strip()]
        bad = [s for s in wanted if s not in allowed]
        if bad:
            raise BadRequest(f"参数 status 只能是 {', '.join(sorted(allowed))}（收到 {bad[0]}）")
        statuses = tuple(RecordStatus(s) for s in wanted)
    return reporting.RecordFilter(
        district_id=_int_param(query, "district_id"),
        street_id=_int_param(query, "street_id"),
        community_id=_int_param(query, "community_id"),
        statuses=statuses,
    )


def _since(query: Any) -> dt.datetime | None:
    raw = query.get("since")
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(
            "参数 since 应为带时区的 ISO 8601 时间，如 2014-11-01T00:00:00+08:00"
        ) from None
    if value.tzinfo is None:
        raise BadRequest("参数 since 须带时区，如 2014-11-01T00:00:00+08:00")
    return value


@router.get("/records", name="api_records")
async def list_records(request: web.Request) -> web.Response:
    """Handed-in records changed after ``since`` (or after ``cursor``), oldest change first."""
    token = current_token(request)
    form = request.config_dict[FORM]
    try:
        f = _filter(request.query)
        since = _since(request.query)
        limit = min(_int_param(request.query, "limit", DEFAULT_LIMIT) or DEFAULT_LIMIT, MAX_LIMIT)
        cursor = request.query.get("cursor") or None
        if cursor is not None:
            try:
                reporting.decode_cursor(cursor)
            except ValueError:
                raise BadRequest("参数 cursor 无效：请使用上一页返回的 next_cursor") from None
    except BadRequest as exc:
        return error(400, "bad_request", str(exc))
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
    return web.json_response(
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
    record_id = int(request.match_info["record_id"])
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        row = await reporting.record_row(db, token.district_id, record_id)
        if row is None:
            raise web.HTTPNotFound()
        add_event(db, _actor(token), "api_read", record_id=record_id, channel="api", details={})
    form = form_for(request.config_dict[FORM], row.form_id, row.form_version)
    return web.json_response(record_json(form, row))


@router.get("/progress", name="api_progress")
async def get_progress(request: web.Request) -> web.Response:
    """Progress of an area (``level`` city|district|street|community, ``id``) and its children."""
    token = current_token(request)
    level = request.query.get("level", "city")
    if level not in reporting.LEVELS:
        return error(400, "bad_request", "参数 level 只能是 city、district、street、community")
    try:
        area_id = _int_param(request.query, "id") if level != "city" else None
    except BadRequest as exc:
        return error(400, "bad_request", str(exc))
    if level != "city" and area_id is None:
        return error(400, "bad_request", "参数 id 必填（区、街道或社区的编号）")
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
    return web.json_response(
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
