"""The work summary (工作总结): every figure of a hand-counted small roster, the same figures
as the progress page for the same scope, the PDF and XLSX read back, the period, the scope."""

from __future__ import annotations

import datetime as dt
import io
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import login
from seed import World, add_not_collected

from bot import clock
from bot.exports.fonts import CANDIDATES
from flows import Form
from storage.models import AuditEvent
from storage.person_status import PersonStatus
from storage.summary import work_summary
from storage.testing import temporary_database

HAS_FONT = any(p.exists() for p in CANDIDATES)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """This module runs on both engines."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    async with temporary_database(url, directory=tmp_path) as eng:
        yield eng


async def _summary(sessions: async_sessionmaker[AsyncSession], world: World, **period: dt.date):
    today = clock.today()
    async with sessions() as s, s.begin():
        return await work_summary(
            s,
            world.districts["姑苏区"],
            "district",
            world.districts["姑苏区"],
            "姑苏区",
            date_from=period.get("date_from", today),
            date_to=period.get("date_to", today),
            zone=clock.zone(),
        )


async def test_figures_of_a_hand_counted_roster(
    sessions: async_sessionmaker[AsyncSession], world: World, form: Form
) -> None:
    await add_not_collected(sessions, form, world, "陈某")
    s = await _summary(sessions, world)
    # 姑苏区: 林晓, 林大海 (submitted), 周敏 (confirmed), 吴刚 (returned), 郑芳 (draft),
    # 陈某 (未采集).
    assert s.progress.target == 6 and s.reach.target == 6
    assert s.reached == 6 and s.reach.not_contacted == 0
    assert s.progress.collected == 4  # 林晓, 林大海, 周敏, 吴刚
    assert s.progress.not_collected == {"separated": 1}
    assert (s.progress.submitted, s.progress.returned, s.progress.confirmed) == (3, 1, 1)
    assert s.progress.drafts == 1
    assert s.reach.count(PersonStatus.in_progress) == 1
    assert s.insured_elsewhere == 0 and s.contacted_insured_elsewhere == 0
    assert s.by_current_status == {"never": {"employed": 2, "unemployed": 2}}
    assert s.by_reason == {"never": {"employer_uninsured": 3, "cannot_afford": 1}}
    assert s.uninsured == 4
    assert (s.employers, s.employer_people) == (1, 2)  # 苏州某某电子有限公司: 林晓, 周敏
    assert s.returns == 1 and s.return_fields == {"mobile": 1}
    assert sum(s.daily["confirmed"].values()) == 1
    assert [(line.name, line.target, reach.target) for line, reach in s.children] == [
        ("平江街道", 4, 4),
        ("沧浪街道", 2, 2),
    ]
    # Outside the period: the status figures stay, the period's work is none.
    before = await _summary(
        sessions,
        world,
        date_from=dt.date(2014, 10, 1),
        date_to=clock.today() - dt.timedelta(days=1),
    )
    assert before.progress.collected == 4
    assert before.returns == 0 and before.enrolled == 0
    assert sum(before.daily["submitted"].values()) == 0


def _tile(page: str, label: str) -> str:
    match = re.search(rf"<b>([^<]+)</b><span>{label}</span>", page)
    assert match, label
    return match.group(1)


def _cell(page: str, label: str) -> str:
    match = re.search(rf"<td>{re.escape(label)}</td><td>([^<]+)</td>", page)
    assert match, label
    return match.group(1)


async def test_same_figures_as_the_progress_page(
    client: TestClient, sessions: async_sessionmaker[AsyncSession], world: World, form: Form
) -> None:
    await add_not_collected(sessions, form, world, "陈某")
    await login(client, "gusu_rev")
    area = f"level=district&id={world.districts['姑苏区']}"
    progress = await (await client.get(f"/console/progress?{area}")).text()
    summary = await (await client.get(f"/console/summary?{area}")).text()
    assert _tile(progress, "调查对象") == _cell(summary, "花名册人数") == "6"
    assert _tile(progress, "未联系") == _cell(summary, "未联系") == "0"
    assert _tile(progress, "采集率") == _cell(summary, "采集率") == "66.7%"
    for status in ("待审核", "已退回", "已确认", "未采集", "填写中"):
        assert _tile(progress, status) == _cell(summary, status), status
    # The other district cannot see it.
    await login(client, "gaoxin_rev")
    assert (await client.get(f"/console/summary?{area}")).status == 404


async def test_xlsx_and_pdf_read_back_and_audited(
    client: TestClient, sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    await login(client, "gusu_rev")
    area = f"level=district&id={world.districts['姑苏区']}"
    response = await client.get(f"/console/summary?{area}&format=xlsx")
    assert response.status == 200
    sheet = load_workbook(io.BytesIO(await response.read())).active
    assert sheet is not None
    values = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row[0]}
    assert values["花名册人数"] == 5 and values["已采集（已交表）"] == 4
    assert values["单位未参保：报送劳动保障监察的单位"] == 1
    assert values["平江街道"] == 3 and values["沧浪街道"] == 2
    if HAS_FONT:
        pypdf = pytest.importorskip("pypdf")
        response = await client.get(f"/console/summary?{area}&format=pdf")
        assert response.status == 200
        reader = pypdf.PdfReader(io.BytesIO(await response.read()))
        text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")
        for expected in (
            "全民参保登记工作总结",
            "姑苏区",
            "花名册人数",
            "单位未参保",
            "分街道情况",
            "每日进度",
            "第 1 页",
        ):
            assert expected in text, expected
    assert (
        await client.get(f"/console/summary?{area}&from=2015-01-02&to=2015-01-01")
    ).status == 400
    async with sessions() as s:
        events = (
            await s.scalars(select(AuditEvent).where(AuditEvent.action == "summary_printed"))
        ).all()
    assert [e.details["format"] for e in events] == (["xlsx", "pdf"] if HAS_FONT else ["xlsx"])


async def test_the_area_menu(client: TestClient, world: World) -> None:
    await login(client, "gusu_rev")
    page = await (await client.get("/console/summary")).text()
    assert "姑苏区/平江街道" in page and "高新区" not in page
    street = world.streets["姑苏区/平江街道"]
    response = await client.get(f"/console/summary?area=street:{street}&from=2014-11-01")
    assert response.status == 200
    assert response.url.query["level"] == "street" and "area" not in response.url.query
    assert "工作总结 <small>姑苏区/平江街道</small>" in await response.text()
    other = world.districts["高新区"]
    assert (await client.get(f"/console/summary?area=district:{other}")).status == 404
    assert (await client.get("/console/summary?area=nonsense:%00")).status == 400
    await login(client, "city_admin")
    city = await (await client.get("/console/summary?area=city")).text()
    assert "六、分区情况" in city and "姑苏区" in city and "高新区" in city
