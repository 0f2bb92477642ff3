"""Records: the status rules, revisions, duplicate guard, audit and outbox, on both engines."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import AuditEvent, Channel, FilledBy, Outbox, Record, RecordStatus
from storage.repositories import records as rec
from storage.repositories.accounts import create_investigator
from storage.repositories.actors import Actor
from storage.repositories.areas import find_community
from storage.repositories.audit import events_for_record
from storage.repositories.errors import (
    ReadOnlyError,
    ScopeError,
    TransitionError,
)

if TYPE_CHECKING:
    from tests.storage.conftest import Factory

FORM = {"form_id": "suzhou-canbao-2014", "form_version": 1}
ANSWERS = {
    "name": "林晓",
    "insured_status": "never",
    "current_status": "employed",
    "workplace_name": "苏州某某有限公司",
    "uninsured_reasons": ["employer_uninsured"],
}


def state(**answers: object) -> dict[str, object]:
    return {**FORM, "answers": dict(answers), "position": "name", "history": []}


async def start_resident(session: AsyncSession, person, chat: int = 555):  # type: ignore[no-untyped-def]
    return await rec.get_or_start_draft(
        session,
        person,
        form_id="suzhou-canbao-2014",
        form_version=1,
        filled_by=FilledBy.resident,
        state=state(),
        actor=Actor.resident(chat),
        channel=Channel.telegram,
        chat_id=chat,
    )


async def test_draft_submit_return_resubmit_confirm(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    async with sessions() as s, s.begin():
        person = await factory.person(s)
        staff = await factory.staff(s)
        started = await start_resident(s, person)
        assert started.outcome == "started"
        record = started.record
        assert record.status == RecordStatus.draft and record.version == 1
        await rec.save_state(s, record, state(name="林晓"), expected_version=1)
        assert record.version == 2
        revision = await rec.submit(
            s,
            record,
            answers=ANSWERS,
            state=state(**ANSWERS),
            actor=Actor.resident(555),
            expected_version=2,
            channel="telegram",
            flags=["age_employment"],
        )
        assert revision.n == 1
        assert record.status == RecordStatus.submitted
        assert record.insured_status == "never"
        assert record.employer_name == "苏州某某有限公司"
        assert record.flags == ["age_employment"]

        with pytest.raises(ReadOnlyError):
            await rec.save_state(s, record, state(), expected_version=record.version)

        await rec.return_record(
            s, record, staff=staff, comment="工作单位名称不完整", fields=["workplace_name"]
        )
        assert record.status == RecordStatus.returned
        assert record.return_fields == ["workplace_name"]
        fixed = {**ANSWERS, "workplace_name": "苏州某某科技有限公司"}
        await rec.save_state(s, record, state(**fixed), expected_version=record.version)
        second = await rec.submit(
            s,
            record,
            answers=fixed,
            state=state(**fixed),
            actor=Actor.resident(555),
            expected_version=record.version,
        )
        assert second.n == 2 and record.return_fields is None and record.flags == []
        await rec.confirm(s, record, staff=staff)
        assert record.status == RecordStatus.confirmed
        assert record.confirmed_by == staff.id and record.confirmed_at is not None

        # Nothing entered is lost: both versions are kept.
        kept = await rec.revisions(s, record.id)
        assert [r.answers["workplace_name"] for r in kept] == [
            "苏州某某有限公司",
            "苏州某某科技有限公司",
        ]
        actions = [e.action for e in await events_for_record(s, record.id)]
        assert actions == ["draft_started", "submitted", "returned", "resubmitted", "confirmed"]
        assert {e.actor_kind for e in await events_for_record(s, record.id)} == {
            "resident",
            "staff",
        }

        # The chat user was told about the return and the confirmation.
        sent = (await s.scalars(select(Outbox).order_by(Outbox.id))).all()
        assert [o.kind for o in sent] == ["record_returned", "record_confirmed"]
        assert sent[0].chat_id == "555" and "工作单位名称不完整" in sent[0].payload["text"]
        assert sent[0].payload["fields"] == ["workplace_name"]


async def test_transitions_refused(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    async with sessions() as s, s.begin():
        person = await factory.person(s)
        staff = await factory.staff(s)
        record = (await start_resident(s, person)).record
        with pytest.raises(TransitionError):
            await rec.confirm(s, record, staff=staff)
        with pytest.raises(TransitionError):
            await rec.return_record(s, record, staff=staff, comment="x")
        await rec.submit(
            s, record, answers=ANSWERS, state=state(), actor=Actor.resident(1), expected_version=1
        )
        with pytest.raises(TransitionError):
            await rec.submit(
                s,
                record,
                answers=ANSWERS,
                state=state(),
                actor=Actor.resident(1),
                expected_version=record.version,
            )
        with pytest.raises(TransitionError, match="写明"):
            await rec.return_record(s, record, staff=staff, comment="  ")
        with pytest.raises(TransitionError):
            await rec.correct(s, record, staff=staff, answers=ANSWERS, state=state(), reason="typo")


async def test_confirmed_record_changes_only_by_correction_with_reason(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    async with sessions() as s, s.begin():
        person = await factory.person(s)
        staff = await factory.staff(s)
        record = (await start_resident(s, person)).record
        await rec.submit(
            s, record, answers=ANSWERS, state=state(), actor=Actor.resident(1), expected_version=1
        )
        await rec.confirm(s, record, staff=staff)
        with pytest.raises(ReadOnlyError):
            await rec.save_state(s, record, state(), expected_version=record.version)
        with pytest.raises(TransitionError, match="原因"):
            await rec.correct(s, record, staff=staff, answers=ANSWERS, state=state(), reason="")
        corrected = {**ANSWERS, "current_status": "flexible"}
        revision = await rec.correct(
            s, record, staff=staff, answers=corrected, state=state(), reason="电话核实为灵活就业"
        )
        assert revision.n == 2 and revision.reason == "电话核实为灵活就业"
        assert record.status == RecordStatus.confirmed and record.current_status == "flexible"
        await rec.mark_enrolled(
            s, record, staff=staff, enrolled_on=dt.date(2014, 11, 20), insurance="居民医保"
        )
        assert record.enrolled_at == dt.date(2014, 11, 20)
        actions = [e.action for e in await events_for_record(s, record.id)]
        assert actions[-2:] == ["corrected", "enrolled"]


async def test_duplicate_guard_finds_first_record_and_says_who(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    async with sessions() as s, s.begin():
        person = await factory.person(s)
        community = await find_community(s, "姑苏区/平江街道/平江路社区")
        assert community is not None
        investigator, _ = await create_investigator(s, "周敏", [community])
        first = await rec.get_or_start_draft(
            s,
            person,
            form_id="suzhou-canbao-2014",
            form_version=1,
            filled_by=FilledBy.investigator,
            state=state(),
            actor=Actor.investigator(investigator),
            investigator=investigator,
        )
        assert first.outcome == "started"
        version = first.record.version

        # The resident opens their invite later: the investigator's record is found.
        second = await start_resident(s, person, chat=777)
        assert second.outcome == "duplicate"
        assert second.record.id == first.record.id
        assert second.who == "调查员 周敏"
        assert second.when == first.record.created_at
        await s.refresh(second.record)
        assert second.record.duplicate_attempts == 1
        # Counting the attempt does not disturb the investigator's editing.
        assert second.record.version == version

        # The same investigator comes back: resumed, not duplicated.
        again = await rec.get_or_start_draft(
            s,
            person,
            form_id="suzhou-canbao-2014",
            form_version=1,
            filled_by=FilledBy.investigator,
            state=state(),
            actor=Actor.investigator(investigator),
            investigator=investigator,
        )
        assert again.outcome == "resumed" and again.record.id == first.record.id
        audit = (await s.scalars(select(AuditEvent.action).order_by(AuditEvent.id))).all()
        assert "duplicate_attempt" in audit

        # A discarded draft frees the person for a new record.
        await rec.discard_draft(
            s, first.record, actor=Actor.investigator(investigator), reason="选错了人"
        )
        fresh = await start_resident(s, person, chat=777)
        assert fresh.outcome == "started" and fresh.record.id != first.record.id


async def test_resident_resumes_from_another_chat_and_notifications_follow(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    async with sessions() as s, s.begin():
        person = await factory.person(s)
        first = await start_resident(s, person, chat=1)
        again = await start_resident(s, person, chat=2)
        assert again.outcome == "resumed" and again.record.id == first.record.id
        assert again.record.notify_chat_id == "2"


async def test_off_roster_person_is_flagged(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    from storage.repositories.persons import add_person_off_roster

    async with sessions() as s, s.begin():
        await factory.person(s)
        community = await find_community(s, "姑苏区/平江街道/平江路社区")
        assert community is not None
        investigator, _ = await create_investigator(s, "周敏", [community])
        person, created = await add_person_off_roster(
            s,
            community=community,
            household_number="000099",
            name="新来的",
            id_number=factory.id_number(),
            investigator=investigator,
        )
        assert created and not person.on_roster
        same, created_again = await add_person_off_roster(
            s,
            community=community,
            household_number="000099",
            name="新来的",
            id_number=person.id_number.lower(),
            investigator=investigator,
        )
        assert same.id == person.id and not created_again
        started = await rec.get_or_start_draft(
            s,
            person,
            form_id="suzhou-canbao-2014",
            form_version=1,
            filled_by=FilledBy.investigator,
            state=state(),
            actor=Actor.investigator(investigator),
            investigator=investigator,
        )
        assert started.record.flags == [rec.FLAG_NOT_ON_ROSTER]
        await rec.submit(
            s,
            started.record,
            answers=ANSWERS,
            state=state(),
            actor=Actor.investigator(investigator),
            expected_version=started.record.version,
            flags=["w1"],
        )
        assert started.record.flags == ["not_on_roster", "w1"]


async def test_district_staff_cannot_act_on_other_district(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    async with sessions() as s, s.begin():
        person = await factory.person(s, path="高新区/狮山街道/狮山社区")
        gusu = await factory.staff(s, "gusu", "姑苏区")
        city = await factory.staff(s, "city", None)
        record = (await start_resident(s, person)).record
        await rec.submit(
            s, record, answers=ANSWERS, state=state(), actor=Actor.resident(1), expected_version=1
        )
        with pytest.raises(ScopeError):
            await rec.confirm(s, record, staff=gusu)
        with pytest.raises(ScopeError):
            await rec.return_record(s, record, staff=gusu, comment="x")
        assert await rec.confirm_unflagged(s, [record.id], staff=gusu) == []
        assert await rec.confirm_unflagged(s, [record.id], staff=city) == [record.id]


async def test_bulk_confirm_skips_flagged(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    async with sessions() as s, s.begin():
        staff = await factory.staff(s)
        ids = []
        for i, flags in enumerate([[], ["age_employment"], []]):
            person = await factory.person(s, household=f"{i:06d}")
            record = (await start_resident(s, person, chat=100 + i)).record
            await rec.submit(
                s,
                record,
                answers=ANSWERS,
                state=state(),
                actor=Actor.resident(1),
                expected_version=1,
                flags=flags,
            )
            ids.append(record.id)
        assert await rec.confirm_unflagged(s, ids, staff=staff) == [ids[0], ids[2]]
        statuses = (
            await s.scalars(select(Record.status).where(Record.id.in_(ids)).order_by(Record.id))
        ).all()
        assert statuses == ["confirmed", "submitted", "confirmed"]


async def test_migrate_drafts_by_explicit_rule(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    async with sessions() as s, s.begin():
        draft = (await start_resident(s, await factory.person(s, household="1"))).record
        done = (await start_resident(s, await factory.person(s, household="2"), chat=9)).record
        await rec.submit(
            s, done, answers=ANSWERS, state=state(), actor=Actor.resident(9), expected_version=1
        )

        def to_v2(old: dict[str, object]) -> dict[str, object]:
            return {**old, "form_version": 2}

        n = await rec.migrate_drafts(
            s,
            form_id="suzhou-canbao-2014",
            from_version=1,
            to_version=2,
            transform=to_v2,
            actor=Actor.system(),
        )
        assert n == 1
        assert draft.form_version == 2 and draft.state["form_version"] == 2
        assert done.form_version == 1
        count = await s.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "migrated")
        )
        assert count == 1


async def test_submitting_withdraws_pending_reminders_but_not_other_messages(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    from storage.repositories import outbox

    async with sessions() as s, s.begin():
        person = await factory.person(s)
        record = (await start_resident(s, person)).record
        for kind in ("reminder_idle", "reminder_deadline", "returned"):
            await outbox.enqueue(
                s,
                channel=Channel.telegram,
                chat_id="555",
                kind=kind,
                payload={"text": kind},
                dedup_key=f"{kind}:{record.id}",
                record_id=record.id,
            )
        await rec.submit(
            s,
            record,
            answers=ANSWERS,
            state=state(**ANSWERS),
            actor=Actor.resident(555),
            expected_version=record.version,
            channel="telegram",
        )
    async with sessions() as s, s.begin():
        due = await outbox.claim_due(s, now=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5))
    assert [row.kind for row in due] == ["returned"]
