"""Progress 市 → 区 → 街道 → 社区: counts, rates, deadlines, investigators, daily chart."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session
from markupsafe import Markup

from bot.appkeys import SESSIONMAKER, SETTINGS
from bot.console.auth import current_staff
from bot.console.chart import Series, line_chart
from bot.console.sessions import csrf_token
from bot.params import ParamError, Query
from storage import reporting

router = web.RouteTableDef()

REASON_LABELS = {"separated": "人户分离", "away": "长期外出", "unknown": "情况不明"}
CHART_DAYS = 120
LEVEL_LABELS = {"city": "市", "district": "区", "street": "街道", "community": "社区"}


async def resolve_area(
    request: web.Request, db: Any, scope: int | None
) -> tuple[str, int | None, list[reporting.AreaRef]]:
    """The (level, id, breadcrumb) asked for; 400 when malformed, 404 when unknown or outside
    ``scope``."""
    query = Query(request.query)
    level = query.choice("level", reporting.LEVELS, "city") or "city"
    area_id: int | None = None
    if level != "city":
        area_id = query.id("id")
        if area_id is None:
            raise ParamError("id", "参数 id 必填（区、街道或社区的编号）。")
        district = await reporting.area_district(db, level, area_id)
        if district is None or (scope is not None and district != scope):
            raise web.HTTPNotFound()
    crumbs = await reporting.area_path(db, level, area_id)
    if crumbs is None:
        raise web.HTTPNotFound()
    return level, area_id, crumbs


def deadlines(settings: Any, today: dt.date) -> list[tuple[str, dt.date, int]]:
    """(what, date, days left) for each configured deadline; negative when passed."""
    items = [
        ("社区完成采集并上传", settings.community_deadline),
        ("各区完成工作总结", settings.district_deadline),
        ("调查结束", settings.survey_end),
    ]
    return [(label, day, (day - today).days) for label, day in items]


@router.get("/progress", name="console_progress")
async def progress_page(request: web.Request) -> web.Response:
    """One area's progress and its children's, with drill-down links."""
    staff = current_staff(request)
    settings = request.config_dict[SETTINGS]
    async with request.config_dict[SESSIONMAKER]() as db:
        level, area_id, crumbs = await resolve_area(request, db, staff.district_id)
        total, children = await reporting.progress(db, staff.district_id, level, area_id)
        investigators = await reporting.investigator_progress(db, staff.district_id, level, area_id)
        daily = await reporting.daily_counts(db, staff.district_id, level, area_id)
    today = dt.datetime.now(reporting.CHINA_TZ).date()
    seen = [d for series in daily.values() for d in series]
    end = max([min(today, settings.survey_end), *seen])
    # A chart of the survey window, or of the last months when data lies far outside it.
    start = max(min([settings.survey_start, *seen]), end - dt.timedelta(days=CHART_DAYS))
    chart = line_chart(
        [
            Series("已提交", "#1f6feb", daily["submitted"]),
            Series("已确认", "#2da44e", daily["confirmed"]),
        ],
        start,
        end,
        f"{crumbs[-1].name} 每日进度",
    )
    child_level = {"city": "district", "district": "street", "street": "community"}.get(level)
    session = await get_session(request)
    context = {
        "staff": staff,
        "csrf": csrf_token(session),
        "level": level,
        "crumbs": crumbs,
        "total": total,
        "children": children,
        "child_level": child_level,
        "investigators": investigators,
        "reasons": REASON_LABELS,
        "level_labels": LEVEL_LABELS,
        "deadlines": deadlines(settings, today),
        "today": today,
        "chart": Markup(chart),
    }
    return aiohttp_jinja2.render_template("console/progress.html", request, context)
