"""SQLite through :mod:`storage.sqlite_driver`: one trip to aiosqlite's thread per statement,
with the rows, row counts, last row ids and errors SQLAlchemy expects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import sqlite_driver
from storage.db import make_engine


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/driver.db")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the calls made on aiosqlite connections' threads."""
    seen: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return seen


async def test_each_statement_is_one_trip_to_the_thread(
    sqlite: AsyncEngine, trips: list[str]
) -> None:
    assert sqlite.dialect.driver == sqlite_driver.DRIVER
    async with sqlite.connect() as conn:
        trips.clear()
        inserted = await conn.execute(text("INSERT INTO t (name) VALUES ('甲')"))
        rows = (await conn.execute(text("SELECT id, name FROM t"))).all()
        await conn.commit()
    # Then the pool's reset when the connection goes back. Through aiosqlite's own cursor API
    # each statement was 3-4 trips (cursor, execute, fetch, close).
    assert trips == ["_run", "_run", "commit", "rollback"]
    assert inserted.lastrowid == 1
    assert rows == [(1, "甲")]


async def test_row_counts_many_rows_and_errors(sqlite: AsyncEngine) -> None:
    async with sqlite.begin() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES (:n)"), [{"n": "甲"}, {"n": "乙"}])
        updated = await conn.execute(text("UPDATE t SET name = name || '1'"))
        assert updated.rowcount == 2
        none = await conn.execute(text("UPDATE t SET name = 'x' WHERE id = 99"))
        assert none.rowcount == 0
        assert (await conn.execute(text("SELECT id FROM t WHERE 0"))).all() == []
    async with sqlite.connect() as conn:
        with pytest.raises(IntegrityError):
            await conn.execute(text("INSERT INTO t (name) VALUES ('甲1')"))
        await conn.rollback()
        streamed = [row.name async for row in await conn.stream(text("SELECT name FROM t"))]
    assert set(streamed) == {"甲1", "乙1"}
