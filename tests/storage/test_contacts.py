"""The contact log and who is still unreached: contacts, invites sent, counts per area and
investigator, person lists, households and the call list, on both engines."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import people
from storage.models import AuditEvent, Channel, Contact, ContactOutcome, FilledBy, Person
from storage.person_status import PersonStatus
from storage.repositories import contacts as ct
from storage.repositories.accounts import create_investigator
from storage.repositories.actors import Actor
from storage.repositories.areas import get_or_create_community
from storage.repositories.errors import ContactError
from storage.repositories.records import get_or_start_draft

if TYPE_CHECKING:
    from tests.storage.conftest import Factory

TODAY = dt.date(2014, 11, 20)
CALLER = Actor.system("电话组")


async def _contact(
    s: AsyncSession, person: Person, outcome: ContactOutcome, on: dt.date = TODAY
) -> Contact:
    return await ct.add_contact(
        s, person, outcome=outcome, on=on, today=TODAY, actor=CALLER, channel="console"
    )


async def test_a_contact_is_logged_audited_and_becomes_the_newest(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    async with sessions() as s, s.begin():
        person = await factory.person(s)
        staff = await factory.staff(s)
        contact = await ct.add_contact(
            s,
            person,
            outcome="no_answer",
            on=dt.date(2014, 11, 18),
            today=TODAY,
            actor=Actor.staff(staff),
            channel="console",
            note="  晚上再打  ",
            staff=staff,
        )
        assert (contact.note, contact.staff_id, contact.actor_kind) == (
            "晚上再打",
            staff.id,
            "staff",
        )
        assert person.last_contact_outcome == ContactOutcome.no_answer
        assert person.last_contact_on == dt.date(2014, 11, 18)
        # An older call entered late does not hide the newer one.
        await _contact(s, person, ContactOutcome.wrong_number, dt.date(2014, 11, 10))
        assert person.last_contact_outcome == ContactOutcome.no_answer
        await _contact(s, person, ContactOutcome.notified, TODAY)
        assert person.last_contact_outcome == ContactOutcome.notified
        log = await ct.contacts_of_person(s, person.id)
        assert [c.outcome for c in log] == ["notified", "no_answer", "wrong_number"]
        events = (
            await s.scalars(
                select(AuditEvent).where(
                    AuditEvent.person_id == person.id, AuditEvent.action == "contact_recorded"
                )
            )
        ).all()
        assert len(events) == 3 and events[0].reason == "晚上再打"
        assert events[0].details["outcome"] == "no_answer"


@pytest.mark.parametrize(
    ("outcome", "on", "note", "message"),
    [
        (
            "invited",
            TODAY,
            None,
            "联系结果应为 已通知、无人接听、号码错误、拒绝、已在外地参保 之一",
        ),
        ("maybe", TODAY, None, "联系结果应为"),
        ("notified", TODAY + dt.timedelta(days=1), None, "晚于今天"),
        ("notified", TODAY, "字" * 501, "备注最多 500 个字"),
    ],
)
async def test_bad_contacts_are_refused(
    sessions: async_sessionmaker[AsyncSession],
    factory: Factory,
    outcome: str,
    on: dt.date,
    note: str | None,
    message: str,
) -> None:
    async with sessions() as s, s.begin():
        person = await factory.person(s)
        with pytest.raises(ContactError, match=message):
            await ct.add_contact(
                s, person, outcome=outcome, on=on, today=TODAY, actor=CALLER, channel="x", note=note
            )
        assert await s.scalar(select(func.count()).select_from(Contact)) == 0
        assert person.last_contact_outcome is None


async def test_invites_mark_only_people_never_contacted(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    async with sessions() as s, s.begin():
        fresh = await factory.person(s, name="甲")
        called = await factory.person(s, name="乙")
        await _contact(s, called, ContactOutcome.no_answer, dt.date(2014, 11, 1))
        assert await ct.mark_invited(s, [fresh.id, called.id], on=TODAY, actor=CALLER) == 1
        assert await ct.mark_invited(s, [fresh.id], on=TODAY, actor=CALLER) == 0  # once
        await s.refresh(fresh)
        await s.refresh(called)
        assert (fresh.last_contact_outcome, fresh.last_contact_on) == ("invited", TODAY)
        assert called.last_contact_outcome == ContactOutcome.no_answer
        # A call after the invite replaces it, even one dated the day before.
        await _contact(s, fresh, ContactOutcome.refused, TODAY - dt.timedelta(days=1))
        assert fresh.last_contact_outcome == ContactOutcome.refused
        sent = (
            await s.scalars(select(AuditEvent).where(AuditEvent.action == "invites_sent"))
        ).all()
        assert [e.details["newly_invited"] for e in sent] == [1, 0]
        trail = (await s.scalars(select(AuditEvent).where(AuditEvent.person_id == fresh.id))).all()
        assert [e.details["outcome"] for e in trail] == ["invited", "refused"]


async def test_a_file_of_contacts_is_all_or_nothing(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    async with sessions() as s, s.begin():
        person = await factory.person(s)
        other = await factory.person(s, name="丙")
        entries = [
            ct.ContactEntry(person.id, ContactOutcome.notified, dt.date(2014, 11, 19)),
            ct.ContactEntry(person.id, ContactOutcome.no_answer, dt.date(2014, 11, 2), "白天"),
            ct.ContactEntry(other.id, ContactOutcome.insured_elsewhere, TODAY),
        ]
        with pytest.raises(ContactError):
            await ct.add_contacts(
                s,
                [*entries, ct.ContactEntry(other.id, ContactOutcome.invited, TODAY)],
                today=TODAY,
                actor=CALLER,
                channel="import",
            )
        assert await s.scalar(select(func.count()).select_from(Contact)) == 0
        n = await ct.add_contacts(
            s, entries, today=TODAY, actor=CALLER, channel="import", source="calls.csv"
        )
        assert n == 3
        await s.refresh(person)
        assert person.last_contact_outcome == ContactOutcome.notified  # the newest date wins
        audited = await s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "contact_recorded")
        )
        assert audited == 3


async def _draft(s: AsyncSession, person: Person) -> None:
    await get_or_start_draft(
        s,
        person,
        form_id="suzhou-canbao-2014",
        form_version=1,
        filled_by=FilledBy.resident,
        state={"answers": {}},
        actor=Actor.resident(1),
        channel=Channel.telegram,
        chat_id=1,
    )


async def test_counts_lists_households_and_the_call_list(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    async with sessions() as s, s.begin():
        a1 = await factory.person(s, name="甲一", household="0001")
        a2 = await factory.person(s, name="甲二", household="0001")
        a3 = await factory.person(s, name="甲三", household="0002")
        b1 = await factory.person(s, "姑苏区/平江街道/大儒巷社区", "0101", "乙一")
        c1 = await factory.person(s, "高新区/狮山街道/狮山社区", "0201", "丙一")
        await _contact(s, a2, ContactOutcome.no_answer, dt.date(2014, 11, 3))
        await _contact(s, a3, ContactOutcome.insured_elsewhere)
        await ct.mark_invited(s, [b1.id], on=dt.date(2014, 11, 1), actor=CALLER)
        await _draft(s, c1)
        community = await get_or_create_community(s, "姑苏区", "平江街道", "平江路社区")
        await create_investigator(s, "周调查", [community])
        ids = {p.name: p.id for p in (a1, a2, a3, b1, c1)}
        gusu = a1.district_id

    async with sessions() as s:
        total, districts = await people.reach(s, None)
        assert total.target == 5 and total.not_contacted == 1
        assert total.not_contacted_share == pytest.approx(0.2)
        assert [(d.name, d.target, d.not_contacted) for d in districts] == [
            ("姑苏区", 4, 1),
            ("高新区", 1, 0),
        ]
        assert districts[1].count(PersonStatus.in_progress) == 1
        # District staff see their district only.
        scoped, lines = await people.reach(s, gusu)
        assert scoped.target == 4 and [line.name for line in lines] == ["姑苏区"]
        community_total, none = await people.reach(s, None, "community", a1.community_id)
        assert none == [] and community_total.counts == {
            PersonStatus.not_contacted: 1,
            PersonStatus.contacted: 2,
        }
        (line,) = await people.investigator_reach(s, None)
        assert (line.name, line.target, line.not_contacted) == ("周调查", 3, 1)
        assert await people.investigator_reach(s, c1.district_id) == []

        page = await people.person_page(s, None, people.PersonFilter(community_id=a1.community_id))
        assert [r.name for r in page.rows] == ["甲一", "甲二", "甲三"]
        assert page.rows[1].last_contact_outcome == ContactOutcome.no_answer
        unreached = await people.person_page(
            s, gusu, people.PersonFilter(statuses=(PersonStatus.not_contacted,))
        )
        assert [r.name for r in unreached.rows] == ["甲一"]
        mine = await people.person_page(s, None, people.PersonFilter(investigator_id=line.id))
        assert mine.total == 3
        paged = await people.person_page(s, None, people.PersonFilter(), page=2, per_page=2)
        assert (paged.total, paged.pages, [r.name for r in paged.rows]) == (5, 3, ["甲三", "乙一"])
        assert await people.person_row(s, gusu, ids["丙一"]) is None  # out of scope
        row = await people.person_row(s, None, ids["丙一"])
        assert row is not None and row.status == PersonStatus.in_progress and row.record_id

        house = await people.household_members(s, a1.household_id)
        assert house is not None
        assert [m.person.name for m in house.missing] == ["甲一", "甲二"]
        assert await people.household_members(s, a1.household_id, scope=c1.district_id) is None
        lines = await people.household_lines(s, [a1.community_id])
        assert [(h.number, h.size, h.complete) for h in lines] == [
            ("0001", 2, False),
            ("0002", 1, False),
        ]

        calls = await people.call_list(s, None, people.PersonFilter())
        # Never contacted first, then the failed call, then the invited; no form, not insured.
        assert [c.person.name for c in calls] == ["甲一", "甲二", "乙一"]
        everyone = await people.call_list(s, None, people.PersonFilter(), everyone=True)
        assert len(everyone) == 5
