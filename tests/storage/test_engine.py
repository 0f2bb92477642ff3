"""Engine settings: SQLite durability pragmas, aware UTC times on both engines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import make_engine
from storage.models import AuditEvent
from storage.repositories.actors import Actor
from storage.repositories.audit import add_event


async def test_sqlite_pragmas_and_parent_dir(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/deep/er/canbao.db")
    try:
        async with engine.connect() as conn:
            pragmas = {
                name: (await conn.execute(text(f"PRAGMA {name}"))).scalar_one()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
        assert pragmas == {
            "journal_mode": "wal",
            "synchronous": 2,  # FULL
            "foreign_keys": 1,
            "busy_timeout": 15000,
        }
        assert (tmp_path / "deep" / "er" / "canbao.db").exists()
    finally:
        await engine.dispose()


async def test_times_come_back_aware_utc(sessions: async_sessionmaker[AsyncSession]) -> None:
    shanghai = dt.timezone(dt.timedelta(hours=8))
    at = dt.datetime(2014, 10, 15, 9, 30, tzinfo=shanghai)
    async with sessions() as s, s.begin():
        event = add_event(s, Actor.system(), "test")
        event.at = at
    async with sessions() as s:
        got = await s.get(AuditEvent, event.id)
        assert got is not None
        assert got.at == at and got.at.tzinfo == dt.UTC and got.at.hour == 1


async def test_naive_times_are_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s:
        event = add_event(s, Actor.system(), "test")
        event.at = dt.datetime(2014, 10, 15, 9, 30)
        with pytest.raises(Exception, match="aware"):
            await s.flush()


async def test_foreign_keys_enforced(engine: AsyncEngine) -> None:
    from sqlalchemy.exc import IntegrityError

    from storage.models import Street

    async with engine.connect() as conn:
        with pytest.raises(IntegrityError):
            await conn.execute(insert(Street).values(district_id=999, name="x"))
