"""Printing the roster (入户调查花名册) of a community or an investigator: PDF or XLSX, scoped
to the staff member's district; every copy is audited (五.4)."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from bot import clock
from bot.appkeys import FORM, SESSIONMAKER
from bot.console.auth import current_staff
from bot.console.sessions import csrf_token
from bot.console.views.exports import XLSX_TYPE, _send_file, _temp_path
from bot.console.views.persons import describe, reason_labels
from bot.params import ParamError, Query
from bot.printing.roster import render_pdf, write_roster_xlsx
from bot.printing.scope import load_roster
from storage import reporting
from storage.people import PersonRow
from storage.repositories import Actor
from storage.rosters import investigators_in

router = web.RouteTableDef()
FORMATS = ("pdf", "xlsx")


@router.get("/rosters", name="console_rosters")
async def rosters_page(request: web.Request) -> web.Response:
    """Choose a community or an investigator and a format."""
    staff = current_staff(request)
    async with request.config_dict[SESSIONMAKER]() as db:
        areas = await reporting.area_options(db, staff.district_id)
        investigators = await investigators_in(db, staff.district_id)
    session = await get_session(request)
    context = {
        "staff": staff,
        "csrf": csrf_token(session),
        "communities": [a for a in areas if a.level == "community"],
        "investigators": investigators,
    }
    return aiohttp_jinja2.render_template("console/rosters.html", request, context)


@router.get("/rosters/print", name="console_roster_print")
async def roster_print(request: web.Request) -> web.StreamResponse:
    """The roster as PDF (inline) or XLSX (download); 404 outside the staff member's district."""
    staff = current_staff(request)
    q = Query(request.query)
    fmt = q.choice("format", FORMATS, "pdf") or "pdf"
    community_id = q.id("community")
    investigator_id = q.id("investigator")
    if (community_id is None) == (investigator_id is None):
        raise ParamError("community", "请选择一个社区或一名调查员。")
    reasons = reason_labels(request.config_dict[FORM])

    def status(row: PersonRow) -> str:
        return describe(row, reasons)

    today = clock.today()
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        item = await load_roster(
            db,
            staff.district_id,
            community_id=community_id,
            investigator_id=investigator_id,
            day=today,
            actor=Actor.staff(staff),
            channel="console",
            fmt=fmt,
        )
    if item is None:
        raise web.HTTPNotFound()
    name = f"花名册-{item.scope.replace('/', '-')}-{today.isoformat()}.{fmt}"
    if fmt == "xlsx":
        with _temp_path(".xlsx") as path:
            await write_roster_xlsx(path, item, status)
            return await _send_file(request, path, XLSX_TYPE, name)
    body = await asyncio.to_thread(render_pdf, item, status)  # CPU work off the event loop
    return web.Response(
        body=body,
        content_type="application/pdf",
        headers={
            "Content-Disposition": (
                f"inline; filename=\"roster.pdf\"; filename*=UTF-8''{quote(name)}"
            ),
            "Cache-Control": "no-store",
        },
    )
