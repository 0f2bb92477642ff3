"""The review queue: filters, paging, masked numbers, and bulk confirmation."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from bot.appkeys import SESSIONMAKER
from bot.console.auth import current_staff
from bot.console.filters import (
    FILLED_BY_LABELS,
    FLAG_LABELS,
    STATUS_LABELS,
    filter_query,
    parse_filter,
)
from bot.console.flash import flash, pop_flashes
from bot.console.sessions import csrf_token
from bot.telegram.i18n import gettext as _
from storage import reporting
from storage.repositories.accounts import list_investigators
from storage.repositories.records import confirm_unflagged

router = web.RouteTableDef()
PER_PAGE = 50
BULK_LIMIT = 500


@router.get("/", name="console_home")
async def home(request: web.Request) -> web.Response:
    """The console starts at the queue."""
    raise web.HTTPSeeOther(request.app.router["console_queue"].url_for())


@router.get("/queue", name="console_queue")
async def queue_page(request: web.Request) -> web.Response:
    """Submitted records (or other statuses), filtered and paged."""
    staff = current_staff(request)
    query = request.query
    f = parse_filter(query)
    try:
        page = max(1, int(query.get("page", "1")))
    except ValueError:
        page = 1
    async with request.config_dict[SESSIONMAKER]() as db:
        result = await reporting.queue(db, staff.district_id, f, page=page, per_page=PER_PAGE)
        areas = await reporting.area_options(db, staff.district_id)
        investigators = await list_investigators(db, district_id=staff.district_id)
    session = await get_session(request)
    context: dict[str, Any] = {
        "staff": staff,
        "csrf": csrf_token(session),
        "flashes": pop_flashes(session),
        "page": result,
        "filter": f,
        "query": query,
        "status_value": query.get("status", "submitted"),
        "areas": areas,
        "investigators": investigators,
        "status_labels": STATUS_LABELS,
        "filled_by_labels": FILLED_BY_LABELS,
        "flag_labels": FLAG_LABELS,
        "filter_qs": filter_query(query),
        "page_qs": lambda n: filter_query(query, page=n),
    }
    return aiohttp_jinja2.render_template("console/queue.html", request, context)


@router.post("/queue/confirm", name="console_bulk_confirm")
async def bulk_confirm(request: web.Request) -> web.Response:
    """Confirm the ticked records, or every unflagged one the filters match.

    Only submitted records in the staff member's scope that carry no flag are confirmed; the
    store checks each one again.
    """
    staff = current_staff(request)
    form = await request.post()
    f = parse_filter(form)
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        if form.get("scope") == "filtered":
            ids = await reporting.unflagged_submitted_ids(
                db, staff.district_id, f, limit=BULK_LIMIT
            )
        else:
            ids = []
            for value in form.getall("ids", []):
                try:
                    ids.append(int(str(value)))
                except ValueError:
                    continue
        done = await confirm_unflagged(db, ids, staff=staff) if ids else []
    session = await get_session(request)
    skipped = len(ids) - len(done)
    message = _("已确认 {n} 条记录。").format(n=len(done))
    if skipped:
        message += _("{n} 条因带有标记或状态不符未确认，请逐条审核。").format(n=skipped)
    if not ids:
        message = _("没有可以批量确认的记录（只确认无标记、待审核的记录）。")
    flash(session, message)
    location = request.app.router["console_queue"].url_for()
    raise web.HTTPSeeOther(f"{location}?{filter_query(form)}")
