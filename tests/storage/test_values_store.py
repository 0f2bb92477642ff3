"""The store's part of the value rules, on both engines: identity flags across records, the
survey's days given as a zone (storage reads no clock of its own), and the Telegram question
pointer kept without changing the record."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import reporting
from storage.db import alembic_config, ensure_schema, make_sessionmaker
from storage.models import Channel, FilledBy, Person, Record, RecordStatus
from storage.repositories import records as rec
from storage.repositories.actors import Actor
from storage.testing import temporary_database
from storage.types import frozen_time
from tests.storage.conftest import Factory

SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT = dt.datetime(2026, 12, 3, 16, 40, tzinfo=dt.UTC)  # 2026-12-04 00:40 in Beijing


def _state(number: str | None = None) -> dict[str, object]:
    answers = {"name": "林晓"} if number is None else {"name": "林晓", "id_number": number}
    return {"form_id": "f", "form_version": 1, "answers": answers, "position": "name"}


async def _submit(session: AsyncSession, person: Person, number: str, chat: int) -> Record:
    started = await rec.get_or_start_draft(
        session,
        person,
        form_id="f",
        form_version=1,
        filled_by=FilledBy.resident,
        state=_state(),
        actor=Actor.resident(chat),
        channel=Channel.telegram,
        chat_id=chat,
    )
    record = started.record
    await rec.submit(
        session,
        record,
        answers={"name": "林晓", "id_number": number},
        state=_state(number),
        actor=Actor.resident(chat),
        expected_version=record.version,
    )
    return record


async def test_identity_flags_across_persons_and_records(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    async with sessions() as session, session.begin():
        a = await factory.person(session, household="1", name="甲")
        b = await factory.person(session, household="2", name="乙")
        c = await factory.person(session, household="3", name="丙")
        stray = factory.id_number(1970)
        own = await _submit(session, c, c.id_number, 3)
        assert own.flags == []
        swapped = await _submit(session, a, b.id_number, 1)  # another roster person's
        assert swapped.flags == ["id_changed", "id_conflict"]
        assert swapped.answered_id_number == b.id_number
        theirs = await _submit(session, b, b.id_number, 2)  # their own, used elsewhere too
        assert theirs.flags == ["id_conflict"]
        staff = await factory.staff(session, "reviewer1", district=None)
        await rec.confirm(session, own, staff=staff)
        # A correction to a number nobody has: changed, not in conflict.
        await rec.correct(
            session,
            own,
            staff=staff,
            answers={"name": "林晓", "id_number": stray},
            state=_state(stray),
            reason="核实",
        )
        assert own.flags == ["id_changed"]
        ids = await reporting.queue(session, None, reporting.RecordFilter(flag="identity"))
        assert {r.id for r in ids.rows} == {swapped.id, theirs.id, own.id}
        none = await reporting.queue(session, None, reporting.RecordFilter(flag="none"))
        assert none.rows == []


async def test_days_are_the_given_zones(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    async with sessions() as session, session.begin():
        person = await factory.person(session)
        with frozen_time(NIGHT):
            record = await _submit(session, person, person.id_number, 9)
        assert record.submitted_at == NIGHT
    async with sessions() as session:
        daily = await reporting.daily_counts(session, None, zone=SHANGHAI)
        assert daily["submitted"] == {dt.date(2026, 12, 4): 1}
        daily = await reporting.daily_counts(session, None, zone=ZoneInfo("UTC"))
        assert daily["submitted"] == {dt.date(2026, 12, 3): 1}
        day = dt.date(2026, 12, 4)
        f = reporting.RecordFilter(date_from=day, date_to=day, zone=SHANGHAI)
        assert [r.id for r in (await reporting.queue(session, None, f)).rows] == [record.id]
        f = reporting.RecordFilter(date_from=day, date_to=day, zone=ZoneInfo("UTC"))
        assert (await reporting.queue(session, None, f)).rows == []
        with pytest.raises(ValueError, match="zone"):
            await reporting.queue(session, None, reporting.RecordFilter(date_from=day))


async def test_where_a_question_was_shown_is_kept_without_changing_the_record(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    async with sessions() as session, session.begin():
        person = await factory.person(session)
        record = (
            await rec.get_or_start_draft(
                session,
                person,
                form_id="f",
                form_version=1,
                filled_by=FilledBy.resident,
                state=_state(),
                actor=Actor.resident(1),
            )
        ).record
        record_id, version, updated = record.id, record.version, record.updated_at
        assert await rec.note_asked(session, record, version, 41)
        assert not await rec.note_asked(session, record, version, 57)  # the first place stays
        assert not await rec.note_asked(session, record, version + 1, 60)  # not this version
    async with sessions() as session:
        stored = await session.get(Record, record_id)
        assert stored is not None
        assert (stored.asked_version, stored.asked_message_id) == (version, 41)
        assert (stored.version, stored.updated_at, stored.status) == (
            version,
            updated,
            RecordStatus.draft,
        )


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
async def test_migration_0003_copies_the_answered_numbers_of_existing_records(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    async with temporary_database(url, migrate=True, directory=tmp_path) as engine:
        sessions = make_sessionmaker(engine)
        factory = Factory(sessions)
        async with sessions() as session, session.begin():
            person = await factory.person(session)
            record = await _submit(session, person, person.id_number, 4)
            record_id = record.id

        def downgrade(connection: Connection) -> None:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0002")

        async with engine.begin() as conn:
            await conn.run_sync(downgrade)
        await ensure_schema(engine)
        async with sessions() as session:
            stored = await session.get(Record, record_id)
            assert stored is not None and stored.answered_id_number == person.id_number
