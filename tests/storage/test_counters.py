"""The progress pages' counters (storage.counters) always equal a full recount, on both
engines: every status path, every kind of change (ORM, bulk statements, the roster import),
rolled-back changes, and ``canbao db check``."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import main
from bot.synthetic import make_id_number
from storage import counters, people, reporting
from storage.db import ensure_schema, make_engine, make_sessionmaker
from storage.models import (
    ContactOutcome,
    FilledBy,
    Investigator,
    Person,
    Record,
    RecordStatus,
)
from storage.person_status import PersonStatus
from storage.repositories.roster import RosterRow, import_roster
from storage.types import utcnow
from tests.storage.test_person_status import OUTCOMES, WITH_RECORD, WITHOUT_RECORD

if TYPE_CHECKING:
    from tests.storage.conftest import Factory

AT = dt.datetime(2014, 11, 3, 17, 30, tzinfo=dt.UTC)  # 01:30 on 4 November in Beijing


def _record(
    person: Person,
    status: RecordStatus,
    collection: str | None,
    *,
    investigator: Investigator | None = None,
) -> Record:
    handed_in = status != RecordStatus.draft
    return Record(
        person_id=person.id,
        live_person_id=person.id,
        form_id="suzhou-canbao-2014",
        form_version=1,
        status=status,
        filled_by=FilledBy.investigator if investigator else FilledBy.resident,
        investigator_id=investigator.id if investigator else None,
        district_id=person.district_id,
        street_id=person.street_id,
        community_id=person.community_id,
        household_id=person.household_id,
        collection_status=collection,
        not_collected_reason="separated" if collection == "not_collected" else None,
        submitted_at=AT if handed_in else None,
        confirmed_at=AT + dt.timedelta(days=1) if status == RecordStatus.confirmed else None,
        state={},
        flags=[],
    )


async def _agree(sessions: async_sessionmaker[AsyncSession]) -> counters.Counts:
    async with sessions() as s:
        assert await counters.check(s) == []
        return await counters.stored(s)


async def _investigator(s: AsyncSession, name: str = "调查员甲") -> Investigator:
    investigator = Investigator(name=name, mobile="13900001111")
    s.add(investigator)
    await s.flush()
    return investigator


async def test_every_status_path_is_counted_as_the_rule_says(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    expected: Counter[str] = Counter()
    async with sessions() as s, s.begin():
        investigator = await _investigator(s)
        n = 0
        for outcome in OUTCOMES:
            person = await factory.person(s, household=f"{n:06d}", name=f"测试{n}")
            person.last_contact_outcome = outcome
            expected[WITHOUT_RECORD[outcome]] += 1
            n += 1
        for (status, collection), outcome in itertools.product(WITH_RECORD, OUTCOMES):
            person = await factory.person(s, household=f"{n % 5:06d}", name=f"测试{n}")
            person.last_contact_outcome = outcome
            await s.flush()
            s.add(_record(person, status, collection, investigator=investigator if n % 2 else None))
            expected[WITH_RECORD[(status, collection)]] += 1
            n += 1
    stored = await _agree(sessions)
    by_status: Counter[str] = Counter()
    for (_community, status), count in stored.persons.items():
        by_status[status] += count
    assert by_status == {str(k): v for k, v in expected.items()}

    # What the pages read is the counters' sum, and what counting the rows gives.
    async with sessions() as s:
        total, _children = await reporting.progress(s, None)
        reach, _lines = await people.reach(s, None)
        daily = await reporting.daily_counts(s, None, zone=ZoneInfo("Asia/Shanghai"))
        by_investigator = await reporting.investigator_progress(s, None)
    assert total.target == sum(expected.values()) == sum(reach.counts.values())
    handed_in = sum(1 for status, _c in WITH_RECORD if status != RecordStatus.draft)
    assert total.handed_in == handed_in * len(OUTCOMES)
    assert sum(daily["submitted"].values()) == total.handed_in
    assert set(daily["submitted"]) == {dt.date(2014, 11, 4)}
    assert [line.name for line in by_investigator] == ["调查员甲"]


async def test_every_kind_of_change_keeps_the_counters_right(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    async with sessions() as s, s.begin():
        investigator = await _investigator(s)
        persons = [
            await factory.person(s, household=f"{i // 2:06d}", name=f"测试{i}") for i in range(8)
        ]
        other = await factory.person(
            s, path="高新区/狮山街道/狮山社区", household="000009", name="外区"
        )
        ids = [p.id for p in persons]
    await _agree(sessions)

    steps = []

    async def start_drafts(s: AsyncSession) -> None:
        for person in (await s.scalars(select(Person).where(Person.id.in_(ids[:6])))).all():
            s.add(_record(person, RecordStatus.draft, None))

    async def submit(s: AsyncSession) -> None:
        for record in (await s.scalars(select(Record).where(Record.person_id.in_(ids[:4])))).all():
            record.status = RecordStatus.submitted
            record.submitted_at = AT
            record.collection_status = "collected"

    async def review(s: AsyncSession) -> None:
        records = (await s.scalars(select(Record).order_by(Record.id))).all()
        records[0].status = RecordStatus.confirmed
        records[0].confirmed_at = AT
        records[1].status = RecordStatus.returned
        records[2].collection_status = "not_collected"
        records[2].not_collected_reason = "away"
        records[3].investigator_id = investigator.id

    async def discard(s: AsyncSession) -> None:
        record = await s.scalar(select(Record).where(Record.person_id == ids[5]))
        assert record is not None
        record.discarded_at = utcnow()
        record.live_person_id = None

    async def contacts_in_bulk(s: AsyncSession) -> None:
        await s.execute(
            update(Person)
            .where(Person.id.in_(ids[4:]))
            .values(last_contact_outcome=ContactOutcome.invited)
            .execution_options(synchronize_session=False)
        )
        await s.execute(
            update(Person)
            .where(Person.id == ids[7])
            .values(last_contact_outcome=ContactOutcome.refused)
        )

    async def move_and_drop(s: AsyncSession) -> None:
        # One person moves to the other district's household, another leaves the roster.
        moved = await s.get(Person, ids[0])
        target = await s.get(Person, other.id)
        assert moved is not None and target is not None
        moved.household_id = target.household_id
        moved.community_id = target.community_id
        moved.street_id = target.street_id
        moved.district_id = target.district_id
        dropped = await s.get(Person, ids[6])
        assert dropped is not None
        dropped.on_roster = False

    async def records_in_bulk(s: AsyncSession) -> None:
        await s.execute(
            update(Record)
            .where(Record.status == RecordStatus.submitted)
            .values(status=RecordStatus.confirmed, confirmed_at=AT)
            .execution_options(synchronize_session=False)
        )

    async def delete_rows(s: AsyncSession) -> None:
        await s.execute(delete(Record).where(Record.person_id == ids[5]))
        await s.execute(delete(Person).where(Person.id == ids[5]))

    steps = [
        start_drafts,
        submit,
        review,
        discard,
        contacts_in_bulk,
        move_and_drop,
        records_in_bulk,
        delete_rows,
    ]
    for step in steps:
        async with sessions() as s, s.begin():
            await step(s)
        stored = await _agree(sessions)
    assert stored.persons  # the last step's counters are not all zero
    # A change rolled back takes its counts with it.
    before = await _agree(sessions)
    async with sessions() as s, s.begin():
        await s.execute(update(Record).values(status=RecordStatus.returned))
        await s.execute(update(Person).values(last_contact_outcome=ContactOutcome.notified))
        assert await counters.stored(s) != before  # inside: the counters moved with it
        await s.rollback()
    assert await _agree(sessions) == before


async def test_the_roster_import_is_counted(sessions: async_sessionmaker[AsyncSession]) -> None:
    born = dt.date(1980, 5, 1)

    def row(n: int, community: str, household: str) -> RosterRow:
        return RosterRow(
            district="姑苏区",
            street="平江街道",
            community=community,
            household=household,
            name=f"居民{n}",
            id_number=make_id_number(born + dt.timedelta(days=n), "M", "320508", seq=n),
            mobile=None,
        )

    first = [row(n, "平江路社区", f"{n // 3:06d}") for n in range(9)]
    async with sessions() as s, s.begin():
        await import_roster(s, first)
    counts = await _agree(sessions)
    assert sum(counts.persons.values()) == 9
    assert sum(h for h, _v in counts.communities.values()) == 3
    # Again, with three people moved to another community's household.
    again = first[:6] + [row(n, "观前社区", "000100") for n in range(6, 9)]
    async with sessions() as s, s.begin():
        await import_roster(s, again)
    counts = await _agree(sessions)
    assert sorted(h for h, _v in counts.communities.values()) == [1, 2]


def test_db_check_finds_counters_that_drifted_and_repair_rebuilds_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'canbao.db'}"

    async def setup() -> None:
        engine = make_engine(url)
        try:
            await ensure_schema(engine)  # the migrations: tables, triggers, first count
            sessions = make_sessionmaker(engine)
            async with sessions() as s, s.begin():
                await import_roster(
                    s,
                    [
                        RosterRow(
                            district="姑苏区",
                            street="平江街道",
                            community="平江路社区",
                            household="000001",
                            name="居民",
                            id_number=make_id_number(dt.date(1980, 5, 1), "M", "320508", seq=1),
                            mobile=None,
                        )
                    ],
                )
            async with sessions() as s, s.begin():
                # Written behind the triggers' back (as a hand-made fix in a SQL shell would).
                await s.execute(update(counters.SummaryPersons).values(n=5))
        finally:
            await engine.dispose()

    asyncio.run(setup())
    assert main(["db", "check", "--database-url", url]) == 1
    out = capsys.readouterr().out
    assert "进度统计有 1 处与逐条重新统计不一致" in out and "5 ≠ recount 1" in out
    assert main(["db", "check", "--repair", "--database-url", url]) == 0
    assert "已按逐条重新统计的结果重建进度统计" in capsys.readouterr().out
    assert main(["db", "check", "--database-url", url]) == 0
    assert "进度统计与逐条重新统计一致" in capsys.readouterr().out


def test_status_codes_are_the_person_status_codes() -> None:
    # The triggers write the codes of storage.person_status; every one of them appears.
    ddl = " ".join(counters.trigger_ddl("sqlite"))
    for status in PersonStatus:
        assert f"'{status}'" in ddl
