"""The login limits and console sign-ins in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import make_sessionmaker
from storage.models import LoginLimit, StaffSession
from storage.repositories import login_limits as limits
from storage.repositories import staff_sessions
from storage.repositories.accounts import create_staff
from storage.types import frozen_time, utcnow
from tests.security.stores import shared_database

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


async def take(sessions: async_sessionmaker[AsyncSession], user: str, address: str) -> object:
    try:
        async with sessions() as db, db.begin():
            return await limits.take_try(db, user, address)
    except limits.Throttled as exc:
        return exc


@pytest.mark.parametrize("backend", BACKENDS)
async def test_windows_refunds_and_forgetting(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    pg_url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    async with shared_database(pg_url, tmp_path, count=2) as engines:
        first, second = (make_sessionmaker(e) for e in engines)
        start = utcnow()
        with frozen_time(start):
            taken = [await take((first, second)[n % 2], "Alice", "192.0.2.1") for n in range(5)]
            assert all(isinstance(t, limits.Taken) for t in taken)
            assert taken[-1].locking == ["pair"]  # type: ignore[attr-defined]
            refused = await take(first, "alice", "192.0.2.1")
            assert isinstance(refused, limits.Throttled) and refused.kind == "pair"
            assert refused.retry_after == 15 * 60
            # A refusal takes nothing: the address and the account keep their counts.
            async with first() as db:
                counts = dict((await db.execute(select(LoginLimit.key, LoginLimit.failures))).all())
            assert counts == {
                "address:192.0.2.1": 5,
                "account:alice": 5,
                "pair:alice|192.0.2.1": 5,
            }
            assert isinstance(await take(second, "alice", "192.0.2.2"), limits.Taken)
            async with second() as db, db.begin():
                await limits.give_back(db, "alice", "192.0.2.2")
                assert await limits.retry_after(db, "alice", "192.0.2.1") == 15 * 60
        with frozen_time(start + dt.timedelta(minutes=15)):
            assert isinstance(await take(first, "alice", "192.0.2.1"), limits.Taken)
        with frozen_time(start + dt.timedelta(days=2)):
            assert isinstance(await take(first, "bob", "192.0.2.9"), limits.Taken)
            async with first() as db:
                keys = set((await db.scalars(select(LoginLimit.key))).all())
        assert keys == {"address:192.0.2.9", "account:bob", "pair:bob|192.0.2.9"}


@pytest.mark.parametrize("backend", BACKENDS)
async def test_concurrent_sign_ins_never_deadlock(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    pg_url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    async with shared_database(pg_url, tmp_path, count=2) as engines:
        makers = [make_sessionmaker(e) for e in engines]
        attempts = [take(makers[n % 2], f"user{n % 3}", f"198.51.100.{n % 4}") for n in range(60)]
        results = await asyncio.gather(*attempts)
        taken = [r for r in results if isinstance(r, limits.Taken)]
        # Each (account, address) pair: at most five tries.
        assert len(taken) <= 12 * 5
        async with makers[0]() as db:
            worst = await db.scalar(select(func.max(LoginLimit.failures)))
        assert worst is not None and worst <= limits.MAX_PER_ADDRESS


@pytest.mark.parametrize("backend", BACKENDS)
async def test_sign_ins_end_and_old_rows_go(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    pg_url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    timeouts = staff_sessions.Timeouts(dt.timedelta(minutes=30), dt.timedelta(hours=8))
    async with shared_database(pg_url, tmp_path, count=1) as engines:
        sessions = make_sessionmaker(engines[0])
        start = utcnow()
        with frozen_time(start):
            async with sessions() as db, db.begin():
                staff = await create_staff(db, "owner", "a good long passphrase")
                token = await staff_sessions.start_session(db, staff, address="192.0.2.1")
                other = await staff_sessions.start_session(db, staff)
            async with sessions() as db, db.begin():
                assert await staff_sessions.resume_session(db, token, timeouts) is not None
                assert await staff_sessions.resume_session(db, "forged", timeouts) is None
                assert await staff_sessions.resume_session(db, None, timeouts) is None
                assert await staff_sessions.end_sessions(db, staff.id, reason="logout") == 2
                assert await staff_sessions.resume_session(db, other, timeouts) is None
        with frozen_time(start + dt.timedelta(days=31)):
            async with sessions() as db, db.begin():
                await staff_sessions.start_session(db, staff)
            async with sessions() as db:
                assert await db.scalar(select(func.count()).select_from(StaffSession)) == 1
