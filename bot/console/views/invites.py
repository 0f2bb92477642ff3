"""Locked invites: the list of links locked by wrong identity proofs, and their unlocking by
staff after checking the person's identity another way (by phone, in person), audited with
the reason. Scoped to the staff member's district like every page."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from bot.appkeys import SESSIONMAKER
from bot.console.auth import current_staff
from bot.console.flash import flash, pop_flashes
from bot.console.sessions import csrf_token
from bot.telegram.i18n import gettext as _
from storage.models import Person
from storage.repositories import Actor
from storage.repositories.invites import invite_for_person, is_locked, locked_invites, unlock_invite

router = web.RouteTableDef()
MAX_REASON = 500


@router.get("/invites/locked", name="console_locked_invites")
async def locked_page(request: web.Request) -> web.Response:
    """Every locked link in scope, with an unlock form each."""
    staff = current_staff(request)
    async with request.config_dict[SESSIONMAKER]() as db:
        invites = await locked_invites(db, district_id=staff.district_id)
    session = await get_session(request)
    context = {
        "staff": staff,
        "csrf": csrf_token(session),
        "flashes": pop_flashes(session),
        "invites": invites,
    }
    return aiohttp_jinja2.render_template("console/locked_invites.html", request, context)


def _back(request: web.Request, value: object) -> str:
    fallback = str(request.app.router["console_locked_invites"].url_for())
    # Only console pages (never another site: an open redirect).
    if isinstance(value, str) and value.startswith("/console/") and not value.startswith("//"):
        return value
    return fallback


@router.post(r"/persons/{person_id:\d+}/unlock", name="console_unlock")
async def unlock(request: web.Request) -> web.Response:
    """Unlock the person's link; the reason (how the identity was checked) is required."""
    staff = current_staff(request)
    form = await request.post()
    back = _back(request, form.get("next"))
    session = await get_session(request)
    reason = str(form.get("reason", "")).strip()
    if not reason:
        flash(session, _("解锁前请写明如何核实了本人身份（例如：电话回访核实）。"), "error")
        raise web.HTTPSeeOther(back)
    if len(reason) > MAX_REASON:
        flash(session, _("解锁原因最多 {n} 个字。").format(n=MAX_REASON), "error")
        raise web.HTTPSeeOther(back)
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        person = await db.get(Person, int(request.match_info["person_id"]))
        if person is None or (
            staff.district_id is not None and person.district_id != staff.district_id
        ):
            # Out of scope looks exactly like "does not exist".
            raise web.HTTPNotFound()
        invite = await invite_for_person(db, person.id)
        if invite is None or not is_locked(invite):
            message = _("{name} 的登记链接没有锁定，无需解锁。").format(name=person.name)
        else:
            await unlock_invite(
                db, invite, actor=Actor.staff(staff), reason=reason, channel="console"
            )
            message = _("已解锁 {name} 的登记链接，可以再尝试 5 次。").format(name=person.name)
    flash(session, message)
    raise web.HTTPSeeOther(back)
