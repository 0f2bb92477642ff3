"""Reaching everyone on the roster: person lists (an area, or an investigator's communities),
a person with their contact log and the form to record a contact, a household (户不漏人),
and the call list export. Scoped to the staff member's district like every console page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from bot import calllist, clock
from bot.appkeys import FORM, SESSIONMAKER, SETTINGS
from bot.console import present
from bot.console.auth import current_staff
from bot.console.flash import flash, pop_flashes
from bot.console.sessions import csrf_token
from bot.console.views.exports import XLSX_TYPE, _send_file, _temp_path
from bot.console.views.progress import LEVEL_LABELS, resolve_area
from bot.exports.xlsx import write_xlsx
from bot.links import known_bot_username, telegram_link, web_link
from bot.params import Query, path_id
from flows import Form, values
from flows.values import clean_text
from storage import people, reporting
from storage.models import ContactOutcome, Investigator, Person, Staff
from storage.person_status import (
    DONE,
    OUTCOME_LABELS,
    RECORDABLE_OUTCOMES,
    STATUS_LABELS,
    STATUS_ORDER,
    PersonStatus,
    outcome_label,
    status_text,
)
from storage.repositories import Actor, StorageError
from storage.repositories.audit import add_event, events_for_person
from storage.repositories.contacts import MAX_NOTE, add_contact, contacts_of_person
from storage.repositories.invites import invite_for_person, is_locked

router = web.RouteTableDef()
PER_PAGE = 50
OPEN = "open"  # the status filter for everyone not yet handed in
REASON_PREFIX = "not_collected:"


def reason_labels(form: Form) -> dict[str, str]:
    """未采集 reasons (code → label) as the form words them, e.g. separated → 人户分离."""
    if not form.has_field("not_collected_reason"):
        return {}
    return {c.code: c.label for c in form.field("not_collected_reason").choices}


def status_options(form: Form) -> list[tuple[str, str]]:
    """(value, label) of the status menu: open, each status, then 未采集 by reason."""
    options = [(OPEN, "尚未完成")]
    options += [(str(s), STATUS_LABELS[s]) for s in STATUS_ORDER]
    options += [
        (f"{REASON_PREFIX}{code}", f"未采集·{label}") for code, label in reason_labels(form).items()
    ]
    return options


def describe(row: people.PersonRow, reasons: Mapping[str, str]) -> str:
    """The person's status in words (:func:`storage.person_status.status_text`)."""
    reason = reasons.get(row.reason, row.reason) if row.reason else None
    return status_text(row.status, reason_label=reason, outcome=row.last_contact_outcome)


def parse_person_filter(
    query: Mapping[str, Any], base: people.PersonFilter, reasons: Mapping[str, str]
) -> people.PersonFilter:
    """Narrow ``base`` (the area) by ``status`` and ``outcome`` (400 for a value not offered)."""
    q = Query(query)
    allowed = [OPEN, *(str(s) for s in PersonStatus), *(f"{REASON_PREFIX}{c}" for c in reasons)]
    status = q.choice("status", allowed) or ""
    statuses: tuple[PersonStatus, ...] = ()
    reason = None
    if status == OPEN:
        statuses = tuple(s for s in STATUS_ORDER if s not in DONE)
    elif status in PersonStatus.__members__:
        statuses = (PersonStatus(status),)
    elif status.startswith(REASON_PREFIX):
        reason = status.removeprefix(REASON_PREFIX)
    outcome_code = q.choice("outcome", [str(o) for o in ContactOutcome])
    return people.PersonFilter(
        district_id=base.district_id,
        street_id=base.street_id,
        community_id=base.community_id,
        investigator_id=base.investigator_id,
        statuses=statuses,
        reason=reason,
        outcome=ContactOutcome(outcome_code) if outcome_code else None,
    )


async def _where(request: web.Request, db: Any, staff: Staff, query: Mapping[str, Any]) -> Any:
    """(title crumbs, area filter, area query) for the list asked for; 404 outside scope."""
    investigator_id = Query(query).id("investigator")
    if "investigator" in query:
        investigator = await db.get(Investigator, investigator_id) if investigator_id else None
        communities = (
            await people.investigator_community_ids(db, investigator.id, staff.district_id)
            if investigator is not None
            else []
        )
        if not communities:
            raise web.HTTPNotFound()
        assert investigator is not None
        crumbs = [reporting.AreaRef("investigator", investigator.id, f"调查员 {investigator.name}")]
        return crumbs, people.PersonFilter(investigator_id=investigator.id), "investigator"
    level, area_id, crumbs = await resolve_area(request, db, staff.district_id, query)
    base = people.PersonFilter(
        district_id=area_id if level == "district" else None,
        street_id=area_id if level == "street" else None,
        community_id=area_id if level == "community" else None,
    )
    return crumbs, base, level


async def _counts(
    db: Any, scope: int | None, level: str, area_id: int | None
) -> people.ReachLine | None:
    if level == "investigator":
        lines = await people.investigator_reach(db, scope)
        return next((line for line in lines if line.id == area_id), None)
    return (await people.reach(db, scope, level, area_id))[0]


def _area_params(query: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(query[k]) for k in ("level", "id", "investigator") if query.get(k)}


@router.get("/persons", name="console_persons")
async def persons_page(request: web.Request) -> web.Response:
    """Every roster person of an area (or of an investigator's communities) with their status,
    household and newest contact; filtered, paged, numbers masked."""
    staff = current_staff(request)
    form: Form = request.config_dict[FORM]
    reasons = reason_labels(form)
    query = request.query
    page = Query(query).page()
    async with request.config_dict[SESSIONMAKER]() as db:
        crumbs, base, level = await _where(request, db, staff, query)
        f = parse_person_filter(query, base, reasons)
        result = await people.person_page(db, staff.district_id, f, page=page, per_page=PER_PAGE)
        counts = await _counts(db, staff.district_id, level, crumbs[-1].id)
    area = _area_params(query)
    filters = {k: str(query[k]) for k in ("status", "outcome") if query.get(k)}
    session = await get_session(request)
    context = {
        "staff": staff,
        "csrf": csrf_token(session),
        "flashes": pop_flashes(session),
        "crumbs": crumbs,
        "level": level,
        "level_labels": LEVEL_LABELS,
        "page": result,
        "counts": counts,
        "rows": [(row, describe(row, reasons)) for row in result.rows],
        "status_value": str(query.get("status", "")),
        "outcome_value": str(query.get("outcome", "")),
        "status_options": status_options(form),
        "status_labels": STATUS_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "area": area,
        "area_qs": urlencode(area),
        "page_qs": lambda n: urlencode({**area, **filters, "page": n}),
    }
    return aiohttp_jinja2.render_template("console/persons.html", request, context)


def _person_id(request: web.Request) -> int:
    return path_id(request, "person_id")


@router.get(r"/persons/{person_id:\d+}", name="console_person")
async def person_page(request: web.Request) -> web.Response:
    """A person: status, household, invite links, the contact log and the form to add to it."""
    staff = current_staff(request)
    settings = request.config_dict[SETTINGS]
    reasons = reason_labels(request.config_dict[FORM])
    person_id = _person_id(request)
    async with request.config_dict[SESSIONMAKER]() as db:
        row = await people.person_row(db, staff.district_id, person_id)
        if row is None:
            raise web.HTTPNotFound()
        person = await db.get(Person, person_id)
        assert person is not None
        log = await contacts_of_person(db, person_id)
        events = await events_for_person(db, person_id)
        invite = await invite_for_person(db, person_id)
        code = invite.code if invite is not None else None
        house = await people.household_members(db, row.household_id, scope=staff.district_id)
    username = await known_bot_username(settings) if code else None
    session = await get_session(request)
    context = {
        "staff": staff,
        "csrf": csrf_token(session),
        "flashes": pop_flashes(session),
        "p": row,
        "person": person,
        "status_text": describe(row, reasons),
        "log": log,
        "events": [(e, present.event_summary(e)) for e in events],
        "outcome_labels": OUTCOME_LABELS,
        "outcomes": [(str(o), OUTCOME_LABELS[o]) for o in RECORDABLE_OUTCOMES],
        "max_note": MAX_NOTE,
        "today": clock.today().isoformat(),
        "links": (telegram_link(username, code), web_link(code, settings)) if code else None,
        "insured": people.insured_contacts([m.person for m in house.members]) if house else [],
        "invite": invite,
        "invite_locked": invite is not None and is_locked(invite),
    }
    return aiohttp_jinja2.render_template("console/person.html", request, context)


@router.post(r"/persons/{person_id:\d+}/contacts", name="console_person_contact")
async def record_contact(request: web.Request) -> web.Response:
    """Record a contact (date, outcome, note) made by the signed-in staff member."""
    staff = current_staff(request)
    person_id = _person_id(request)
    form = await request.post()
    session = await get_session(request)
    back = request.app.router["console_person"].url_for(person_id=str(person_id))
    typed = clean_text(str(form.get("contacted_on", ""))).strip()
    try:
        if not typed:
            raise values.Invalid("请填写联系日期，格式如 2014-11-20。")
        on = values.parse_date(typed)
    except values.Invalid as exc:
        flash(session, f"联系日期：{exc.message}", "error")
        raise web.HTTPSeeOther(back) from None
    try:
        async with request.config_dict[SESSIONMAKER]() as db, db.begin():
            if await people.person_row(db, staff.district_id, person_id) is None:
                raise web.HTTPNotFound()
            person = await db.get(Person, person_id)
            assert person is not None
            contact = await add_contact(
                db,
                person,
                outcome=str(form.get("outcome", "")),
                on=on,
                today=clock.today(),
                actor=Actor.staff(staff),
                channel="console",
                note=clean_text(str(form.get("note", ""))),
                staff=staff,
            )
    except StorageError as exc:
        flash(session, str(exc), "error")
        raise web.HTTPSeeOther(back) from None
    flash(session, f"已记录联系：{contact.contacted_on} {outcome_label(contact.outcome)}。")
    raise web.HTTPSeeOther(back)


@router.get(r"/households/{household_id:\d+}", name="console_household")
async def household_page(request: web.Request) -> web.Response:
    """A household: everyone in it with their status, who is still missing (户不漏人), and the
    roster's insured family members to ask about those living elsewhere."""
    staff = current_staff(request)
    reasons = reason_labels(request.config_dict[FORM])
    household_id = path_id(request, "household_id")
    async with request.config_dict[SESSIONMAKER]() as db:
        house = await people.household_members(db, household_id, scope=staff.district_id)
        if house is None:
            raise web.HTTPNotFound()
        rows = (
            await people.person_page(
                db, staff.district_id, people.PersonFilter(household_id=household_id), per_page=500
            )
        ).rows
        crumbs = await reporting.area_path(db, "community", house.community.id)
    session = await get_session(request)
    missing = [row for row in rows if not row.done]
    context = {
        "staff": staff,
        "csrf": csrf_token(session),
        "house": house,
        "crumbs": crumbs or [],
        "rows": [(row, describe(row, reasons)) for row in rows],
        "missing": [(row, describe(row, reasons)) for row in missing],
        "insured": people.insured_contacts([m.person for m in house.members]),
        "outcome_labels": OUTCOME_LABELS,
    }
    return aiohttp_jinja2.render_template("console/household.html", request, context)


@router.post("/calllist", name="console_call_list")
async def call_list_export(request: web.Request) -> web.StreamResponse:
    """The call list of the area (or investigator) shown, as XLSX: who to call next with the
    invite link, phone and last outcome. Handing it out sends the invites (已发邀请)."""
    staff = current_staff(request)
    settings = request.config_dict[SETTINGS]
    reasons = reason_labels(request.config_dict[FORM])
    form = await request.post()
    actor = Actor.staff(staff)
    username = await known_bot_username(settings)
    with _temp_path(".xlsx") as path:
        async with request.config_dict[SESSIONMAKER]() as db, db.begin():
            crumbs, base, _level = await _where(request, db, staff, form)
            rows, made, invited = await calllist.prepare(
                db,
                staff.district_id,
                base,
                actor=actor,
                today=clock.today(),
                channel="console",
                staff=staff,
            )
            add_event(
                db,
                actor,
                "exported",
                channel="console",
                details={
                    "format": "call_list.xlsx",
                    "area": _area_params(form),
                    "people": len(rows),
                    "invites_made": made,
                    "newly_invited": invited,
                },
            )

        async def cells() -> Any:
            for row in rows:
                yield calllist.cells(
                    row,
                    lambda code: telegram_link(username, code),
                    lambda code: web_link(code, settings),
                    lambda code: reasons.get(code, code),
                )

        await write_xlsx(
            path,
            "电话联系名单",
            list(calllist.HEADERS),
            cells(),
            widths={calllist.PHONE_COLUMN: 14, calllist.CODE_COLUMN: 24},
        )
        name = f"电话联系名单-{crumbs[-1].name}-{clock.now():%Y%m%d-%H%M}.xlsx"
        return await _send_file(request, path, XLSX_TYPE, name)
