"""Roster tests: files written on the fly with synthetic people, a database on both engines."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.synthetic import ROSTER_HEADERS, make_roster
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


def write_csv(
    path: Path,
    rows: list[list[Any]],
    headers: list[str] | tuple[str, ...] = ROSTER_HEADERS,
    encoding: str = "utf-8-sig",
) -> Path:
    """A CSV roster file."""
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def write_xlsx(
    path: Path, rows: list[list[Any]], headers: list[str] | tuple[str, ...] = ROSTER_HEADERS
) -> Path:
    """An XLSX roster file (cells keep their Python types: numbers stay numbers)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(headers))
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def as_lists(rows: list[dict[str, Any]]) -> list[list[Any]]:
    """Synthetic roster dicts as rows in header order."""
    return [[row[h] for h in ROSTER_HEADERS] for row in rows]


@pytest.fixture
def roster() -> Callable[[int, int], list[list[Any]]]:
    """``roster(n, seed)``: n synthetic rows."""

    def make(n: int, seed: int = 1) -> list[list[Any]]:
        return as_lists(make_roster(n, seed=seed))

    return make
