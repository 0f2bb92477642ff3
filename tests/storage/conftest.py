"""The ``db`` fixture: every storage test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import make_sessionmaker
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
