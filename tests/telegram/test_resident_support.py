"""Synthetic roster people, invites and investigators for the conversation tests (no tests here).

ID numbers are generated (valid check digit, synthetic birth dates relative to today), never
real ones. Used by ``test_resident*``, ``test_investigator*`` and ``test_reminders*``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.synthetic import make_id_number
from flows import load_default_form
from storage.models import Invite, Person, Record, RecordRevision
from storage.repositories.accounts import create_investigator
from storage.repositories.areas import get_or_create_community, get_or_create_household, split_path

FORM = load_default_form()
PATH = "姑苏区/平江街道/平江路社区"
_seq = itertools.count(1)


def years_ago(years: int, days: int = 30) -> dt.date:
    """A birth date making someone ``years`` old today (and ``days`` past the birthday)."""
    now = dt.date.today()
    try:
        birthday = now.replace(year=now.year - years)
    except ValueError:  # 29 February
        birthday = now.replace(year=now.year - years, day=28)
    return birthday - dt.timedelta(days=days)


def synthetic_id(born: dt.date, sex: str = "M") -> str:
    """A valid, made-up 公民身份号码 of a Suzhou region code."""
    return make_id_number(born, sex, region="320508", seq=next(_seq) % 500)


@dataclass(frozen=True)
class Seeded:
    """A roster person as the tests know them."""

    person_id: int
    household_id: int
    name: str
    id_number: str
    mobile: str | None
    code: str | None


async def seed_person(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    *,
    born: dt.date,
    sex: str = "M",
    household: str = "0001",
    path: str = PATH,
    mobile: str | None = "13812345678",
    residence: str | None = "江苏省苏州市姑苏区人民路100号",
    insured: list[dict[str, str]] | None = None,
    invite: bool = True,
) -> Seeded:
    """A roster person (and their invite, with a code the test knows)."""
    number = synthetic_id(born, sex)
    async with sessions() as session, session.begin():
        community = await get_or_create_community(session, *split_path(path))
        hh = await get_or_create_household(session, community, household)
        person = Person(
            household_id=hh.id,
            community_id=community.id,
            street_id=community.street_id,
            district_id=community.district_id,
            name=name,
            id_number=number,
            mobile=mobile,
            residence_address=residence,
            insured_members=insured or [],
            extra={},
        )
        session.add(person)
        await session.flush()
        code = None
        if invite:
            code = f"INV{person.id:04d}x{number[-4:]}"
            session.add(Invite(person_id=person.id, code=code, failed_attempts=0))
        return Seeded(person.id, hh.id, name, number, mobile, code)


async def seed_investigator(
    sessions: async_sessionmaker[AsyncSession], name: str = "周调查", path: str = PATH
) -> tuple[int, str]:
    """An investigator for the community; returns their id and one-time binding code."""
    async with sessions() as session, session.begin():
        community = await get_or_create_community(session, *split_path(path))
        investigator, code = await create_investigator(session, name, [community])
        return investigator.id, code


async def live_record(sessions: async_sessionmaker[AsyncSession], person_id: int) -> Record:
    """The person's live record as stored."""
    async with sessions() as session:
        record = await session.scalar(select(Record).where(Record.live_person_id == person_id))
        assert record is not None, f"no record for person {person_id}"
        return record


async def revisions(
    sessions: async_sessionmaker[AsyncSession], record_id: int
) -> list[RecordRevision]:
    """A record's submitted revisions, oldest first."""
    async with sessions() as session:
        result = await session.scalars(
            select(RecordRevision)
            .where(RecordRevision.record_id == record_id)
            .order_by(RecordRevision.n)
        )
        return list(result.all())


async def person_by_id_number(
    sessions: async_sessionmaker[AsyncSession], number: str
) -> Person | None:
    """The person with that ID number."""
    async with sessions() as session:
        return await session.scalar(select(Person).where(Person.id_number == number))


def without_dates(answers: dict[str, Any]) -> dict[str, Any]:
    """A revision's answers without the values that depend on the day the test runs."""
    return {k: v for k, v in answers.items() if k not in ("collection_date", "birth_date", "age")}
