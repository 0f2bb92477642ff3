"""Investigators' badges (工作牌): issue, print (card PDF with the QR code), revoke. Scoped to
the staff member's district; every action audited."""

from __future__ import annotations

import asyncio
import datetime as dt

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from bot import clock
from bot.appkeys import SESSIONMAKER, SETTINGS
from bot.console.auth import current_staff
from bot.console.flash import flash, pop_flashes
from bot.console.sessions import csrf_token
from bot.params import id_value, path_id
from bot.printing.badge import (
    MAX_PHOTO_BYTES,
    BadgeCard,
    PhotoError,
    badge_photo,
    render_badge,
    verify_url,
)
from flows import values
from flows.values import clean_text
from storage.badges import (
    STATE_LABELS,
    BadgeError,
    badge_in_scope,
    badges_in,
    issue_badge,
    revoke_badge,
    state_of,
)
from storage.models import Badge, Community, Investigator
from storage.repositories import Actor
from storage.repositories.audit import add_event
from storage.rosters import investigators_in

router = web.RouteTableDef()
DEFAULT_DAYS = 90


def card_of(badge: Badge, public_url: str) -> BadgeCard:
    """What the printed card shows."""
    return BadgeCard(
        badge.investigator.name,
        badge.community.name,
        badge.number,
        badge.valid_from,
        badge.valid_until,
        badge.office_phone,
        verify_url(public_url, badge.number),
        badge.photo,
    )


@router.get("/badges", name="console_badges")
async def badges_page(request: web.Request) -> web.Response:
    """Badges of the district with their state today, and the form to issue one."""
    staff = current_staff(request)
    today = clock.today()
    async with request.config_dict[SESSIONMAKER]() as db:
        badges = await badges_in(db, staff.district_id)
        investigators = await investigators_in(db, staff.district_id)
        pairs = []
        for inv in investigators:
            await db.refresh(inv, ["communities"])
            for c in inv.communities:
                if staff.district_id is None or c.district_id == staff.district_id:
                    pairs.append((f"{inv.id}-{c.id}", f"{inv.name} · {c.name}"))
    session = await get_session(request)
    context = {
        "staff": staff,
        "csrf": csrf_token(session),
        "flashes": pop_flashes(session),
        "rows": [(b, STATE_LABELS[state_of(b, today)], str(state_of(b, today))) for b in badges],
        "pairs": pairs,
        "today": today.isoformat(),
        "until": (today + dt.timedelta(days=DEFAULT_DAYS)).isoformat(),
        "public_url": request.config_dict[SETTINGS].public_url.rstrip("/"),
    }
    return aiohttp_jinja2.render_template("console/badges.html", request, context)


def _day(text: object, what: str) -> dt.date:
    typed = clean_text(str(text or "")).strip()
    if not typed:
        raise BadgeError(f"请填写{what}，格式如 2014-11-20。")
    try:
        return values.parse_date(typed)
    except values.Invalid as exc:
        raise BadgeError(f"{what}：{exc.message}") from None


@router.post("/badges", name="console_badge_issue")
async def issue(request: web.Request) -> web.Response:
    """Issue a badge to an investigator for one of their communities."""
    staff = current_staff(request)
    form = await request.post()
    session = await get_session(request)
    back = request.app.router["console_badges"].url_for()
    inv_id, _, community_id = str(form.get("who", "")).partition("-")
    upload = form.get("photo")
    try:
        photo = None
        if isinstance(upload, web.FileField):
            data = await asyncio.to_thread(upload.file.read, MAX_PHOTO_BYTES + 1)
            if data:
                photo = await asyncio.to_thread(badge_photo, data)
        valid_from = _day(form.get("valid_from"), "开始日期")
        valid_until = _day(form.get("valid_until"), "结束日期")
        async with request.config_dict[SESSIONMAKER]() as db, db.begin():
            inv = await db.get(Investigator, id_value(inv_id, "who")) if inv_id else None
            c = await db.get(Community, id_value(community_id, "who")) if community_id else None
            if inv is None or c is None:
                raise BadgeError("请选择调查员和社区。")
            if staff.district_id is not None and c.district_id != staff.district_id:
                raise web.HTTPNotFound()
            await db.refresh(inv, ["communities"])
            badge = await issue_badge(
                db,
                inv,
                c,
                office_phone=clean_text(str(form.get("office_phone", ""))),
                valid_from=valid_from,
                valid_until=valid_until,
                actor=Actor.staff(staff),
                channel="console",
                photo=photo,
            )
            number = badge.number
    except (BadgeError, PhotoError) as exc:
        flash(session, str(exc), "error")
        raise web.HTTPSeeOther(back) from None
    flash(session, f"已发放工作牌 {number}。")
    raise web.HTTPSeeOther(back)


@router.post(r"/badges/{badge_id:\d+}/revoke", name="console_badge_revoke")
async def revoke(request: web.Request) -> web.Response:
    """Revoke a badge: its page says 已注销 from now on."""
    staff = current_staff(request)
    badge_id = path_id(request, "badge_id")
    form = await request.post()
    session = await get_session(request)
    try:
        async with request.config_dict[SESSIONMAKER]() as db, db.begin():
            badge = await badge_in_scope(db, staff.district_id, badge_id)
            if badge is None:
                raise web.HTTPNotFound()
            await revoke_badge(
                db,
                badge,
                reason=clean_text(str(form.get("reason", "")))[:500],
                actor=Actor.staff(staff),
                channel="console",
            )
            number = badge.number
    except BadgeError as exc:
        flash(session, str(exc), "error")
    else:
        flash(session, f"工作牌 {number} 已注销。")
    raise web.HTTPSeeOther(request.app.router["console_badges"].url_for())


@router.get(r"/badges/{badge_id:\d+}.pdf", name="console_badge_pdf")
async def badge_pdf(request: web.Request) -> web.Response:
    """The badge as a card-size PDF to print; audited."""
    staff = current_staff(request)
    badge_id = path_id(request, "badge_id")
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        badge = await badge_in_scope(db, staff.district_id, badge_id)
        if badge is None:
            raise web.HTTPNotFound()
        add_event(
            db,
            Actor.staff(staff),
            "badge_printed",
            channel="console",
            details={"badge_id": badge.id},
        )
        card = card_of(badge, request.config_dict[SETTINGS].public_url)
    return web.Response(
        body=await asyncio.to_thread(render_badge, card),
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="badge-{badge.id}.pdf"',
            "Cache-Control": "no-store",
        },
    )
