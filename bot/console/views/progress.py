"""Progress 市 → 区 → 街道 → 社区: each person's status (未联系 first), rates, deadlines,
investigators, daily chart."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session
from markupsafe import Markup

from bot import clock
from bot.appkeys import SESSIONMAKER, SETTINGS
from bot.console.auth import current_staff
from bot.console.chart import Series, line_chart
from bot.console.sessions import csrf_token
from bot.deadlines import Deadline, deadline_for, deadlines
from bot.params import Query
from bot.telegram.i18n import N_
from storage import people, reporting
from storage.person_status import STATUS_LABELS, STATUS_ORDER

router = web.RouteTableDef()

REASON_LABELS = {"separated": "人户分离", "away": "长期外出", "unknown": "情况不明"}
CHART_DAYS = 120
LEVEL_LABELS = {
    "city": N_("市"),
    "district": N_("区"),
    "street": N_("街道"),
    "community": N_("社区"),
}


async def resolve_area(
    request: web.Request, db: Any, scope: int | None, params: Mapping[str, Any] | None = None
) -> tuple[str, int | None, list[reporting.AreaRef]]:
    """The (level, id, breadcrumb) asked for in the query (or ``params``, a posted form);
    400 when malformed, 404 when unknown or outside ``scope``."""
    query = Query(request.query if params is None else params)
    level, area_id = query.area(reporting.LEVELS)
    if area_id is not None:
        district = await reporting.area_district(db, level, area_id)
        if district is None or (scope is not None and district != scope):
            raise web.HTTPNotFound()
    crumbs = await reporting.area_path(db, level, area_id)
    if crumbs is None:
        raise web.HTTPNotFound()
    return level, area_id, crumbs


def investigator_lines(
    filled: list[reporting.AreaProgress], reached: list[people.ReachLine]
) -> list[tuple[reporting.AreaProgress, people.ReachLine]]:
    """One line per investigator: the records they filled and the roster of their communities
    (an investigator with no record yet is listed too), most records handed in first."""
    by_id = {line.id: line for line in filled}
    roster = {line.id: line for line in reached}
    ids = list(dict.fromkeys([*by_id, *roster]))
    lines = [
        (
            by_id.get(i) or reporting.AreaProgress("investigator", i, roster[i].name),
            roster.get(i) or people.ReachLine("investigator", i, by_id[i].name),
        )
        for i in ids
    ]
    return sorted(lines, key=lambda pair: (-pair[0].handed_in, pair[0].name))


@router.get("/progress", name="console_progress")
async def progress_page(request: web.Request) -> web.Response:
    """One area's progress and its children's, with drill-down links."""
    staff = current_staff(request)
    settings = request.config_dict[SETTINGS]
    async with request.config_dict[SESSIONMAKER]() as db:
        level, area_id, crumbs = await resolve_area(request, db, staff.district_id)
        total, children = await reporting.progress(db, staff.district_id, level, area_id)
        reach, reach_children = await people.reach(db, staff.district_id, level, area_id)
        investigators = investigator_lines(
            await reporting.investigator_progress(db, staff.district_id, level, area_id),
            await people.investigator_reach(db, staff.district_id, level, area_id),
        )
        daily = await reporting.daily_counts(
            db, staff.district_id, level, area_id, zone=clock.zone()
        )
    today = clock.today()
    reach_by_id = {line.id: line for line in reach_children}
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
    child_level = reporting.CHILD_LEVEL.get(level)
    child_deadline: Deadline | None = (
        deadline_for(child_level, settings, today) if child_level else None
    )
    area_query = "" if level == "city" else f"level={level}&id={area_id}"
    session = await get_session(request)
    context = {
        "staff": staff,
        "csrf": csrf_token(session),
        "level": level,
        "crumbs": crumbs,
        "total": total,
        "reach": reach,
        "children": [
            (c, reach_by_id.get(c.id) or people.ReachLine(c.level, c.id, c.name)) for c in children
        ],
        "child_level": child_level,
        "child_deadline": child_deadline,
        "investigators": investigators,
        "investigator_deadline": deadline_for("investigator", settings, today),
        "reasons": REASON_LABELS,
        "level_labels": LEVEL_LABELS,
        "status_labels": STATUS_LABELS,
        "status_order": STATUS_ORDER,
        "area_query": area_query,
        "deadline": deadline_for(level, settings, today),
        "deadlines": deadlines(settings, today),
        "today": today,
        "chart": Markup(chart),
    }
    return aiohttp_jinja2.render_template("console/progress.html", request, context)
