"""One record: answers, flags, history, audit trail; confirm, return, mobilisation follow-up."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from bot import clock
from bot.appkeys import FORM, SESSIONMAKER
from bot.console import present
from bot.console.auth import current_staff
from bot.console.correction import CorrectionError, correct_answer, correctable_fields
from bot.console.filters import CHANNEL_LABELS, FILLED_BY_LABELS, STATUS_LABELS
from bot.console.flash import flash, pop_flashes
from bot.console.sessions import csrf_token
from bot.params import path_id
from bot.telegram.i18n import gettext as _
from flows import values
from flows.values import clean_text
from storage import reporting
from storage.models import Record, RecordStatus
from storage.repositories import StorageError
from storage.repositories.invites import invite_for_person, is_locked
from storage.repositories.records import confirm, correct, mark_enrolled, return_record

router = web.RouteTableDef()

# Insurance a mobilised person may have enrolled in (the notice's §5 policies).
ENROLL_OPTIONS = (
    "职工养老保险（单位参保）",
    "职工医疗保险（单位参保）",
    "职工养老保险（灵活就业人员）",
    "职工医疗保险（灵活就业人员）",
    "居民养老保险",
    "居民医疗保险",
)
MAX_COMMENT = 500


def _record_id(request: web.Request) -> int:
    return path_id(request, "record_id")


def _version(form: Any) -> int | None:
    try:
        return int(str(form.get("version")))
    except (TypeError, ValueError):
        return None


def _text(form: Any, name: str) -> str:
    """A typed field of a console form, cleaned where it enters (flows.values.clean_text)."""
    return clean_text(str(form.get(name, ""))).strip()


def _back(request: web.Request, record_id: int) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(request.app.router["console_record"].url_for(record_id=str(record_id)))


async def _load(request: web.Request, db: Any, record_id: int) -> reporting.RecordDetail:
    staff = current_staff(request)
    detail = await reporting.record_detail(db, staff.district_id, record_id)
    if detail is None:
        # Out of scope looks exactly like "does not exist": existence must not leak.
        raise web.HTTPNotFound()
    return detail


@router.get(r"/records/{record_id:\d+}", name="console_record")
async def record_page(request: web.Request) -> web.Response:
    """The record page."""
    staff = current_staff(request)
    record_id = _record_id(request)
    async with request.config_dict[SESSIONMAKER]() as db:
        detail = await _load(request, db, record_id)
        invite = await invite_for_person(db, detail.person.id)
    record = detail.record
    latest = detail.revisions[-1] if detail.revisions else None
    source = latest or record
    form = present.form_for(request.config_dict[FORM], source.form_id, source.form_version)
    answers = latest.answers if latest else dict(record.state.get("answers", {}))
    channel = (latest.channel if latest else None) or record.notify_channel
    history = []
    for before, after in zip([None, *detail.revisions], detail.revisions, strict=False):
        diff = present.changes(form, before.answers, after.answers) if before else []
        history.append((after, diff))
    session = await get_session(request)
    context = {
        "staff": staff,
        "csrf": csrf_token(session),
        "flashes": pop_flashes(session),
        "d": detail,
        "r": record,
        "lines": present.answer_lines(form, answers, detail.person.id_number),
        "flags": present.flag_texts(form, record),
        "history": list(reversed(history)),
        "events": [(e, present.event_summary(e, form)) for e in detail.events],
        "return_labels": present.field_labels(form, record.return_fields or []),
        "kept": {
            n: present.field_labels(form, names)
            for n, names in present.unchanged_by_revision(list(detail.events)).items()
        },
        "returnable": present.returnable_fields(form, answers),
        "status_labels": STATUS_LABELS,
        "filled_by_labels": FILLED_BY_LABELS,
        "channel": CHANNEL_LABELS.get(str(channel)) if channel else None,
        "enroll_options": ENROLL_OPTIONS,
        "today": clock.today().isoformat(),
        "invite": invite,
        "invite_locked": invite is not None and is_locked(invite),
        "can_review": record.status == RecordStatus.submitted,
        "can_enroll": record.status in (RecordStatus.submitted, RecordStatus.confirmed),
        "correctable": (
            correctable_fields(form, dict(record.state.get("answers", {})))
            if record.status == RecordStatus.confirmed
            else []
        ),
    }
    return aiohttp_jinja2.render_template("console/record.html", request, context)


async def _act(request: web.Request, action: str) -> web.Response:
    staff = current_staff(request)
    record_id = _record_id(request)
    form = await request.post()
    session = await get_session(request)
    try:
        async with request.config_dict[SESSIONMAKER]() as db, db.begin():
            detail = await _load(request, db, record_id)
            record: Record = detail.record
            message = await _apply(db, record, staff, action, form, request.config_dict[FORM])
    except StorageError as exc:
        flash(session, str(exc), "error")
        raise _back(request, record_id) from None
    except ValueError as exc:
        flash(session, str(exc), "error")
        raise _back(request, record_id) from None
    flash(session, message)
    raise _back(request, record_id)


async def _apply(
    db: Any, record: Record, staff: Any, action: str, form: Any, default_form: Any
) -> str:
    version = _version(form)
    if action == "confirm":
        await confirm(db, record, staff=staff, expected_version=version)
        return _("已确认。登记人会收到通知。")
    if action == "return":
        comment = _text(form, "comment")
        if not comment:
            raise ValueError(_("退回时请写明需要修改的内容。"))
        if len(comment) > MAX_COMMENT:
            raise ValueError(_("退回意见最多 {n} 个字。").format(n=MAX_COMMENT))
        fields = [str(v) for v in form.getall("fields", [])]
        await return_record(
            db,
            record,
            staff=staff,
            comment=comment,
            fields=fields or None,
            expected_version=version,
        )
        if fields:
            return _("已退回。登记人会收到通知，并只需修改所选项目。")
        return _("已退回。")
    if action == "enroll":
        typed = _text(form, "enrolled_at")
        if not typed:
            raise ValueError(_("请填写参保日期，格式如 2014-11-20。"))
        try:
            enrolled_on = values.parse_date(typed, latest=clock.today())
        except values.Invalid as exc:
            raise ValueError(_("参保日期：{problem}").format(problem=exc.message)) from None
        chosen = [str(v) for v in form.getall("insurance", []) if str(v) in ENROLL_OPTIONS]
        other = _text(form, "insurance_other")
        if other:
            chosen.append(other)
        if not chosen:
            raise ValueError(_("请选择办理的险种。"))
        await mark_enrolled(
            db,
            record,
            staff=staff,
            enrolled_on=enrolled_on,
            insurance="、".join(chosen)[:64],
            expected_version=version,
        )
        return _("已登记动员后参保情况。")
    if action == "correct":
        return await _correct(db, record, staff, form, version, default_form)
    raise web.HTTPNotFound()


async def _correct(
    db: Any, record: Record, staff: Any, form: Any, version: int | None, default_form: Any
) -> str:
    reason = _text(form, "reason")
    if not reason:
        raise ValueError(_("更正已确认的记录必须写明原因。"))
    if len(reason) > MAX_COMMENT:
        raise ValueError(_("更正原因最多 {n} 个字。").format(n=MAX_COMMENT))
    if record.status != RecordStatus.confirmed:
        raise ValueError(_("只有已确认的记录通过更正修改；待审核的记录请退回。"))
    field = str(form.get("field", ""))
    engine_form = present.form_for(default_form, record.form_id, record.form_version)
    try:
        corrected = correct_answer(engine_form, record.state, field, _text(form, "value"))
    except CorrectionError as exc:
        raise ValueError(str(exc)) from None
    revision = await correct(
        db,
        record,
        staff=staff,
        answers=corrected.answers,
        state=corrected.state,
        flags=corrected.flags,
        reason=reason,
        expected_version=version,
    )
    return _("已更正，生成第 {n} 版。").format(n=revision.n)


@router.post(r"/records/{record_id:\d+}/confirm", name="console_confirm")
async def confirm_view(request: web.Request) -> web.Response:
    """Confirm a submitted record."""
    return await _act(request, "confirm")


@router.post(r"/records/{record_id:\d+}/return", name="console_return")
async def return_view(request: web.Request) -> web.Response:
    """Return a submitted record with a comment and, optionally, the fields to fix."""
    return await _act(request, "return")


@router.post(r"/records/{record_id:\d+}/correct", name="console_correct")
async def correct_view(request: web.Request) -> web.Response:
    """Correct one answer of a confirmed record: a new revision with the reason."""
    return await _act(request, "correct")


@router.post(r"/records/{record_id:\d+}/enroll", name="console_enroll")
async def enroll_view(request: web.Request) -> web.Response:
    """Record the enrolment that followed mobilisation."""
    return await _act(request, "enroll")
