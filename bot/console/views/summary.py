"""The work summary (工作总结) of an area for a period: shown, and as PDF / XLSX. Scoped to
the staff member's district like the progress page it shares its figures with; every
download audited."""

from __future__ import annotations

import asyncio
import datetime as dt
from urllib.parse import quote, urlencode

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session
from markupsafe import Markup

from bot import clock
from bot.appkeys import FORM, SESSIONMAKER, SETTINGS
from bot.console.auth import current_staff
from bot.console.chart import Series, line_chart
from bot.console.sessions import csrf_token
from bot.console.views.exports import XLSX_TYPE, _send_file, _temp_path
from bot.console.views.persons import reason_labels
from bot.console.views.progress import CHART_DAYS, resolve_area
from bot.params import ParamError, Query
from bot.printing.summary import render_summary_pdf, sections, write_summary_xlsx
from storage import reporting
from storage.repositories import Actor
from storage.repositories.audit import add_event
from storage.summary import work_summary

router = web.RouteTableDef()
FORMATS = ("html", "pdf", "xlsx")


@router.get("/summary", name="console_summary")
async def summary(request: web.Request) -> web.StreamResponse:
    """``level``/``id`` as on the progress page, ``from``/``to`` (default: the survey's start
    to today), ``format`` html, pdf or xlsx."""
    staff = current_staff(request)
    settings = request.config_dict[SETTINGS]
    form = request.config_dict[FORM]
    reasons = reason_labels(form)
    q = Query(request.query)
    picked = q.raw("area")
    if picked:  # the area menu: "district:3" → level=district&id=3 (checked below like any)
        level, _, ident = picked.partition(":")
        query = {k: v for k, v in request.query.items() if k != "area"}
        query.pop("level", None)
        query.pop("id", None)
        if level != "city":
            query.update(level=level, id=ident)
        raise web.HTTPFound(request.rel_url.with_query(query))
    fmt = q.choice("format", FORMATS, "html") or "html"
    today = clock.today()
    date_from = q.day("from") or settings.survey_start
    date_to = q.day("to") or today
    if date_to < date_from:
        raise ParamError("to", "参数 to 不能早于 from。")
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        level, area_id, crumbs = await resolve_area(request, db, staff.district_id)
        name = "/".join(c.name for c in crumbs[1:]) or crumbs[0].name
        areas = await reporting.area_options(db, staff.district_id)
        s = await work_summary(
            db,
            staff.district_id,
            level,
            area_id,
            name,
            date_from=date_from,
            date_to=date_to,
            zone=clock.zone(),
        )
        if fmt != "html":
            add_event(
                db,
                Actor.staff(staff),
                "summary_printed",
                channel="console",
                details={
                    "level": level,
                    "id": area_id,
                    "from": date_from.isoformat(),
                    "to": date_to.isoformat(),
                    "format": fmt,
                },
            )
    file_name = f"工作总结-{name.replace('/', '-')}-{date_from}-{date_to}.{fmt}"
    if fmt == "pdf":
        label = staff.display_name or staff.username
        body = await asyncio.to_thread(
            render_summary_pdf, s, form, reasons, printed_by=label, day=today
        )
        return web.Response(
            body=body,
            content_type="application/pdf",
            headers={
                "Content-Disposition": f"inline; filename*=UTF-8''{quote(file_name)}",
                "Cache-Control": "no-store",
            },
        )
    if fmt == "xlsx":
        with _temp_path(".xlsx") as path:
            await write_summary_xlsx(path, s, form, reasons)
            return await _send_file(request, path, XLSX_TYPE, file_name)
    params = {"from": date_from.isoformat(), "to": date_to.isoformat()}
    if level != "city":
        params.update(level=level, id=str(area_id))
    # The progress page's chart, over the period (at most its last CHART_DAYS days).
    chart = line_chart(
        [
            Series("已提交", "#1f6feb", s.daily.get("submitted", {})),
            Series("已确认", "#2da44e", s.daily.get("confirmed", {})),
        ],
        max(date_from, date_to - dt.timedelta(days=CHART_DAYS)),
        date_to,
        f"{name} 每日进度",
    )
    session = await get_session(request)
    context = {
        "staff": staff,
        "csrf": csrf_token(session),
        "crumbs": crumbs,
        "name": name,
        "level": level,
        "area_id": area_id,
        "summary": s,
        "sections": sections(s, form, reasons),
        "date_from": date_from.isoformat(),
        "date_to": date_to.isoformat(),
        "qs": urlencode(params),
        "areas": areas,
        "chart": Markup(chart),
        "current_area": f"{level}:{area_id}" if level != "city" else "city",
    }
    return aiohttp_jinja2.render_template("console/summary.html", request, context)
