"""The contact log: each attempt to reach a roster person, and invites sent.

This module is the only writer of ``contacts`` and of the person's ``last_contact_on`` /
``last_contact_outcome`` (the newest contact, which :mod:`storage.person_status` reads), and
every write is audited. Rules:

* A caller's outcome (:data:`~storage.person_status.RECORDABLE_OUTCOMES`) becomes the person's
  newest contact unless a later-dated one is already there; it always replaces an invite.
* An invite sent (:func:`mark_invited`) is logged only for people never contacted before, so
  a list exported again does not hide what the last call found out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEvent, Contact, ContactOutcome, Investigator, Person, Staff
from storage.person_status import OUTCOME_LABELS, RECORDABLE_OUTCOMES
from storage.repositories.actors import Actor
from storage.repositories.audit import add_event
from storage.repositories.errors import ContactError
from storage.types import utcnow

MAX_NOTE = 500
CHUNK = 2000
_PERSONS = cast(Table, Person.__table__)
_CONTACTS = cast(Table, Contact.__table__)
_AUDIT = cast(Table, AuditEvent.__table__)


@dataclass(frozen=True, slots=True)
class ContactEntry:
    """One contact to record: whom, on which day, how it ended, and a note."""

    person_id: int
    outcome: ContactOutcome
    on: dt.date
    note: str | None = None


def check_contact(
    outcome: ContactOutcome | str, on: dt.date, note: str | None, *, today: dt.date
) -> tuple[ContactOutcome, str | None]:
    """The outcome and note as stored; ContactError (a short Chinese message) when the outcome
    cannot be recorded by a person, the day lies ahead of ``today``, or the note is too long."""
    try:
        chosen = ContactOutcome(outcome)
    except ValueError:
        chosen = None
    if chosen not in RECORDABLE_OUTCOMES:
        allowed = "、".join(OUTCOME_LABELS[o] for o in RECORDABLE_OUTCOMES)
        raise ContactError(f"联系结果应为 {allowed} 之一", "outcome")
    assert chosen is not None
    if on > today:
        raise ContactError(f"联系日期 {on.isoformat()} 晚于今天（{today.isoformat()}）", "on")
    text = (note or "").strip() or None
    if text is not None and len(text) > MAX_NOTE:
        raise ContactError(f"备注最多 {MAX_NOTE} 个字（现有 {len(text)} 个字）", "note")
    return chosen, text


def _who(actor: Actor, staff: Staff | None, investigator: Investigator | None) -> dict[str, Any]:
    return {
        "actor_kind": actor.kind,
        "actor_id": actor.id,
        "actor_label": actor.label,
        "staff_id": staff.id if staff is not None else None,
        "investigator_id": investigator.id if investigator is not None else None,
    }


def _newest_update() -> Any:
    # A caller's outcome is the newest unless one dated later is there; an invite never wins.
    return (
        update(_PERSONS)
        .where(
            _PERSONS.c.id == bindparam("pid"),
            or_(
                _PERSONS.c.last_contact_on.is_(None),
                _PERSONS.c.last_contact_outcome == ContactOutcome.invited.value,
                _PERSONS.c.last_contact_on <= bindparam("on"),
            ),
        )
        .values(
            last_contact_on=bindparam("on"),
            last_contact_outcome=bindparam("outcome"),
            updated_at=bindparam("now"),
        )
    )


async def add_contact(
    session: AsyncSession,
    person: Person,
    *,
    outcome: ContactOutcome | str,
    on: dt.date,
    today: dt.date,
    actor: Actor,
    channel: str,
    note: str | None = None,
    staff: Staff | None = None,
    investigator: Investigator | None = None,
) -> Contact:
    """Record one contact with ``person`` (checked by :func:`check_contact`) and audit it."""
    chosen, text = check_contact(outcome, on, note, today=today)
    contact = Contact(
        person_id=person.id,
        contacted_on=on,
        outcome=chosen,
        note=text,
        channel=channel,
        **_who(actor, staff, investigator),
    )
    session.add(contact)
    await session.flush()
    await session.execute(
        _newest_update(), [{"pid": person.id, "on": on, "outcome": chosen.value, "now": utcnow()}]
    )
    await session.refresh(person, ["last_contact_on", "last_contact_outcome"])
    add_event(
        session,
        actor,
        "contact_recorded",
        person_id=person.id,
        channel=channel,
        reason=text,
        details={"contact_id": contact.id, "outcome": chosen.value, "on": on.isoformat()},
    )
    return contact


async def add_contacts(
    session: AsyncSession,
    entries: Sequence[ContactEntry],
    *,
    today: dt.date,
    actor: Actor,
    channel: str,
    source: str | None = None,
    staff: Staff | None = None,
    investigator: Investigator | None = None,
) -> int:
    """Record many contacts at once (a file); every entry is checked first, so a bad one
    raises ContactError before anything is written. Each is audited. Returns how many."""
    checked = [
        (entry, *check_contact(entry.outcome, entry.on, entry.note, today=today))
        for entry in entries
    ]
    who = _who(actor, staff, investigator)
    now = utcnow()
    # Oldest first: when one person has several entries, the newest is applied last.
    ordered = sorted(checked, key=lambda item: item[0].on)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        await session.execute(
            insert(_CONTACTS),
            [
                {
                    "person_id": entry.person_id,
                    "contacted_on": entry.on,
                    "outcome": outcome.value,
                    "note": note,
                    "channel": channel,
                    "created_at": now,
                    **who,
                }
                for entry, outcome, note in chunk
            ],
        )
        await session.execute(
            _newest_update(),
            [
                {"pid": entry.person_id, "on": entry.on, "outcome": outcome.value, "now": now}
                for entry, outcome, _note in chunk
            ],
        )
    for entry, outcome, note in checked:
        add_event(
            session,
            actor,
            "contact_recorded",
            person_id=entry.person_id,
            channel=channel,
            reason=note,
            details={"outcome": outcome.value, "on": entry.on.isoformat(), "source": source},
        )
    return len(checked)


async def mark_invited(
    session: AsyncSession,
    person_ids: Sequence[int],
    *,
    on: dt.date,
    actor: Actor,
    channel: str = "invite",
    staff: Staff | None = None,
) -> int:
    """Log an invite sent to each of the people never contacted before (the call list went
    out with their links); the others keep their newest contact. Audited per person, and once
    for the batch. Returns how many were newly marked."""
    who = _who(actor, staff, None)
    now = utcnow()
    marked = 0
    ids = sorted(set(person_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        fresh = (
            await session.scalars(
                select(Person.id).where(Person.id.in_(chunk), Person.last_contact_outcome.is_(None))
            )
        ).all()
        if not fresh:
            continue
        await session.execute(
            insert(_CONTACTS),
            [
                {
                    "person_id": pid,
                    "contacted_on": on,
                    "outcome": ContactOutcome.invited.value,
                    "note": None,
                    "channel": channel,
                    "created_at": now,
                    **who,
                }
                for pid in fresh
            ],
        )
        await session.execute(
            update(Person)
            .where(Person.id.in_(list(fresh)), Person.last_contact_outcome.is_(None))
            .values(last_contact_on=on, last_contact_outcome=ContactOutcome.invited, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        # Each person's trail says when the invite went out, as for any other contact.
        await session.execute(
            insert(_AUDIT),
            [
                {
                    "at": now,
                    "actor_kind": actor.kind,
                    "actor_id": actor.id,
                    "actor_label": actor.label,
                    "action": "contact_recorded",
                    "person_id": pid,
                    "channel": channel,
                    "details": {"outcome": ContactOutcome.invited.value, "on": on.isoformat()},
                }
                for pid in fresh
            ],
        )
        marked += len(fresh)
    add_event(
        session,
        actor,
        "invites_sent",
        channel=channel,
        details={"people": len(ids), "newly_invited": marked, "on": on.isoformat()},
    )
    return marked


async def contacts_of_person(session: AsyncSession, person_id: int) -> Sequence[Contact]:
    """A person's contact log, newest first."""
    result = await session.scalars(
        select(Contact)
        .where(Contact.person_id == person_id)
        .order_by(Contact.contacted_on.desc(), Contact.id.desc())
    )
    return result.all()
