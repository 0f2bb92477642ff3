"""The evaluation table: each share of a hand-counted small roster per community and per
investigator, sorting, the district scope and the XLSX export with its definitions."""

from __future__ import annotations

import datetime as dt
import io
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import login
from seed import World, add_not_collected

from bot import clock
from flows import Form
from storage import evaluation
from storage.testing import temporary_database

TOMORROW_END = clock.day_start(clock.today() + dt.timedelta(days=2))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """This module runs on both engines."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    async with temporary_database(url, directory=tmp_path) as eng:
        yield eng


async def test_shares_of_a_hand_counted_roster(
    sessions: async_sessionmaker[AsyncSession], world: World, form: Form
) -> None:
    await add_not_collected(sessions, form, world, "陈某")
    async with sessions() as s:
        lines = {
            line.name: line
            for line in await evaluation.community_lines(s, world.districts["姑苏区"], TOMORROW_END)
        }
        people = await evaluation.investigator_lines(s, None, TOMORROW_END)
        late = await evaluation.community_lines(s, None, clock.day_start(dt.date(2014, 12, 11)))
    assert set(lines) == {"平江街道/平江路社区", "沧浪街道/南园社区"}
    pj, ny = lines["平江街道/平江路社区"], lines["沧浪街道/南园社区"]
    # 平江路社区: 林晓, 林大海 (submitted), 周敏 (confirmed), 陈某 (未采集, 人户分离); 3 households.
    assert (pj.target, pj.reached, pj.handed_in, pj.returned, pj.on_time) == (4, 4, 4, 0, 4)
    assert (pj.households, pj.complete_households) == (3, 3)
    assert pj.not_collected == {"separated": 1} and pj.not_collected_share == 0.25
    assert (pj.coverage, pj.completeness, pj.timeliness, pj.household_completeness) == (1, 1, 1, 1)
    # 南园社区: 吴刚 (returned once), 郑芳 (draft): nobody's household is complete.
    assert (ny.target, ny.reached, ny.handed_in, ny.returned, ny.on_time) == (2, 2, 1, 1, 1)
    assert ny.completeness == 0.0 and ny.timeliness == 0.5
    assert (ny.households, ny.complete_households) == (2, 0)
    # 钱调查: the roster of 平江路社区, and the one record they filled (陈某).
    (qian,) = people
    assert (qian.name, qian.target, qian.reached, qian.handed_in, qian.on_time) == (
        "钱调查",
        4,
        4,
        1,
        1,
    )
    assert qian.not_collected == {"separated": 1} and qian.household_completeness == 1
    # Nothing was handed in by a deadline long past.
    assert all(line.on_time == 0 for line in late) and len(late) == 3
    ordered = evaluation.sort_lines(list(lines.values()), "completeness", descending=False)
    assert [line.name for line in ordered] == ["沧浪街道/南园社区", "平江街道/平江路社区"]


async def test_console_scope_sort_and_export(
    client: TestClient, sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    await login(client, "gaoxin_rev")
    page = await (await client.get("/console/evaluation")).text()
    assert "狮山社区" in page and "平江路社区" not in page and "覆盖率" in page
    assert "已联系（除“未联系”外的任何状态）的花名册人数 ÷ 花名册人数。" in page
    assert "钱调查" not in await (await client.get("/console/evaluation?kind=investigator")).text()
    await login(client, "city_admin")
    page = await (await client.get("/console/evaluation?sort=completeness&dir=asc")).text()
    assert page.index("南园社区") < page.index("平江路社区")
    assert (await client.get("/console/evaluation?sort=nope")).status == 400
    response = await client.get("/console/evaluation?kind=investigator&format=xlsx")
    assert response.status == 200
    sheet = load_workbook(io.BytesIO(await response.read())).active
    assert sheet is not None
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][:4] == ["调查员", "区", "花名册人数", "覆盖率"]
    assert rows[1][:4] == ["钱调查", "姑苏区", 3, "100.0%"]
    assert any(r[0] == "户完整率" for r in rows)
