"""Records, persons and progress as the central system's JSON (codes plus labels)."""

from __future__ import annotations

from typing import Any

from bot.deadlines import Deadline
from flows import Form
from storage.models import Contact
from storage.people import PersonRow, ReachLine
from storage.person_status import (
    STATUS_ORDER,
    PersonStatus,
    outcome_label,
    person_status,
    status_text,
)
from storage.reporting import AreaProgress, RecordRow


def _status(
    form: Form, status: PersonStatus, reason: str | None, outcome: Any = None
) -> dict[str, Any]:
    """A person's status: the code, the words, and the 未采集 reason when it is one."""
    reason = reason if status == PersonStatus.not_collected else None
    label = form.label_of("not_collected_reason", reason) if reason else None
    return {
        "status": str(status),
        "status_label": status_text(status, reason_label=label, outcome=outcome),
        "not_collected_reason": reason,
    }


def record_json(form: Form, row: RecordRow) -> dict[str, Any]:
    """One record: where, who, status, the newest answers (codes) and their labels."""
    labels = {
        key: form.label_of(key, value)
        for key, value in row.answers.items()
        if value not in (None, "", [])
    }
    return {
        "id": row.id,
        "status": str(row.status),
        "filled_by": str(row.filled_by),
        "form": {"id": row.form_id, "version": row.form_version},
        "revision": row.revision,
        "area": {
            "district_id": row.district_id,
            "district": row.district,
            "street": row.street,
            "community": row.community,
            "household": row.household,
        },
        "person": {
            "name": row.person_name,
            "id_number": row.id_number,
            "on_roster": row.on_roster,
            **_status(
                form,
                person_status(row.status, row.answers.get("collection_status")),
                row.answers.get("not_collected_reason"),
            ),
        },
        "investigator": row.investigator,
        "flags": list(row.flags),
        "duplicate_attempts": row.duplicate_attempts,
        "submitted_at": _iso(row.submitted_at),
        "confirmed_at": _iso(row.confirmed_at),
        "enrolment": (
            {"date": row.enrolled_at.isoformat(), "insurance": row.enrolled_insurance}
            if row.enrolled_at
            else None
        ),
        "return_comment": row.return_comment,
        "updated_at": _iso(row.updated_at),
        "answers": row.answers,
        "labels": labels,
    }


def progress_json(
    line: AreaProgress, reach: ReachLine | None = None, deadline: Deadline | None = None
) -> dict[str, Any]:
    """One area's counts: records by review status, roster people by status (未联系 first)
    and the area's deadline."""
    body: dict[str, Any] = {
        "level": line.level,
        "id": line.id,
        "name": line.name,
        "target": line.target,
        "households": line.households,
        "households_visited": line.households_visited,
        "drafts": line.drafts,
        "submitted": line.submitted,
        "returned": line.returned,
        "confirmed": line.confirmed,
        "collected": line.collected,
        "not_collected": dict(line.not_collected),
        "collection_rate": round(line.rate, 4),
    }
    if reach is not None:
        body["persons"] = {
            "target": reach.target,
            "not_contacted": reach.not_contacted,
            "not_contacted_share": round(reach.not_contacted_share, 4),
            "statuses": {str(s): reach.count(s) for s in STATUS_ORDER},
        }
    if deadline is not None:
        body["deadline"] = deadline_json(deadline)
    return body


def deadline_json(deadline: Deadline) -> dict[str, Any]:
    """A deadline: the day, and the days left (null once it has passed: ``overdue``)."""
    return {
        "name": deadline.key,
        "label": deadline.label,
        "date": deadline.day.isoformat(),
        "overdue": deadline.overdue,
        "days_left": None if deadline.overdue else deadline.days_left,
    }


def person_json(form: Form, row: PersonRow) -> dict[str, Any]:
    """One roster person: where, their status and their newest contact."""
    return {
        "id": row.id,
        "name": row.name,
        "id_number": row.id_number,
        "mobile": row.mobile,
        "on_roster": row.on_roster,
        "area": {
            "district_id": row.district_id,
            "district": row.district,
            "street": row.street,
            "community_id": row.community_id,
            "community": row.community,
            "household_id": row.household_id,
            "household": row.household,
        },
        **_status(form, row.status, row.reason, row.last_contact_outcome),
        "last_contact": (
            {
                "date": row.last_contact_on.isoformat(),
                "outcome": str(row.last_contact_outcome),
                "outcome_label": outcome_label(row.last_contact_outcome),
            }
            if row.last_contact_on and row.last_contact_outcome
            else None
        ),
        "record_id": row.record_id,
    }


def contact_json(contact: Contact) -> dict[str, Any]:
    """One entry of a person's contact log."""
    return {
        "date": contact.contacted_on.isoformat(),
        "outcome": str(contact.outcome),
        "outcome_label": outcome_label(contact.outcome),
        "by": contact.actor_label,
        "by_kind": contact.actor_kind,
        "channel": contact.channel,
        "note": contact.note,
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
