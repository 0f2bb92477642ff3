"""What the investigator's page draws, as JSON: the household list, a household, a person, and
a record being collected (the chat).

Scoped to the investigator: every function takes the investigator and answers None for a
household, person or record outside their communities (the caller turns that into a 404).
ID and mobile numbers are masked everywhere; names are shown, as on the roster the
investigator carries.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock, returns
from bot.reference import reference
from bot.telegram.i18n import gettext as _
from bot.telegram.labels import describe, member_status_text, outcome_labels
from bot.webchat import formtext
from bot.webchat.present import conversation_view
from bot.webchat.store import form_of
from flows import Conversation, Form, mask_id, mask_mobile
from storage import people
from storage.models import FilledBy, Investigator, Person, Record, RecordStatus
from storage.person_status import DONE, RECORDABLE_OUTCOMES
from storage.repositories import records as records_repo
from storage.repositories.contacts import contacts_of_person

PER_PAGE = 20


def community_ids(investigator: Investigator) -> list[int]:
    """The communities the investigator is responsible for (their whole scope)."""
    return [c.id for c in investigator.communities]


def _last_contact(persons: list[Person]) -> dict[str, str] | None:
    dated = [p for p in persons if p.last_contact_on is not None]
    if not dated:
        return None
    newest = max(dated, key=lambda p: (p.last_contact_on, p.id))
    assert newest.last_contact_on is not None
    outcome = newest.last_contact_outcome
    return {
        "on": newest.last_contact_on.isoformat(),
        "name": newest.name,
        "outcome": outcome_labels()[outcome] if outcome is not None else "",
    }


async def households(
    session: AsyncSession, form: Form, investigator: Investigator, *, page: int, query: str
) -> dict[str, Any]:
    """One page of the investigator's households, each with who is still missing."""
    lines, total = await people.household_page(
        session, community_ids(investigator), query=query, page=page, per_page=PER_PAGE
    )
    rows = []
    for line in lines:
        found = await people.household_members(session, line.id)
        assert found is not None
        rows.append(
            {
                "id": line.id,
                "number": line.number,
                "community": line.community,
                "size": line.size,
                "complete": line.complete,
                "missing": [
                    {"name": m.person.name, "status": member_status_text(form, m)}
                    for m in found.missing
                ],
                "last_contact": _last_contact([m.person for m in found.members]),
            }
        )
    pages = max((total + PER_PAGE - 1) // PER_PAGE, 1)
    returned = []
    for rec in await records_repo.records_of_investigator(
        session, investigator.id, [RecordStatus.returned]
    ):
        who = await session.get(Person, rec.person_id)
        if who is not None and owns(investigator, rec):
            returned.append(
                {"person": who.id, "name": who.name, "comment": rec.return_comment or ""}
            )
    return {
        "kind": "households",
        # Returned by staff: to be collected again (the marked questions are asked first).
        "returned": returned,
        "page": page,
        "pages": pages,
        "total": total,
        "query": query,
        "rows": rows,
    }


def completeness(found: people.HouseholdMembers) -> dict[str, Any]:
    """What is left in a household (户不漏人), or that it is complete."""
    left = found.missing
    number = found.household.number
    if not left:
        text = _("✅ 户号 {number} 已全部完成（户不漏人）。").format(number=number)
    else:
        names = "、".join(f"{m.person.name}（{describe(m.status)}）" for m in left)
        text = _("户号 {number} 还差 {n} 人：{names}").format(
            number=number, n=len(left), names=names
        )
    return {"complete": not left, "text": text}


async def household(
    session: AsyncSession, form: Form, investigator: Investigator, household_id: int
) -> dict[str, Any] | None:
    """A household of the investigator's communities: its people, their status, what is left."""
    found = await people.household_members(session, household_id)
    if found is None or found.community.id not in community_ids(investigator):
        return None
    contacts = people.insured_contacts([m.person for m in found.members])
    return {
        "kind": "household",
        "id": found.household.id,
        "number": found.household.number,
        "community": found.community.name,
        "members": [
            {
                "id": m.person.id,
                "name": m.person.name,
                "id_number": mask_id(m.person.id_number),
                "on_roster": m.person.on_roster,
                "status": member_status_text(form, m),
                "done": m.done,
            }
            for m in found.members
        ],
        "insured_contacts": [
            {
                "name": c["name"],
                "relation": c["relation"],
                "phone": mask_mobile(c["phone"]) if c["phone"] else "",
            }
            for c in contacts
        ],
        "last_contact": _last_contact([m.person for m in found.members]),
        "completeness": completeness(found),
    }


async def person_in_scope(
    session: AsyncSession, investigator: Investigator, person_id: int
) -> Person | None:
    """The person when they live in one of the investigator's communities."""
    person = await session.get(Person, person_id)
    if person is None or person.community_id not in community_ids(investigator):
        return None
    return person


def owns(investigator: Investigator, record: Record) -> bool:
    """Whether the investigator collects this record (their own, live)."""
    return (
        record.discarded_at is None
        and record.filled_by == FilledBy.investigator
        and record.investigator_id == investigator.id
        and record.community_id in community_ids(investigator)
    )


async def person(
    session: AsyncSession, form: Form, investigator: Investigator, person_id: int
) -> dict[str, Any] | None:
    """One person: roster data (masked), status, the contact log, whether to collect."""
    found_person = await person_in_scope(session, investigator, person_id)
    if found_person is None:
        return None
    found = await people.household_members(session, found_person.household_id)
    assert found is not None
    member = next(m for m in found.members if m.person.id == person_id)
    record = member.record
    labels = outcome_labels()
    log = await contacts_of_person(session, person_id)
    mine = record is not None and owns(investigator, record)
    return {
        "kind": "person",
        "id": found_person.id,
        "name": found_person.name,
        "id_number": mask_id(found_person.id_number),
        "mobile": mask_mobile(found_person.mobile) if found_person.mobile else "",
        "residence": found_person.residence_address or "",
        "on_roster": found_person.on_roster,
        "household": {"id": found.household.id, "number": found.household.number},
        "community": found.community.name,
        "status": member_status_text(form, member),
        "done": member.done,
        # 采集 opens a new record or continues the investigator's own draft; another filler's
        # live record is refused when pressed (the store's duplicate guard says by whom).
        "can_collect": member.status not in DONE
        or (mine and record is not None and record.editable),
        "record": None
        if record is None
        else {"id": record.id, "mine": mine, "reference": reference(record.id)},
        "contacts": [
            {
                "on": c.contacted_on.isoformat(),
                "outcome": labels[c.outcome],
                "by": c.actor_label,
                "note": c.note or "",
            }
            for c in log
        ],
        "outcomes": [{"code": o.value, "label": labels[o]} for o in RECORDABLE_OUTCOMES],
        "today": clock.today().isoformat(),
    }


async def record(
    session: AsyncSession, form: Form, investigator: Investigator, rec: Record, locale: str
) -> dict[str, Any]:
    """The chat of a record the investigator collects: the current question, the review, or
    (handed in) the household's done screen."""
    found = await people.household_members(session, rec.household_id)
    assert found is not None
    who = next((m.person for m in found.members if m.person.id == rec.person_id), None)
    assert who is not None
    head = {
        "record_id": rec.id,
        "version": rec.version,
        "reference": reference(rec.id),
        "person": {"id": who.id, "name": who.name, "id_number": mask_id(who.id_number)},
        "household": {"id": found.household.id, "number": found.household.number},
    }
    if not rec.editable:
        return {
            "kind": "done",
            **head,
            "status": str(rec.status),
            "completeness": completeness(found),
        }
    conv = Conversation.restore(form_of(rec, form), rec.state)
    view: dict[str, Any] = {"kind": "record", **head, **conversation_view(conv)}
    if rec.status == RecordStatus.returned:
        view["returned"] = {
            "comment": rec.return_comment or "",
            "fields": returns.field_labels(form, rec.return_fields or []),
        }
    return formtext.translate_view(view, locale)
