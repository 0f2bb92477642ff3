"""Records: drafts, submissions, review (return / confirm), corrections and follow-up.

The status rules live here and nowhere else::

    draft ──submit──▶ submitted ──confirm──▶ confirmed ──correct──▶ confirmed (new revision)
                         │  ▲
                  return │  │ submit
                         ▼  │
                       returned

Every function takes the caller's session and never commits; every mutation writes an audit
event. Functions that change a record take ``expected_version`` (the ``version`` the caller last
saw); a mismatch, or a concurrent write that lands first, raises :class:`ConflictError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from storage import models
from storage.models import (
    Channel,
    FilledBy,
    Investigator,
    Person,
    Record,
    RecordRevision,
    RecordStatus,
    Staff,
    answered_id_number,
    id_number_index,
)
from storage.repositories.actors import Actor
from storage.repositories.audit import add_event
from storage.repositories.errors import (
    ConflictError,
    NotFoundError,
    ReadOnlyError,
    ScopeError,
    TransitionError,
)
from storage.repositories.outbox import enqueue, withdraw
from storage.types import utcnow

# Answers copied onto the record for fast queries: record column → form field name.
DENORMALISED_ANSWERS = {
    "collection_status": "collection_status",
    "not_collected_reason": "not_collected_reason",
    "insured_status": "insured_status",
    "current_status": "current_status",
    "employer_name": "workplace_name",
}
FLAG_NOT_ON_ROSTER = "not_on_roster"
# The answered 公民身份号码 differs from the person's on the roster (allowed: the roster can be
# wrong), and it is another person's or is given in another live record (staff decide;
# nothing is merged). Recomputed whenever the answers are handed in or corrected.
FLAG_ID_CHANGED = "id_changed"
FLAG_ID_CONFLICT = "id_conflict"
IDENTITY_FLAGS = (FLAG_ID_CHANGED, FLAG_ID_CONFLICT)
ID_ANSWER = models.ID_ANSWER

StartOutcome = Literal["started", "resumed", "duplicate"]


@dataclass(frozen=True, slots=True)
class StartResult:
    """What :func:`get_or_start_draft` found.

    ``started``: a new draft. ``resumed``: the same filler's existing record (check
    ``record.editable``: it may already be submitted). ``duplicate``: someone else holds the live
    record of this 公民身份号码; ``who`` and ``when`` say who filled it and when.
    """

    record: Record
    outcome: StartOutcome
    who: str
    when: dt.datetime


def describe_filler(record: Record, investigator: Investigator | None) -> str:
    """Who fills a record, as a reviewer or another filler should read it."""
    if record.filled_by == FilledBy.investigator:
        return f"调查员 {investigator.name}" if investigator is not None else "调查员"
    return "本人（或监护人、代理人）"


@dataclass(frozen=True, slots=True)
class IdentityCheck:
    """How a record's answered 公民身份号码 relates to the roster and to other records.

    ``changed``: it is not the number of the record's person. ``other_person_id``: the person
    (on the roster, or added by an investigator) whose number it is. ``other_record_id``: a
    live record of someone else whose answers give the same number.
    """

    changed: bool = False
    other_person_id: int | None = None
    other_record_id: int | None = None

    @property
    def conflict(self) -> bool:
        """The number belongs to someone else, or another record uses it."""
        return self.other_person_id is not None or self.other_record_id is not None

    @property
    def flags(self) -> list[str]:
        """The record flags this check sets."""
        return [
            flag
            for flag, on in ((FLAG_ID_CHANGED, self.changed), (FLAG_ID_CONFLICT, self.conflict))
            if on
        ]


async def identity_check(
    session: AsyncSession, record: Record, number: str | None
) -> IdentityCheck:
    """Compare the number ``number`` answered in ``record`` with the roster and other records."""
    if not number:
        return IdentityCheck()
    person = await session.get(Person, record.person_id)
    assert person is not None
    index = id_number_index(number)
    other_person = await session.scalar(
        select(Person.id).where(Person.id_number_index == index, Person.id != record.person_id)
    )
    other_record = await session.scalar(
        select(Record.id)
        .where(
            Record.answered_id_index == index,
            Record.id != record.id,
            Record.discarded_at.is_(None),
        )
        .order_by(Record.id)
        .limit(1)
    )
    return IdentityCheck(number != person.id_number, other_person, other_record)


def _answered_id(state_or_answers: dict[str, Any], *, in_state: bool) -> str | None:
    answers = state_or_answers.get("answers") if in_state else state_or_answers
    return answered_id_number(answers)


def _answered_index(state_or_answers: dict[str, Any], *, in_state: bool) -> str | None:
    return id_number_index(_answered_id(state_or_answers, in_state=in_state))


async def get_record(session: AsyncSession, record_id: int) -> Record:
    """The record with that id, or NotFoundError."""
    record = await session.get(Record, record_id)
    if record is None:
        raise NotFoundError(f"记录 {record_id} 不存在")
    return record


async def live_record_for_person(session: AsyncSession, person_id: int) -> Record | None:
    """The person's live (not discarded) record, if any."""
    return await session.scalar(select(Record).where(Record.live_person_id == person_id))


async def get_or_start_draft(
    session: AsyncSession,
    person: Person,
    *,
    form_id: str,
    form_version: int,
    filled_by: FilledBy,
    state: dict[str, Any],
    actor: Actor,
    investigator: Investigator | None = None,
    channel: Channel | None = None,
    chat_id: str | int | None = None,
) -> StartResult:
    """Find the person's live record or start a draft, honouring the duplicate guard.

    One live record per 公民身份号码: when it exists and belongs to the same filler (the resident,
    or the same investigator) it is returned as ``resumed`` (and notifications follow the chat
    used now); when it belongs to someone else it is returned as ``duplicate``, the attempt is
    audited and counted (``duplicate_attempts``) without touching the record's version.
    A concurrent start of the same person raises :class:`ConflictError` (retry finds the record).
    """
    if filled_by == FilledBy.investigator and investigator is None:
        raise ValueError("an investigator record needs the investigator")
    chat = None if chat_id is None else str(chat_id)
    investigator_id = investigator.id if investigator is not None else None
    existing = await live_record_for_person(session, person.id)
    if existing is not None:
        holder = (
            await session.get(Investigator, existing.investigator_id)
            if existing.investigator_id is not None
            else None
        )
        when = existing.submitted_at or existing.created_at
        same_filler = existing.filled_by == filled_by and (
            filled_by == FilledBy.resident or existing.investigator_id == investigator_id
        )
        if same_filler:
            if chat is not None and (existing.notify_channel, existing.notify_chat_id) != (
                channel,
                chat,
            ):
                existing.notify_channel = channel
                existing.notify_chat_id = chat
                await _flush(session)
            return StartResult(existing, "resumed", describe_filler(existing, holder), when)
        await session.execute(
            update(Record)
            .where(Record.id == existing.id)
            .values(duplicate_attempts=Record.duplicate_attempts + 1)
            .execution_options(synchronize_session=False)
        )
        add_event(
            session,
            actor,
            "duplicate_attempt",
            record_id=existing.id,
            person_id=person.id,
            channel=channel,
            details={"filled_by": str(filled_by)},
        )
        return StartResult(existing, "duplicate", describe_filler(existing, holder), when)

    record = Record(
        person_id=person.id,
        live_person_id=person.id,
        form_id=form_id,
        form_version=form_version,
        status=RecordStatus.draft,
        filled_by=filled_by,
        investigator_id=investigator_id,
        notify_channel=channel,
        notify_chat_id=chat,
        state=state,
        answered_id_index=_answered_index(state, in_state=True),
        flags=[] if person.on_roster else [FLAG_NOT_ON_ROSTER],
        district_id=person.district_id,
        street_id=person.street_id,
        community_id=person.community_id,
        household_id=person.household_id,
    )
    session.add(record)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise ConflictError("这个人的登记刚刚在别处开始，请稍后重试") from exc
    add_event(
        session,
        actor,
        "draft_started",
        record_id=record.id,
        person_id=person.id,
        channel=channel,
        details={"form_id": form_id, "form_version": form_version},
    )
    return StartResult(record, "started", describe_filler(record, investigator), record.created_at)


def _check_version(record: Record, expected_version: int | None) -> None:
    if expected_version is not None and record.version != expected_version:
        raise ConflictError("这条记录已被他人修改，请刷新后再试")


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except StaleDataError as exc:
        raise ConflictError("这条记录已被他人修改，请刷新后再试") from exc


async def save_state(
    session: AsyncSession,
    record: Record,
    state: dict[str, Any],
    *,
    expected_version: int,
    actor: Actor | None = None,
    channel: str | None = None,
    step: dict[str, Any] | None = None,
) -> Record:
    """Save the conversation state after an answer (drafts and returned records only).

    When ``actor`` is given the save is also audited (``draft_saved``, with the position
    reached and ``step``: what was done, e.g. ``{"action": "answer", "field": "mobile"}``).
    """
    if not record.editable:
        raise ReadOnlyError(_read_only_message(record))
    _check_version(record, expected_version)
    record.state = state
    record.answered_id_index = _answered_index(state, in_state=True)
    await _flush(session)
    if actor is not None:
        add_event(
            session,
            actor,
            "draft_saved",
            record_id=record.id,
            person_id=record.person_id,
            channel=channel,
            details={"position": state.get("position"), **(step or {})},
        )
    return record


async def note_asked(session: AsyncSession, record: Record, version: int, message_id: int) -> bool:
    """Keep with the record that the question of its ``version`` was first shown in the chat
    message ``message_id`` (a Telegram message id). Not a change of the record: neither
    ``version`` nor ``updated_at`` moves. A later showing of the same question keeps the first
    place; a record that has moved past ``version`` is left alone. Returns whether it wrote."""
    if record.asked_version == version or record.version != version:
        return False
    result = await session.execute(
        update(Record)
        .where(Record.id == record.id, Record.version == version)
        .values(asked_version=version, asked_message_id=message_id, updated_at=Record.updated_at)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        return False
    set_committed_value(record, "asked_version", version)
    set_committed_value(record, "asked_message_id", message_id)
    return True


def _read_only_message(record: Record) -> str:
    if record.discarded_at is not None:
        return "这条记录已作废"
    if record.status == RecordStatus.confirmed:
        return "这条记录已确认，不能再修改"
    return "这条记录已提交，正在审核，暂不能修改"


def _copy_answers(record: Record, answers: dict[str, Any]) -> None:
    record.answered_id_index = _answered_index(answers, in_state=False)
    for column, field in DENORMALISED_ANSWERS.items():
        value = answers.get(field)
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        text = None if value in (None, "") else str(value)
        if column == "employer_name" and text is not None:
            text = text[:200]
        setattr(record, column, text)


async def _next_revision_number(session: AsyncSession, record_id: int) -> int:
    current = await session.scalar(
        select(func.max(RecordRevision.n)).where(RecordRevision.record_id == record_id)
    )
    return (current or 0) + 1


async def submit(
    session: AsyncSession,
    record: Record,
    *,
    answers: dict[str, Any],
    state: dict[str, Any],
    actor: Actor,
    expected_version: int,
    channel: str | None = None,
    flags: Sequence[str] = (),
    unchanged: Sequence[str] = (),
) -> RecordRevision:
    """Submit (or resubmit after a return): keep the answers as a new revision.

    ``answers`` is the form engine's final record; ``flags`` its consistency warnings (codes);
    ``unchanged`` the questions marked at the return that the filler answered again with the
    value they had (kept on purpose; audited with the submission for the reviewer).
    The identity flags (:class:`IdentityCheck`) are added here, whatever the channel.
    """
    if record.discarded_at is not None or record.status not in (
        RecordStatus.draft,
        RecordStatus.returned,
    ):
        raise TransitionError(_read_only_message(record))
    _check_version(record, expected_version)
    n = await _next_revision_number(session, record.id)
    now = utcnow()
    revision = RecordRevision(
        record_id=record.id,
        n=n,
        form_id=record.form_id,
        form_version=record.form_version,
        answers=answers,
        submitted_at=now,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label,
        channel=channel,
    )
    session.add(revision)
    record.state = state
    record.status = RecordStatus.submitted
    record.submitted_at = now
    record.return_fields = None
    _copy_answers(record, answers)
    identity = await identity_check(session, record, _answered_id(answers, in_state=False))
    _set_flags(record, [*flags, *identity.flags])
    await _flush(session)
    # A reminder queued moments before must not ask the person to finish what they just did.
    await withdraw(session, record.id, kind_prefix="reminder", reason="submitted", now=now)
    add_event(
        session,
        actor,
        "submitted" if n == 1 else "resubmitted",
        record_id=record.id,
        person_id=record.person_id,
        channel=channel,
        details={"revision": n, "flags": record.flags, "unchanged": list(unchanged)},
    )
    return revision


def check_scope(staff: Staff, record: Record) -> None:
    """Raise ScopeError unless ``staff`` may act on ``record`` (city staff, or its district)."""
    if not staff.active:
        raise ScopeError("账号已停用")
    if staff.district_id is not None and staff.district_id != record.district_id:
        raise ScopeError("无权处理其他区的记录")


async def _notify(
    session: AsyncSession, record: Record, kind: str, text: str, extra: dict[str, Any]
) -> None:
    if record.notify_channel is None or record.notify_chat_id is None:
        return
    payload = {"text": text, "record_id": record.id, **extra}
    await enqueue(
        session,
        channel=record.notify_channel,
        chat_id=record.notify_chat_id,
        kind=kind,
        payload=payload,
        # One notification per transition: the version identifies the transition.
        dedup_key=f"record:{record.id}:{kind}:{record.version}",
        record_id=record.id,
    )


async def return_record(
    session: AsyncSession,
    record: Record,
    *,
    staff: Staff,
    comment: str,
    fields: Sequence[str] | None = None,
    expected_version: int | None = None,
) -> Record:
    """Return a submitted record to its filler with a comment and, optionally, fields to fix.

    The chat user is notified through the outbox in the same transaction.
    """
    check_scope(staff, record)
    comment = comment.strip()
    if not comment:
        raise TransitionError("退回时请写明需要修改的内容")
    if record.status != RecordStatus.submitted:
        raise TransitionError("只能退回已提交、待审核的记录")
    _check_version(record, expected_version)
    record.status = RecordStatus.returned
    record.return_comment = comment
    record.return_fields = list(fields) if fields else None
    await _flush(session)
    await _notify(
        session,
        record,
        "record_returned",
        f"您提交的登记信息需要修改：{comment}",
        {"comment": comment, "fields": record.return_fields},
    )
    add_event(
        session,
        Actor.staff(staff),
        "returned",
        record_id=record.id,
        person_id=record.person_id,
        reason=comment,
        details={"fields": record.return_fields},
    )
    return record


async def confirm(
    session: AsyncSession, record: Record, *, staff: Staff, expected_version: int | None = None
) -> Record:
    """Confirm a submitted record; it becomes read-only (see :func:`correct`)."""
    check_scope(staff, record)
    if record.status != RecordStatus.submitted:
        raise TransitionError("只能确认已提交、待审核的记录")
    _check_version(record, expected_version)
    record.status = RecordStatus.confirmed
    record.confirmed_at = utcnow()
    record.confirmed_by = staff.id
    await _flush(session)
    await _notify(session, record, "record_confirmed", "您的登记信息已审核确认，谢谢配合。", {})
    add_event(
        session, Actor.staff(staff), "confirmed", record_id=record.id, person_id=record.person_id
    )
    return record


async def confirm_unflagged(
    session: AsyncSession, record_ids: Sequence[int], *, staff: Staff
) -> list[int]:
    """Confirm, of the given records, those submitted, in scope and without any flag.

    Returns the ids confirmed; the others are left as they are (bulk confirmation).
    """
    confirmed: list[int] = []
    records = await session.scalars(
        select(Record).where(Record.id.in_(record_ids)).order_by(Record.id)
    )
    for record in records.all():
        in_scope = staff.district_id is None or staff.district_id == record.district_id
        if (
            in_scope
            and record.status == RecordStatus.submitted
            and not record.flags
            and record.duplicate_attempts == 0
        ):
            await confirm(session, record, staff=staff)
            confirmed.append(record.id)
    return confirmed


def _set_flags(record: Record, flags: Sequence[str]) -> None:
    """Replace the answers' warnings; the roster flag belongs to the person and stays."""
    kept = [f for f in record.flags if f == FLAG_NOT_ON_ROSTER]
    record.flags = sorted(set(kept) | set(flags))


async def correct(
    session: AsyncSession,
    record: Record,
    *,
    staff: Staff,
    answers: dict[str, Any],
    state: dict[str, Any],
    reason: str,
    flags: Sequence[str] | None = None,
    expected_version: int | None = None,
) -> RecordRevision:
    """Correct a confirmed record: a new revision carrying the reason; it stays confirmed.

    ``flags`` are the corrected answers' consistency warnings (codes); ``None`` keeps the
    record's warnings as they are. The identity flags are recomputed from the answers.
    """
    check_scope(staff, record)
    reason = reason.strip()
    if not reason:
        raise TransitionError("更正已确认的记录必须写明原因")
    if record.status != RecordStatus.confirmed:
        raise TransitionError("只有已确认的记录通过更正修改；其他记录请退回")
    _check_version(record, expected_version)
    actor = Actor.staff(staff)
    n = await _next_revision_number(session, record.id)
    revision = RecordRevision(
        record_id=record.id,
        n=n,
        form_id=record.form_id,
        form_version=record.form_version,
        answers=answers,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label,
        channel="console",
        reason=reason,
    )
    session.add(revision)
    record.state = state
    _copy_answers(record, answers)
    kept = (
        list(flags) if flags is not None else [f for f in record.flags if f not in IDENTITY_FLAGS]
    )
    identity = await identity_check(session, record, _answered_id(answers, in_state=False))
    _set_flags(record, [*kept, *identity.flags])
    await _flush(session)
    add_event(
        session,
        actor,
        "corrected",
        record_id=record.id,
        person_id=record.person_id,
        reason=reason,
        details={"revision": n},
    )
    return revision


async def mark_enrolled(
    session: AsyncSession,
    record: Record,
    *,
    staff: Staff,
    enrolled_on: dt.date,
    insurance: str,
    expected_version: int | None = None,
) -> Record:
    """Record that the person enrolled after mobilisation (date and which insurance)."""
    check_scope(staff, record)
    if record.status not in (RecordStatus.submitted, RecordStatus.confirmed):
        raise TransitionError("只能为已提交或已确认的记录登记参保动员结果")
    insurance = insurance.strip()
    if not insurance:
        raise TransitionError("请写明办理的险种")
    _check_version(record, expected_version)
    record.enrolled_at = enrolled_on
    record.enrolled_insurance = insurance[:64]
    await _flush(session)
    add_event(
        session,
        Actor.staff(staff),
        "enrolled",
        record_id=record.id,
        person_id=record.person_id,
        details={"enrolled_at": enrolled_on.isoformat(), "insurance": record.enrolled_insurance},
    )
    return record


async def discard_draft(
    session: AsyncSession,
    record: Record,
    *,
    actor: Actor,
    reason: str,
    expected_version: int | None = None,
) -> Record:
    """Discard a draft started by mistake; the person may then be started again."""
    if record.status != RecordStatus.draft or record.discarded_at is not None:
        raise TransitionError("只能作废未提交的草稿")
    if not reason.strip():
        raise TransitionError("作废草稿必须写明原因")
    _check_version(record, expected_version)
    record.discarded_at = utcnow()
    record.live_person_id = None
    await _flush(session)
    add_event(
        session,
        actor,
        "discarded",
        record_id=record.id,
        person_id=record.person_id,
        reason=reason.strip(),
    )
    return record


async def migrate_drafts(
    session: AsyncSession,
    *,
    form_id: str,
    from_version: int,
    to_version: int,
    transform: Callable[[dict[str, Any]], dict[str, Any]],
    actor: Actor,
) -> int:
    """Move live drafts (and returned records) of one form version to another by an explicit rule.

    ``transform`` maps an old conversation state to a new one (it must set ``form_version``).
    Records already submitted or confirmed keep the version they were filled with.
    Returns the number of records migrated.
    """
    records = await session.scalars(
        select(Record).where(
            Record.form_id == form_id,
            Record.form_version == from_version,
            Record.status.in_([RecordStatus.draft, RecordStatus.returned]),
            Record.discarded_at.is_(None),
        )
    )
    count = 0
    for record in records.all():
        new_state = transform(dict(record.state))
        if new_state.get("form_version") != to_version:
            raise ValueError("transform must set form_version to the new version")
        record.state = new_state
        record.answered_id_index = _answered_index(new_state, in_state=True)
        record.form_version = to_version
        add_event(
            session,
            actor,
            "migrated",
            record_id=record.id,
            person_id=record.person_id,
            details={"from_version": from_version, "to_version": to_version},
        )
        count += 1
    await _flush(session)
    return count


async def revisions(session: AsyncSession, record_id: int) -> Sequence[RecordRevision]:
    """Every kept version of a record's answers, oldest first."""
    result = await session.scalars(
        select(RecordRevision)
        .where(RecordRevision.record_id == record_id)
        .order_by(RecordRevision.n)
    )
    return result.all()


async def records_of_investigator(
    session: AsyncSession,
    investigator_id: int,
    statuses: Sequence[RecordStatus] | None = None,
) -> Sequence[Record]:
    """An investigator's live records, most recently changed first."""
    stmt = (
        select(Record)
        .where(Record.investigator_id == investigator_id, Record.discarded_at.is_(None))
        .order_by(Record.updated_at.desc())
    )
    if statuses:
        stmt = stmt.where(Record.status.in_(list(statuses)))
    return (await session.scalars(stmt)).all()


async def records_of_chat(
    session: AsyncSession, channel: Channel, chat_id: str | int
) -> Sequence[Record]:
    """The live records a chat user fills (as a resident), most recently changed first."""
    result = await session.scalars(
        select(Record)
        .where(
            Record.notify_channel == channel,
            Record.notify_chat_id == str(chat_id),
            Record.discarded_at.is_(None),
        )
        .order_by(Record.updated_at.desc())
    )
    return result.all()
