"""A roster person's one status on the way to a confirmed form, derived from what is stored.

::

    未联系 ──contact──▶ 已联系 / 已发邀请 ──form started──▶ 填写中 ──submit──▶ 待审核 ──▶ 已确认
                                                                          │   ▲
                                                                   return │   │ submit
                                                                          ▼   │
                                                                         已退回
    an investigator's form handed in as 未采集 (with its reason) ──▶ 未采集

The person's live record decides once there is one (its review status, or 未采集 when the
investigator recorded a reason instead of the form); before that, the newest entry of the
contact log (``persons.last_contact_outcome``): none → 未联系, an invite sent → 已发邀请,
anything a caller recorded → 已联系. Nothing stores the status itself, so it can never
disagree with the records and the contact log.

The rule is written twice, side by side and tested together: :func:`person_status` for
objects already loaded, :func:`person_status_sql` for queries that count or filter by status
(a ``CASE`` over ``persons`` outer-joined to their live record on ``records.live_person_id``).
Every channel (console, API, exports, the bot) uses one of the two.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, literal_column

from storage.models import ContactOutcome, Person, Record, RecordStatus

NOT_COLLECTED = "not_collected"


class PersonStatus(enum.StrEnum):
    """Where a roster person stands (codes; :data:`STATUS_LABELS` has the words)."""

    not_contacted = "not_contacted"
    invited = "invited"
    contacted = "contacted"
    in_progress = "in_progress"
    submitted = "submitted"
    returned = "returned"
    confirmed = "confirmed"
    not_collected = "not_collected"


STATUS_LABELS: dict[PersonStatus, str] = {
    PersonStatus.not_contacted: "未联系",
    PersonStatus.invited: "已发邀请",
    PersonStatus.contacted: "已联系",
    PersonStatus.in_progress: "填写中",
    PersonStatus.submitted: "待审核",
    PersonStatus.returned: "已退回",
    PersonStatus.confirmed: "已确认",
    PersonStatus.not_collected: "未采集",
}
# The order of the process, for tiles, tables and menus.
STATUS_ORDER: tuple[PersonStatus, ...] = tuple(PersonStatus)
# Handed in: nothing more is needed from the person (户不漏人 counts these as done).
DONE: frozenset[PersonStatus] = frozenset(
    {PersonStatus.submitted, PersonStatus.confirmed, PersonStatus.not_collected}
)
# Not reached at all yet: no contact, no invite, no form.
UNREACHED = PersonStatus.not_contacted

OUTCOME_LABELS: dict[ContactOutcome, str] = {
    ContactOutcome.notified: "已通知",
    ContactOutcome.no_answer: "无人接听",
    ContactOutcome.wrong_number: "号码错误",
    ContactOutcome.refused: "拒绝",
    ContactOutcome.insured_elsewhere: "已在外地参保",
    ContactOutcome.invited: "已发邀请",
}
# What a caller or investigator may record (``invited`` is written when an invite goes out).
RECORDABLE_OUTCOMES: tuple[ContactOutcome, ...] = (
    ContactOutcome.notified,
    ContactOutcome.no_answer,
    ContactOutcome.wrong_number,
    ContactOutcome.refused,
    ContactOutcome.insured_elsewhere,
)
# Outcomes after which the person still has to be reached: they lead the call list.
FAILED_OUTCOMES: tuple[ContactOutcome, ...] = (
    ContactOutcome.no_answer,
    ContactOutcome.wrong_number,
    ContactOutcome.refused,
)
# The call list: who to call next, by the newest outcome (None: never contacted). People with
# a form, and people insured elsewhere, are not on it.
CALL_ORDER: tuple[ContactOutcome | None, ...] = (
    None,
    *FAILED_OUTCOMES,
    ContactOutcome.invited,
    ContactOutcome.notified,
)


def person_status(
    record_status: RecordStatus | str | None,
    collection_status: str | None = None,
    contact_outcome: ContactOutcome | str | None = None,
) -> PersonStatus:
    """The status of a person whose live record has ``record_status`` (None: no live record)
    and ``collection_status``, and whose newest contact ended with ``contact_outcome``."""
    if record_status is None:
        if contact_outcome is None:
            return PersonStatus.not_contacted
        if ContactOutcome(contact_outcome) == ContactOutcome.invited:
            return PersonStatus.invited
        return PersonStatus.contacted
    status = RecordStatus(record_status)
    if status == RecordStatus.draft:
        return PersonStatus.in_progress
    if status == RecordStatus.returned:
        return PersonStatus.returned
    if collection_status == NOT_COLLECTED:
        return PersonStatus.not_collected
    if status == RecordStatus.submitted:
        return PersonStatus.submitted
    return PersonStatus.confirmed


def status_of(person: Person, record: Record | None) -> PersonStatus:
    """:func:`person_status` of a loaded person and their live record (or None)."""
    if record is not None and (record.discarded_at is not None or record.person_id != person.id):
        record = None
    return person_status(
        None if record is None else record.status,
        None if record is None else record.collection_status,
        person.last_contact_outcome,
    )


def _text(value: str) -> ColumnElement[str]:
    # A constant, not a bound parameter: PostgreSQL sees the same CASE text in SELECT and GROUP
    # BY only when no parameter numbers differ between the two.
    assert value.replace("_", "").isalnum()
    return literal_column(f"'{value}'", String)


def person_status_sql(person: Any = Person, record: Any = Record) -> ColumnElement[str]:
    """:func:`person_status` as a SQL expression (the status code as text).

    ``person`` and ``record`` are the entities (or aliases) of the query, which must outer-join
    the person's live record: ``.outerjoin(Record, Record.live_person_id == Person.id)``.
    """
    outcome = person.last_contact_outcome
    no_record = record.id.is_(None)
    return case(
        (and_(no_record, outcome.is_(None)), _text(PersonStatus.not_contacted)),
        (and_(no_record, outcome == _text(ContactOutcome.invited)), _text(PersonStatus.invited)),
        (no_record, _text(PersonStatus.contacted)),
        (record.status == _text(RecordStatus.draft), _text(PersonStatus.in_progress)),
        (record.status == _text(RecordStatus.returned), _text(PersonStatus.returned)),
        (record.collection_status == _text(NOT_COLLECTED), _text(PersonStatus.not_collected)),
        (record.status == _text(RecordStatus.submitted), _text(PersonStatus.submitted)),
        else_=_text(PersonStatus.confirmed),
    )


def call_rank_sql(person: Any = Person) -> ColumnElement[int]:
    """The call list's order by the newest contact outcome (:data:`CALL_ORDER`; lower first)."""
    outcome = person.last_contact_outcome
    whens: list[Any] = [(outcome.is_(None), literal_column("0"))]
    for rank, value in enumerate(CALL_ORDER[1:], start=1):
        assert value is not None
        whens.append((outcome == _text(value), literal_column(str(rank))))
    return case(*whens, else_=literal_column(str(len(CALL_ORDER))))


def status_label(
    status: PersonStatus | str,
    detail: str | None = None,
    labels: Mapping[PersonStatus, str] = STATUS_LABELS,
) -> str:
    """The status in words, with its detail when there is one: ``未采集（人户分离）``,
    ``已联系（无人接听）``. ``labels`` replaces the Chinese words (a translation)."""
    label = labels[PersonStatus(status)]
    return f"{label}（{detail}）" if detail else label


def status_text(
    status: PersonStatus | str,
    *,
    reason_label: str | None = None,
    outcome: ContactOutcome | str | None = None,
    labels: Mapping[PersonStatus, str] = STATUS_LABELS,
    outcome_labels: Mapping[ContactOutcome, str] = OUTCOME_LABELS,
) -> str:
    """The status as every list shows it: 未采集 with its reason (the form's words, e.g.
    人户分离), 已联系 with the newest contact's outcome, the plain label otherwise."""
    status = PersonStatus(status)
    if status == PersonStatus.not_collected and reason_label:
        return status_label(status, reason_label, labels)
    if status == PersonStatus.contacted and outcome:
        return status_label(status, outcome_labels[ContactOutcome(outcome)], labels)
    return status_label(status, None, labels)


def outcome_label(outcome: ContactOutcome | str | None) -> str:
    """A contact outcome in words ('' for none)."""
    return OUTCOME_LABELS[ContactOutcome(outcome)] if outcome else ""
