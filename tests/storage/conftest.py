"""The ``db`` fixture: every storage test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.synthetic import make_id_number
from storage.db import make_sessionmaker
from storage.models import Person, Staff
from storage.repositories.accounts import create_staff
from storage.repositories.areas import get_or_create_community, get_or_create_household, split_path
from storage.testing import temporary_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh database with the full schema (SQLite file, or a PG schema)."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    async with temporary_database(url, directory=tmp_path) as eng:
        yield eng


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A sessionmaker on the test database."""
    return make_sessionmaker(engine)


class Factory:
    """Makes areas, people and accounts with synthetic data (valid IDs, never real ones)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self._seq = 0

    def id_number(self, year: int = 1990) -> str:
        self._seq += 1
        return make_id_number(
            dt.date(year, 1, 1) + dt.timedelta(days=self._seq), "F", "320503", seq=self._seq % 500
        )

    async def person(
        self,
        session: AsyncSession,
        path: str = "姑苏区/平江街道/平江路社区",
        household: str = "000001",
        name: str = "林晓",
        mobile: str | None = "13812345678",
    ) -> Person:
        community = await get_or_create_community(session, *split_path(path))
        hh = await get_or_create_household(session, community, household)
        person = Person(
            household_id=hh.id,
            community_id=community.id,
            street_id=community.street_id,
            district_id=community.district_id,
            name=name,
            id_number=self.id_number(),
            mobile=mobile,
            insured_members=[],
            extra={},
        )
        session.add(person)
        await session.flush()
        return person

    async def staff(
        self, session: AsyncSession, username: str = "reviewer1", district: str | None = "姑苏区"
    ) -> Staff:
        district_id = None
        if district is not None:
            community = await get_or_create_community(session, district, "某街道", "某社区")
            district_id = community.district_id
        return await create_staff(
            session, username, "correct horse battery", district_id=district_id
        )


@pytest.fixture
def factory(sessions: async_sessionmaker[AsyncSession]) -> Factory:
    """Synthetic test data."""
    return Factory(sessions)
