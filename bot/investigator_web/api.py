"""The investigators' JSON API under ``/i/api/``: screens to read, and one ``act`` to change.

Every change is ``POST /i/api/act`` with an ``aid`` the page made up for it. The action and
its aid are written in one transaction (:mod:`storage.repositories.investigator_web`), so a
phone that sends again after a lost answer changes nothing: a replayed aid is answered with
the current screen. A step of the form names the record ``version`` it was typed at, or, when
it was queued offline behind another step, that step's aid (``after``): it then applies only
on top of exactly that step, so queued answers land in order and never on a question they were
not meant for; anything else is answered 409 with the current screen (another tab, or the
staircase, won).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock, returns
from bot.appkeys import FORM, SESSIONMAKER, SETTINGS
from bot.display import json_response
from bot.identity import check_id_answer, warning_text
from bot.investigator_web import screens
from bot.investigator_web.keys import INVESTIGATOR_ID
from bot.params import Query, path_id
from bot.reference import reference
from bot.telegram.handlers.context import Filler
from bot.telegram.handlers.context import open_record as start_or_resume
from bot.telegram.i18n import N_
from bot.telegram.i18n import gettext as _
from bot.telegram.labels import outcome_labels
from bot.webchat import formtext
from bot.webchat.actions import CONVERSATION_ACTIONS, apply_action
from bot.webchat.errors import ApiError, bad_request
from bot.webchat.language import locale_of
from bot.webchat.payload import check_same_origin, int_value, read_json, text_value
from bot.webchat.store import conversation_of
from flows import Form, values
from storage import people
from storage.models import Channel, Community, ContactOutcome, Investigator, Record
from storage.repositories import ConflictError, ContactError, ReadOnlyError, TransitionError
from storage.repositories import investigator_web as iw
from storage.repositories import records as records_repo
from storage.repositories.actors import Actor
from storage.repositories.contacts import add_contact
from storage.repositories.persons import add_person_off_roster

CHANNEL = Channel.web
STEP_OPS = {**CONVERSATION_ACTIONS, "submit": frozenset()}
OPS: dict[str, frozenset[str]] = {
    "contact": frozenset({"person", "outcome", "note"}),
    "collect": frozenset({"person"}),
    "add_person": frozenset({"household", "name", "id_number"}),
    **{name: keys | {"record", "version", "after"} for name, keys in STEP_OPS.items()},
}
BODY_KEYS = frozenset({"aid", "op"}).union(*OPS.values())
STALE = N_("这份登记刚刚在别处更新过（另一个页面或另一台设备），这一步没有保存。请看当前的内容。")
NOT_YOURS = N_("不在您负责的社区，或不是您采集的登记。")


def chat_id(investigator: Investigator) -> str:
    """The web channel's chat id of an investigator's browser (their records' notices)."""
    return f"investigator-{investigator.id}"


async def _investigator(request: web.Request, session: AsyncSession) -> Investigator:
    found = await iw.get_investigator(session, request[INVESTIGATOR_ID])
    if found is None or not found.active:
        raise ApiError(401, _("此调查员账号已停用。"), signed_out=True)
    return found


def _form(request: web.Request) -> Form:
    form: Form = request.config_dict[FORM]
    return form


def _not_found() -> ApiError:
    return ApiError(404, _(NOT_YOURS))


# ------------------------------------------------------------------------------------ reading


async def me(request: web.Request) -> web.StreamResponse:
    """Who is signed in, and for which communities."""
    async with request.config_dict[SESSIONMAKER]() as session:
        investigator = await _investigator(request, session)
        return json_response(
            {
                "id": investigator.id,
                "name": investigator.name,
                "communities": [c.name for c in investigator.communities],
                "today": clock.today().isoformat(),
            }
        )


async def households(request: web.Request) -> web.StreamResponse:
    """A page of the investigator's households; ``q`` searches 户号 or a surname."""
    query = Query(request.query)
    page = query.page()
    text = values.clean_text(query.text("q", max_length=32) or "").strip()
    async with request.config_dict[SESSIONMAKER]() as session:
        investigator = await _investigator(request, session)
        screen = await screens.households(
            session, _form(request), investigator, page=page, query=text
        )
    return json_response({"screen": screen})


async def household(request: web.Request) -> web.StreamResponse:
    """One household of the investigator's communities."""
    household_id = path_id(request, "id")
    async with request.config_dict[SESSIONMAKER]() as session:
        investigator = await _investigator(request, session)
        screen = await screens.household(session, _form(request), investigator, household_id)
    if screen is None:
        raise _not_found()
    return json_response({"screen": screen})


async def person(request: web.Request) -> web.StreamResponse:
    """One person of the investigator's communities."""
    person_id = path_id(request, "id")
    async with request.config_dict[SESSIONMAKER]() as session:
        investigator = await _investigator(request, session)
        screen = await screens.person(session, _form(request), investigator, person_id)
    if screen is None:
        raise _not_found()
    return json_response({"screen": screen})


async def record(request: web.Request) -> web.StreamResponse:
    """A record the investigator collects, where it stands."""
    record_id = path_id(request, "id")
    async with request.config_dict[SESSIONMAKER]() as session:
        investigator = await _investigator(request, session)
        rec = await session.get(Record, record_id)
        if rec is None or not screens.owns(investigator, rec):
            raise _not_found()
        screen = await screens.record(
            session, _form(request), investigator, rec, locale_of(request)
        )
    return json_response({"screen": screen})


# ------------------------------------------------------------------------------------ acting


async def _current(
    request: web.Request,
    session: AsyncSession,
    investigator: Investigator,
    *,
    record_id: int | None,
    person_id: int | None,
) -> dict[str, Any]:
    """The screen an action's target shows now (a replay's answer)."""
    form = _form(request)
    if record_id is not None:
        rec = await session.get(Record, record_id)
        if rec is not None and screens.owns(investigator, rec):
            return await screens.record(session, form, investigator, rec, locale_of(request))
    if person_id is not None:
        found = await screens.person(session, form, investigator, person_id)
        if found is not None:
            return found
    return await screens.households(session, form, investigator, page=1, query="")


async def act(request: web.Request) -> web.StreamResponse:
    """Apply one action of the page, once (see the module docstring)."""
    check_same_origin(request, request.config_dict[SETTINGS].public_url)
    data = await read_json(request, BODY_KEYS)
    aid = data.get("aid")
    if not iw.is_action_id(aid):
        raise bad_request(_("请求格式不对：缺少操作编号，请刷新页面后重试。"))
    assert isinstance(aid, str)
    op = data.get("op")
    if not isinstance(op, str) or op not in OPS:
        raise bad_request(_("无法识别的操作。"))
    unknown = sorted(set(data) - OPS[op] - {"aid", "op"})
    if unknown:
        raise bad_request(
            _("请求中有无法识别的字段：{names}。").format(names="、".join(unknown)[:100])
        )
    sessions = request.config_dict[SESSIONMAKER]
    try:
        async with sessions() as session, session.begin():
            investigator = await _investigator(request, session)
            prior = await iw.find_action(session, investigator.id, aid)
            if prior is not None:
                screen = await _current(
                    request,
                    session,
                    investigator,
                    record_id=prior.record_id,
                    person_id=prior.person_id,
                )
                return json_response({"aid": aid, "replayed": True, "screen": screen})
            body = await _apply(request, session, investigator, aid, op, data)
        return json_response({"aid": aid, **body})
    except IntegrityError:
        # The same aid, delivered twice at once: the other delivery applied it.
        async with sessions() as session:
            investigator = await _investigator(request, session)
            prior = await iw.find_action(session, investigator.id, aid)
            if prior is None:
                raise
            screen = await _current(
                request, session, investigator, record_id=prior.record_id, person_id=prior.person_id
            )
        return json_response({"aid": aid, "replayed": True, "screen": screen})
    except ConflictError:
        # Another tab saved the record between our read and our write.
        record_id = data.get("record") if isinstance(data.get("record"), int) else None
        async with sessions() as session:
            investigator = await _investigator(request, session)
            screen = await _current(
                request, session, investigator, record_id=record_id, person_id=None
            )
        return json_response(
            {"aid": aid, "error": _(STALE), "stale": True, "screen": screen}, status=409
        )


def _id_field(data: dict[str, Any], key: str) -> int:
    value = int_value(data, key)
    if not 1 <= value <= 2**63 - 1:
        raise bad_request(_("请求格式不对：“{key}”不是有效的编号。").format(key=key))
    return value


async def _apply(
    request: web.Request,
    session: AsyncSession,
    investigator: Investigator,
    aid: str,
    op: str,
    data: dict[str, Any],
) -> dict[str, Any]:
    form = _form(request)
    if op == "contact":
        return await _contact(request, session, investigator, aid, data)
    if op == "collect":
        found = await screens.person_in_scope(session, investigator, _id_field(data, "person"))
        if found is None:
            raise _not_found()
        return await _collect(request, session, investigator, aid, found)
    if op == "add_person":
        return await _add_person(request, session, investigator, aid, data)
    rec = await session.get(Record, _id_field(data, "record"))
    if rec is None or not screens.owns(investigator, rec):
        raise _not_found()
    return await _step(request, session, form, investigator, aid, op, rec, data)


async def _contact(
    request: web.Request,
    session: AsyncSession,
    investigator: Investigator,
    aid: str,
    data: dict[str, Any],
) -> dict[str, Any]:
    found = await screens.person_in_scope(session, investigator, _id_field(data, "person"))
    if found is None:
        raise _not_found()
    outcome = text_value(data, "outcome")
    note = text_value(data, "note", required=False)
    day = clock.today()
    try:
        await add_contact(
            session,
            found,
            outcome=outcome,
            on=day,
            today=day,
            actor=Actor.investigator(investigator),
            channel=str(CHANNEL),
            note=note,
            investigator=investigator,
        )
    except ContactError as exc:
        screen = await screens.person(session, _form(request), investigator, found.id)
        raise ApiError(422, str(exc), screen=screen) from None
    await iw.note_action(session, investigator.id, aid, "contact", person_id=found.id)
    screen = await screens.person(session, _form(request), investigator, found.id)
    message = _("已记录联系：{day} {outcome}").format(
        day=day.isoformat(), outcome=outcome_labels()[ContactOutcome(outcome)]
    )
    return {"screen": screen, "message": message}


async def _collect(
    request: web.Request,
    session: AsyncSession,
    investigator: Investigator,
    aid: str,
    target: Any,
    notice: str | None = None,
) -> dict[str, Any]:
    """Start or resume collecting ``target`` (the bot's own rule decides who may)."""
    form = _form(request)
    opened = await start_or_resume(
        session,
        form,
        Filler(0, investigator),
        target,
        channel=CHANNEL,
        chat_id=chat_id(investigator),
    )
    rec = opened.record
    if opened.outcome == "duplicate":
        await iw.note_action(session, investigator.id, aid, "collect", person_id=target.id)
        screen = await screens.person(session, form, investigator, target.id)
        error = _("{name} 的登记已由{who}于 {when} 办理，不能重复采集。").format(
            name=target.name, who=opened.who, when=clock.local_date(opened.when).isoformat()
        )
        return {"screen": screen, "error": error}
    if rec.editable:
        conv = conversation_of(rec, form)
        if returns.reopen(rec, conv):
            await records_repo.save_state(
                session,
                rec,
                conv.state,
                expected_version=rec.version,
                actor=Actor.investigator(investigator),
                channel=str(CHANNEL),
                step={"action": "reopen", "fields": conv.reopened},
            )
    await iw.note_action(
        session,
        investigator.id,
        aid,
        "collect",
        record_id=rec.id,
        person_id=target.id,
        result_version=rec.version,
    )
    screen = await screens.record(session, form, investigator, rec, locale_of(request))
    body: dict[str, Any] = {"screen": screen}
    if notice:
        body["message"] = notice
    return body


async def _add_person(
    request: web.Request,
    session: AsyncSession,
    investigator: Investigator,
    aid: str,
    data: dict[str, Any],
) -> dict[str, Any]:
    """A person not on the roster, found at the door: added (flagged for staff), collected."""
    form = _form(request)
    household_id = _id_field(data, "household")
    shown = await screens.household(session, form, investigator, household_id)
    if shown is None:
        raise _not_found()
    try:
        name = values.person_name(text_value(data, "name"))
        number = values.id_number(text_value(data, "id_number"), clock.today())
    except values.Invalid as exc:
        raise ApiError(422, formtext.translate(exc.message), screen=shown) from None
    found = await people.household_members(session, household_id)
    assert found is not None
    community = await session.get(Community, found.community.id)
    assert community is not None
    added, created = await add_person_off_roster(
        session,
        community=community,
        household_number=shown["number"],
        name=name,
        id_number=number,
        investigator=investigator,
    )
    if added.community_id not in screens.community_ids(investigator):
        raise ApiError(
            409,
            _("这个公民身份号码已在其他社区的名单中，请联系社保经办机构核实。"),
            screen=shown,
        )
    if created:
        notice = _("已添加 {name}（名册外人员，将提示社保经办机构核实）。").format(name=added.name)
    else:
        notice = _("这个公民身份号码已在名单中：{name}。").format(name=added.name)
    return await _collect(request, session, investigator, aid, added, notice)


async def _step(
    request: web.Request,
    session: AsyncSession,
    form: Form,
    investigator: Investigator,
    aid: str,
    op: str,
    rec: Record,
    data: dict[str, Any],
) -> dict[str, Any]:
    """One step of the form (an answer, a button, the submission) on the investigator's record."""
    locale = locale_of(request)

    async def current() -> dict[str, Any]:
        return await screens.record(session, form, investigator, rec, locale)

    after = data.get("after")
    if after is not None:
        if not iw.is_action_id(after):
            raise bad_request(_("请求格式不对：“after”不是有效的操作编号。"))
        previous = await iw.find_action(session, investigator.id, str(after))
        fits = (
            previous is not None
            and previous.record_id == rec.id
            and previous.result_version is not None
            and previous.result_version == rec.version
        )
    else:
        fits = int_value(data, "version") == rec.version
    if not fits:
        raise ApiError(409, _(STALE), stale=True, screen=await current())
    if not rec.editable:
        raise ApiError(409, _("这份登记已提交，不能再修改。"), screen=await current())
    conv = conversation_of(rec, form)
    actor = Actor.investigator(investigator)
    body: dict[str, Any] = {}
    accepted = True
    try:
        if op == "submit":
            if not conv.complete:
                raise ApiError(
                    409, _("还没有填完，请先回答完所有问题并确认。"), screen=await current()
                )
            await records_repo.submit(
                session,
                rec,
                answers=conv.record(),
                state=conv.state,
                actor=actor,
                expected_version=rec.version,
                channel=str(CHANNEL),
                flags=[w.code for w in conv.warnings()],
                unchanged=conv.unchanged_after_reopen(),
            )
            body["message"] = _("已提交，登记编号 {reference}。").format(
                reference=reference(rec.id)
            )
        else:
            at = conv.position
            answered = conv.prompt if op == "answer" else None
            outcome = apply_action(conv, op, data)
            if outcome.error:
                accepted = False
                body["error"] = formtext.translate(outcome.error, locale)
            elif outcome.changed:
                await records_repo.save_state(
                    session,
                    rec,
                    conv.state,
                    expected_version=rec.version,
                    actor=actor,
                    channel=str(CHANNEL),
                    step={"action": op, "field": data.get("field") or at},
                )
                check = await check_id_answer(session, rec, conv, answered)
                if check is not None:
                    body["warning"] = formtext.translate(warning_text(check), locale)
    except (ReadOnlyError, TransitionError) as exc:
        raise ApiError(409, str(exc), screen=await current()) from None
    except ApiError as exc:
        exc.extra.setdefault("screen", await current())
        raise
    await iw.note_action(
        session,
        investigator.id,
        aid,
        op,
        record_id=rec.id,
        person_id=rec.person_id,
        result_version=rec.version if accepted else None,
    )
    body["screen"] = await current()
    return body
