"""A person's one status: every path through the rule, the Python function and the SQL
expression agreeing on each, on both engines."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import ContactOutcome, FilledBy, Person, Record, RecordStatus
from storage.person_status import (
    DONE,
    STATUS_LABELS,
    PersonStatus,
    person_status,
    person_status_sql,
    status_label,
    status_of,
)
from storage.types import utcnow

if TYPE_CHECKING:
    from tests.storage.conftest import Factory

# (live record status, 采集状态 on it) → status, whatever the contact log says.
WITH_RECORD = {
    (RecordStatus.draft, None): PersonStatus.in_progress,
    (RecordStatus.draft, "not_collected"): PersonStatus.in_progress,
    (RecordStatus.submitted, None): PersonStatus.submitted,  # a resident's own form
    (RecordStatus.submitted, "collected"): PersonStatus.submitted,
    (RecordStatus.submitted, "not_collected"): PersonStatus.not_collected,
    (RecordStatus.returned, "collected"): PersonStatus.returned,
    (RecordStatus.returned, "not_collected"): PersonStatus.returned,
    (RecordStatus.confirmed, None): PersonStatus.confirmed,
    (RecordStatus.confirmed, "not_collected"): PersonStatus.not_collected,
}
# No live record (none at all, or only a discarded draft): the newest contact decides.
WITHOUT_RECORD = {
    None: PersonStatus.not_contacted,
    ContactOutcome.invited: PersonStatus.invited,
    ContactOutcome.notified: PersonStatus.contacted,
    ContactOutcome.no_answer: PersonStatus.contacted,
    ContactOutcome.wrong_number: PersonStatus.contacted,
    ContactOutcome.refused: PersonStatus.contacted,
    ContactOutcome.insured_elsewhere: PersonStatus.contacted,
}
OUTCOMES: list[ContactOutcome | None] = [None, *ContactOutcome]


def test_the_rule_covers_every_path() -> None:
    for outcome, expected in WITHOUT_RECORD.items():
        assert person_status(None, None, outcome) == expected
    for ((status, collection), expected), outcome in itertools.product(
        WITH_RECORD.items(), OUTCOMES
    ):
        assert person_status(status, collection, outcome) == expected
        assert person_status(str(status), collection, outcome and str(outcome)) == expected
    # Every status is reachable, and each has its words.
    reached = set(WITH_RECORD.values()) | set(WITHOUT_RECORD.values())
    assert reached == set(PersonStatus) == set(STATUS_LABELS)
    assert {PersonStatus.submitted, PersonStatus.confirmed, PersonStatus.not_collected} == DONE
    assert status_label(PersonStatus.not_collected, "人户分离") == "未采集（人户分离）"
    assert status_label("not_contacted") == "未联系"


def _record(person: Person, status: RecordStatus, collection: str | None, live: bool) -> Record:
    return Record(
        person_id=person.id,
        live_person_id=person.id if live else None,
        form_id="suzhou-canbao-2014",
        form_version=1,
        status=status,
        filled_by=FilledBy.investigator if collection else FilledBy.resident,
        district_id=person.district_id,
        street_id=person.street_id,
        community_id=person.community_id,
        household_id=person.household_id,
        collection_status=collection,
        discarded_at=None if live else utcnow(),
        state={},
        flags=[],
    )


async def test_sql_and_python_agree_on_every_path(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    expected: dict[int, PersonStatus] = {}
    async with sessions() as s, s.begin():
        cases: list[tuple[tuple[RecordStatus, str | None] | None, bool, ContactOutcome | None]] = []
        cases += [(None, False, o) for o in OUTCOMES]
        # A discarded draft is no live record: the person is back to what the log says.
        cases += [((RecordStatus.draft, None), False, o) for o in OUTCOMES]
        cases += [(key, True, o) for key, o in itertools.product(WITH_RECORD, OUTCOMES)]
        for n, (record_key, live, outcome) in enumerate(cases):
            person = await factory.person(s, household=f"{n:06d}", name=f"测试{n}")
            person.last_contact_outcome = outcome
            person.last_contact_on = dt.date(2014, 11, 1) if outcome else None
            if record_key is not None:
                s.add(_record(person, *record_key, live))
            await s.flush()
            if record_key is not None and live:
                expected[person.id] = WITH_RECORD[record_key]
            else:
                expected[person.id] = WITHOUT_RECORD[outcome]
    async with sessions() as s:
        rows = (
            await s.execute(
                select(Person, Record, person_status_sql())
                .outerjoin(Record, Record.live_person_id == Person.id)
                .order_by(Person.id)
            )
        ).all()
        assert len(rows) == len(expected) == 7 + 7 + len(WITH_RECORD) * 7
        for person, record, in_sql in rows:
            assert PersonStatus(in_sql) == expected[person.id], (person.name, record)
            assert status_of(person, record) == expected[person.id]


@pytest.mark.parametrize("outcome", [None, ContactOutcome.invited, ContactOutcome.no_answer])
async def test_status_of_ignores_a_discarded_record(
    sessions: async_sessionmaker[AsyncSession], factory: Factory, outcome: ContactOutcome | None
) -> None:
    async with sessions() as s, s.begin():
        person = await factory.person(s)
        person.last_contact_outcome = outcome
        record = _record(person, RecordStatus.draft, None, live=False)
        s.add(record)
        await s.flush()
        assert status_of(person, record) == WITHOUT_RECORD[outcome]
