"""The printed roster (花名册) of a community or an investigator: its rows in 户号 order, the
PDF read back page by page, the XLSX, the district scope and the audit of every copy."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import login
from seed import World, _person

from bot import clock
from bot.exports.fonts import CANDIDATES
from bot.printing.roster import RosterPrint, render_pdf
from storage import people
from storage.models import AuditEvent, ContactOutcome, Person
from storage.rosters import roster_entries

pypdf = pytest.importorskip("pypdf")
HAS_FONT = any(p.exists() for p in CANDIDATES)
needs_font = pytest.mark.skipif(not HAS_FONT, reason="no embeddable CJK font on this machine")


def pdf_pages(body: bytes) -> list[str]:
    """The text of each page."""
    reader = pypdf.PdfReader(io.BytesIO(body))
    return [page.extract_text() for page in reader.pages]


async def _dress(sessions: async_sessionmaker[AsyncSession]) -> None:
    """The roster's address and insured family members for 林晓's household (000001)."""
    async with sessions() as s, s.begin():
        # Names are sealed at rest: found among the people, not by SQL.
        by_name = {p.name: p for p in await s.scalars(select(Person))}
        plain = by_name["林晓"]
        plain.residence_address = "平江路88号"
        plain.insured_members = [{"姓名": "林国庆", "关系": "父亲", "联系电话": "13800001111"}]
        confirmed = by_name["周敏"]
        confirmed.last_contact_on = clock.today()
        confirmed.last_contact_outcome = ContactOutcome.no_answer


async def test_entries_in_household_order_with_insured_once(
    sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    await _dress(sessions)
    async with sessions() as s:
        f = people.PersonFilter(community_id=world.communities["gusu"])
        entries = await roster_entries(s, None, f)
    assert [(e.row.household, e.row.name) for e in entries] == [
        ("000001", "林晓"),
        ("000001", "林大海"),
        ("000002", "周敏"),
    ]
    assert [e.first_of_household for e in entries] == [True, False, True]
    assert entries[0].insured == [{"name": "林国庆", "relation": "父亲", "phone": "13800001111"}]
    assert entries[1].insured == []
    assert entries[0].address == "平江路88号"


@needs_font
async def test_pdf_of_a_community_as_district_staff(
    client: TestClient, sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    await _dress(sessions)
    await login(client, "gusu_rev")
    response = await client.get(f"/console/rosters/print?community={world.communities['gusu']}")
    assert response.status == 200, await response.text()
    assert response.content_type == "application/pdf"
    pages = pdf_pages(await response.read())
    text = pages[0].replace("\n", "")
    for expected in (
        "入户调查花名册",
        "姑苏区/平江街道/平江路社区",
        f"打印日期 {clock.today().isoformat()}",
        "第 1 页 / 共 1 页",
        "000001",
        "林晓",
        "13812345678",  # the phone in full: the visit needs it
        "平江路88号",
        "林国庆（父亲）",
        "上门情况",
        "已确认",
        "无人接听",
        "不得复制",
    ):
        assert expected in text, expected
    # The ID is masked: the middle digits never appear.
    async with sessions() as s:
        number = next(p.id_number for p in await s.scalars(select(Person)) if p.name == "林晓")
    assert number not in text and f"{number[:4]}**********{number[-4:]}" in text
    async with sessions() as s:
        events = (
            await s.scalars(select(AuditEvent).where(AuditEvent.action == "roster_printed"))
        ).all()
    assert len(events) == 1
    assert events[0].actor_id == str(world.staff["gusu"].id)
    assert events[0].details["community_id"] == world.communities["gusu"]
    assert events[0].details["people"] == 3 and events[0].details["format"] == "pdf"


async def test_other_district_is_not_found_and_not_audited(
    client: TestClient, sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    await login(client, "gaoxin_rev")
    response = await client.get(f"/console/rosters/print?community={world.communities['gusu']}")
    assert response.status == 404
    assert world.investigator is not None
    response = await client.get(f"/console/rosters/print?investigator={world.investigator.id}")
    assert response.status == 404
    assert (await client.get("/console/rosters/print")).status == 400
    assert (await client.get("/console/rosters/print?community=1&investigator=1")).status == 400
    async with sessions() as s:
        events = (
            await s.scalars(select(AuditEvent).where(AuditEvent.action == "roster_printed"))
        ).all()
    assert events == []
    page = await (await client.get("/console/rosters")).text()
    assert "狮山社区" in page and "平江路社区" not in page and "钱调查" not in page


async def test_xlsx_of_an_investigator(
    client: TestClient, sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    await _dress(sessions)
    await login(client, "city_admin")
    assert world.investigator is not None
    response = await client.get(
        f"/console/rosters/print?investigator={world.investigator.id}&format=xlsx"
    )
    assert response.status == 200
    sheet = load_workbook(io.BytesIO(await response.read())).active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:6] == ["区", "街道", "社区", "序号", "户号", "姓名"]
    assert rows[0][-2:] == ["上门情况", "备注"]
    assert [r[5] for r in rows[1:]] == ["林晓", "林大海", "周敏"]
    assert rows[1][9] == "林国庆（父亲） 13800001111"
    assert all(r[-1] is None and r[-2] is None for r in rows[1:])


@needs_font
async def test_long_roster_repeats_the_header_on_every_page(
    sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    async with sessions() as s, s.begin():
        for n in range(80):
            await _person(s, world, "gusu2", f"{100 + n // 3:06d}", f"测试{n:02d}", "13300000000")
    async with sessions() as s:
        f = people.PersonFilter(investigator_id=None, district_id=world.districts["姑苏区"])
        entries = await roster_entries(s, None, f)
    item = RosterPrint("姑苏区", clock.today(), "测试", entries)
    pages = pdf_pages(render_pdf(item, lambda row: str(row.status)))
    assert len(pages) >= 3
    for n, text in enumerate(pages, start=1):
        flat = text.replace("\n", "")
        assert f"第 {n} 页 / 共 {len(pages)} 页" in flat
        assert "公民身份号码" in flat and "上门情况" in flat  # the table's header row
        assert "打印日期" in flat
    # Each community starts on its own page, named in the page header.
    assert "姑苏区/平江街道/平江路社区" in pages[0]
    assert "姑苏区/沧浪街道/南园社区" in pages[-1]
    assert "平江路社区" not in pages[-1]
