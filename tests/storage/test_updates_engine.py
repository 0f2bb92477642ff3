"""The engine of the bot's update handling (``make_engine(..., for_updates=True)``): one
connection on SQLite, no ping on PostgreSQL, and read-only transactions ended on request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import make_engine, make_sessionmaker, release_if_read_only
from storage.models import District


@pytest.fixture(params=["sqlite", "postgresql"])
async def updates_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/updates.db"
        return
    url: str = request.getfixturevalue("pg_url")
    yield url
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP TABLE IF EXISTS scratch_release"))
    finally:
        await engine.dispose()


async def _engine(url: str, **kwargs: bool) -> AsyncEngine:
    engine = make_engine(url, **kwargs)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE IF NOT EXISTS scratch_release (x INTEGER)"))
    return engine


async def test_a_read_only_transaction_is_ended_and_its_connection_returned(
    updates_url: str,
) -> None:
    engine = await _engine(updates_url, for_updates=True)
    try:
        async with make_sessionmaker(engine)() as session:
            await session.execute(text("SELECT count(*) FROM scratch_release"))
            assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]
            assert await release_if_read_only(session) is True
            assert not session.in_transaction()
            assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
            assert await release_if_read_only(session) is False  # nothing open any more
    finally:
        await engine.dispose()


async def test_a_transaction_that_wrote_or_holds_changes_is_left_open(updates_url: str) -> None:
    engine = await _engine(updates_url, for_updates=True)
    try:
        sessions = make_sessionmaker(engine)
        async with sessions() as session:
            await session.execute(text("SELECT 1"))
            await session.execute(text("INSERT INTO scratch_release (x) VALUES (1)"))
            await session.execute(text("SELECT 1"))
            assert await release_if_read_only(session) is False
            assert session.in_transaction()
            await session.rollback()
            # The mark is gone with the transaction: the next one starts as a reader.
            await session.execute(text("SELECT 1"))
            assert await release_if_read_only(session) is True
        async with sessions() as session:
            await session.execute(text("SELECT 1"))
            session.add(District(name="未写入区"))
            assert await release_if_read_only(session) is False
            await session.rollback()
    finally:
        await engine.dispose()


async def test_an_ordinary_engine_never_has_its_transactions_ended(updates_url: str) -> None:
    engine = await _engine(updates_url)
    try:
        async with make_sessionmaker(engine)() as session:
            await session.execute(text("SELECT 1"))
            assert await release_if_read_only(session) is False
            assert session.in_transaction()
    finally:
        await engine.dispose()


async def test_sqlite_updates_engine_has_one_connection_for_which_sessions_queue(
    tmp_path: Path,
) -> None:
    engine = await _engine(f"sqlite+aiosqlite:///{tmp_path}/one.db", for_updates=True)
    try:
        sessions = make_sessionmaker(engine)
        first = sessions()
        await first.execute(text("INSERT INTO scratch_release (x) VALUES (1)"))

        async def second() -> int:
            async with sessions() as session, session.begin():
                await session.execute(text("INSERT INTO scratch_release (x) VALUES (2)"))
                return int(await session.scalar(text("SELECT count(*) FROM scratch_release")))

        waiting = asyncio.create_task(second())
        await asyncio.sleep(0.2)
        # Queued for the one connection, not inside SQLite waiting for its write lock.
        assert not waiting.done()
        assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]
        await first.commit()
        await first.close()
        assert await asyncio.wait_for(waiting, 5) == 2
    finally:
        await engine.dispose()


async def test_postgresql_updates_engine_does_not_ping(pg_url: str) -> None:
    pinged, unpinged = make_engine(pg_url), make_engine(pg_url, for_updates=True)
    try:
        assert pinged.pool._pre_ping is True  # type: ignore[attr-defined]
        assert unpinged.pool._pre_ping is False  # type: ignore[attr-defined]
    finally:
        await pinged.dispose()
        await unpinged.dispose()


async def test_a_connection_that_broke_under_the_transaction_rolls_back_cleanly(
    updates_url: str,
) -> None:
    engine = await _engine(updates_url, for_updates=True)
    try:
        async with make_sessionmaker(engine)() as session:
            await session.execute(text("SELECT 1"))
            conn = await session.connection()
            await conn.invalidate()  # as when the server restarts under it
            assert await release_if_read_only(session) is False
            await session.rollback()
            assert (await session.execute(text("SELECT 2"))).scalar_one() == 2
    finally:
        await engine.dispose()
