"""Exports: the 采集表 as XLSX and CSV, the employers list, the PDF of one record."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from conftest import login
from openpyxl import load_workbook
from pypdf import PdfReader
from seed import EMPLOYER, World, add_not_collected
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.exports.csvfile import encode_row
from bot.exports.xlsx import write_xlsx
from bot.synthetic import make_id_number
from flows import Form
from storage.models import AuditEvent, Person
from tests.outputs import csv_rows, pdf_text, xlsx_rows

Client = TestClient  # type: ignore[type-arg]
HAVE_WQY = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc").exists()


async def _person(sessions: async_sessionmaker[AsyncSession], name: str) -> Person:
    async with sessions() as db:
        # Names are sealed in the store: found among the people, not by SQL.
        person = next((p for p in await db.scalars(select(Person)) if p.name == name), None)
        assert person is not None
        return person


async def test_xlsx_has_the_form_headers_in_order_and_labels_as_values(
    client: Client, world: World, form: Form, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "city_admin")
    response = await client.get("/console/exports/records.xlsx?status=all")
    assert response.status == 200
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(await response.read())).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    expected = ["区", "街道", "社区", "户号", *(h for _, h in form.export_columns())]
    assert header[: len(expected)] == expected
    assert header[len(expected) :][:2] == ["审核状态", "填报方式"]
    by_name = {row[header.index("姓名")]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert set(by_name) == {"林晓", "林大海", "周敏", "吴刚", "王强"}  # no draft
    lin = by_name["林晓"]
    person = await _person(sessions, "林晓")
    assert lin["公民身份号码"] == person.id_number  # full, as text
    assert lin["区"] == "姑苏区" and lin["户号"] == "000001"
    assert lin["采集状态"] == "已采集"
    assert lin["当前参保状态"] == "从未参保"
    assert lin["当前状态"] == "单位就业"
    assert lin["未参保原因"] == "单位未参保"
    assert lin["当前常住地"] == "江苏省苏州市姑苏区人民路100号"
    assert lin["工作或学习单位名称"] == EMPLOYER
    assert lin["性别"] in ("男", "女") and isinstance(lin["年龄"], int)
    assert lin["审核状态"] == "待审核" and lin["填报方式"] == "本人填报"
    assert by_name["周敏"]["审核状态"] == "已确认"
    # The person's one status, as the console and the API show it.
    assert lin["人员状态"] == "待审核" and by_name["吴刚"]["人员状态"] == "已退回"
    assert "不一致" not in (lin["标记"] or "")
    assert "单位未参保" in by_name["林大海"]["标记"]


async def test_queue_filters_apply_to_exports(client: Client, world: World) -> None:
    await login(client, "city_admin")
    response = await client.get("/console/exports/records.xlsx?status=confirmed")
    sheet = load_workbook(io.BytesIO(await response.read()), read_only=True).active
    assert sheet is not None
    names = [row[6] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == ["周敏"]
    community = world.communities["gusu2"]
    csv_text = await (
        await client.get(f"/console/exports/records.csv?community={community}")
    ).text()
    body = list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))))
    assert [row[6] for row in body[1:]] == ["吴刚"]


async def test_csv_is_utf8_with_bom_and_holds_clean_values(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The CSV is for programs: an ID or mobile cell is the number itself, no tab before it."""
    await login(client, "city_admin")
    response = await client.get("/console/exports/records.csv")
    raw = await response.read()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header = rows[0]
    lin = next(r for r in rows[1:] if r[header.index("姓名")] == "林晓")
    person = await _person(sessions, "林晓")
    assert lin[header.index("公民身份号码")] == person.id_number
    assert lin[header.index("手机号码")] == person.mobile
    assert not any(cell.startswith(("\t", " ")) for row in rows for cell in row)
    assert lin[header.index("当前参保状态")] == "从未参保"


def test_csv_neutralises_formulas() -> None:
    line = encode_row(['=HYPERLINK("x")', "+1", "普通", 3])
    assert line.startswith("\"'=HYPERLINK")
    assert ",'+1,普通,3" in line


async def test_exports_are_audited(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "gusu_rev")
    await client.get("/console/exports/records.csv?flag=warnings")
    await client.get(f"/console/records/{world.records['plain']}.pdf")
    async with sessions() as db:
        events = (await db.scalars(select(AuditEvent).where(AuditEvent.action == "exported"))).all()
    formats = {e.details["format"]: e for e in events}
    assert formats["csv"].details["filter"]["flag"] == "warnings"
    assert formats["csv"].actor_label == "姑苏审核员"
    assert formats["pdf"].record_id == world.records["plain"]


async def test_employers_are_grouped_with_the_number_of_people(
    client: Client, world: World
) -> None:
    await login(client, "city_admin")
    html = await (await client.get("/console/employers")).text()
    assert "2 家单位，涉及 3 人" in html
    response = await client.get("/console/exports/employers.xlsx")
    sheet = load_workbook(io.BytesIO(await response.read()), read_only=True).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("序号", "单位名称", "单位地址", "涉及人数")
    # "苏州某某电子有限公司" and "苏州某某电子有限公司 " are the same employer.
    assert rows[1][1] == EMPLOYER and rows[1][3] == 2
    assert rows[1][2] == "江苏省苏州市工业园区星湖街328号"
    assert rows[2][1] == "狮山精密机械厂" and rows[2][3] == 1


async def test_pdf_of_one_record_has_chinese_text_and_signature_lines(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "city_admin")
    response = await client.get(f"/console/records/{world.records['plain']}.pdf")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/pdf"
    body = await response.read()
    reader = PdfReader(io.BytesIO(body))
    text = "".join(page.extract_text() for page in reader.pages)
    compact = "".join(text.split())
    assert "苏州市区全民社会保险登记信息采集表" in compact
    assert "林晓" in compact
    assert "平江路社区" in compact
    assert "■从未参保" in compact and "□参保后断保" in compact
    assert "本人/监护人/指定代理人签名" in compact and "社区经办人签名" in compact
    if HAVE_WQY:
        fonts = {
            str(font["/BaseFont"])
            for page in reader.pages
            for font in page["/Resources"]["/Font"].values()  # type: ignore[index]
        }
        assert any("WenQuanYi" in name for name in fonts), fonts
        assert b"/FontFile2" in body  # the TrueType font is embedded


async def test_xlsx_writer_streams_rows_it_is_given(tmp_path: Path) -> None:
    produced = 0

    async def rows() -> AsyncIterator[Sequence[Any]]:
        nonlocal produced
        for n in range(2500):
            produced += 1
            yield [n, f"名称{n}", "=1+1" if n == 0 else "x"]

    path = tmp_path / "out.xlsx"
    count = await write_xlsx(path, "表", ["编号", "名称", "备注"], rows())
    assert count == produced == 2500
    sheet = load_workbook(path).active
    assert sheet is not None
    assert sheet.max_row == 2501
    first = sheet.cell(row=2, column=3)
    assert first.value == "=1+1" and first.data_type == "s"  # kept as text, not a formula


async def test_xlsx_layout_text_cells_and_strings_the_writer_cannot_take(tmp_path: Path) -> None:
    id_number = make_id_number(dt.date(1984, 3, 1), "M", "320503", 1)

    async def rows() -> AsyncIterator[Sequence[Any]]:
        yield [id_number, "13812345678", 37, "铃\x07声\x00", "半个\ud800字", None, ""]

    path = tmp_path / "out.xlsx"
    header = ["公民身份号码", "手机号码", "年龄", "备注", "地址", "空", "空串"]
    assert await write_xlsx(path, "信息采集表", header, rows(), widths={0: 22, 1: 22}) == 1
    sheet = load_workbook(path).active
    assert sheet is not None and sheet.title == "信息采集表"
    assert [c.value for c in sheet[1]] == header and all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    # Excel shows 22 for both (the file may give them as one range of columns).
    widths = {n: d.width for d in sheet.column_dimensions.values() for n in range(d.min, d.max + 1)}
    assert abs(widths[1] - 22) < 1 and abs(widths[2] - 22) < 1 and 3 not in widths
    id_cell, mobile, age, bell, half, empty, blank = sheet[2]
    # Numbers of 11 and 18 digits stay text: Excel would show 3.20503E+17.
    assert (id_cell.value, id_cell.data_type) == (id_number, "s")
    assert (mobile.value, mobile.data_type) == ("13812345678", "s")
    assert (age.value, age.data_type) == (37, "n")
    # Control characters are dropped as in every other export (bot.display.display_text).
    assert bell.value == "铃声"
    assert half.value == "半个\ufffd字" and empty.value is None and blank.value is None


async def test_xlsx_rows_that_fail_midway_stop_the_writing_process(tmp_path: Path) -> None:
    async def rows() -> AsyncIterator[Sequence[Any]]:
        for n in range(3000):
            if n == 2500:
                raise ValueError("the database went away")
            yield [n, "x"]

    with pytest.raises(ValueError, match="went away"):
        await write_xlsx(tmp_path / "out.xlsx", "表", ["编号", "名称"], rows())


def test_pdf_falls_back_to_the_builtin_cid_font(
    monkeypatch: pytest.MonkeyPatch, form: Form, tmp_path: Path
) -> None:
    from bot.exports import fonts
    from bot.exports.pdf import PdfRecord, render_pdf

    monkeypatch.setattr(fonts, "CANDIDATES", (tmp_path / "missing.ttc",))
    fonts.cjk_font.cache_clear()
    try:
        answers = {"name": "林晓", "insured_status": "never", "collection_date": "2014-11-01"}
        body = render_pdf(
            form, PdfRecord("姑苏区", "平江街道", "平江路社区", "000001", answers, "x")
        )
    finally:
        fonts.cjk_font.cache_clear()
    assert b"STSong-Light" in body and b"/FontFile2" not in body
    text = "".join("".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(body)).pages)
    assert "林晓" in text and "2014年11月1日" in text


async def test_a_not_collected_record_exports_the_person_status_with_its_reason(
    client: Client, world: World, form: Form, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_not_collected(sessions, form, world, "孙远", "长期外出")
    await login(client, "city_admin")
    response = await client.get("/console/exports/records.xlsx?status=all")
    sheet = load_workbook(io.BytesIO(await response.read())).active
    assert sheet is not None
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    statuses = [r[header.index("人员状态")] for r in rows]
    assert "未采集（长期外出）" in statuses


async def test_not_collected_rows_name_the_roster_person(
    client: Client, world: World, form: Form, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """An investigator's 未采集 record asks neither 姓名 nor 公民身份号码; the row still says
    who it is about, from the roster."""
    record_id = await add_not_collected(sessions, form, world, "孙远")
    person = await _person(sessions, "孙远")
    await login(client, "city_admin")
    rows = xlsx_rows(await (await client.get("/console/exports/records.xlsx")).read())
    header = rows[0]
    line = next(r for r in rows[1:] if r[header.index("采集状态")] == "未采集")
    assert line[header.index("姓名")] == "孙远"
    assert line[header.index("公民身份号码")] == person.id_number
    csv_body = csv_rows(await (await client.get("/console/exports/records.csv")).read())
    line = next(r for r in csv_body[1:] if r[csv_body[0].index("采集状态")] == "未采集")
    assert line[csv_body[0].index("姓名")] == "孙远"
    assert line[csv_body[0].index("公民身份号码")] == person.id_number
    pdf = await client.get(f"/console/records/{record_id}.pdf")
    assert "孙远" in pdf_text(await pdf.read())


async def test_export_links_of_the_default_queue_carry_its_filter(
    client: Client, world: World
) -> None:
    """The default queue shows 待审核 records; its export links export those, not everything."""
    await login(client, "city_admin")
    html = await (await client.get("/console/queue")).text()
    links = re.findall(
        r'href="(/console/(?:exports/records\.(?:xlsx|csv)|employers)\?[^"]*)"', html
    )
    assert len(links) == 3
    for link in links:
        assert "status=submitted" in link.replace("&amp;", "&"), link
    csv_link = next(link for link in links if ".csv" in link).replace("&amp;", "&")
    body = csv_rows(await (await client.get(csv_link)).read())
    assert {row[body[0].index("审核状态")] for row in body[1:]} == {"待审核"}
    # A filter chosen in the queue is carried too, with the status it shows.
    community = world.communities["gusu"]
    html = await (await client.get(f"/console/queue?community={community}&flag=warnings")).text()
    csv_link = re.search(r'href="(/console/exports/records\.csv\?[^"]*)"', html)
    assert csv_link is not None
    query = csv_link.group(1).replace("&amp;", "&")
    assert f"community={community}" in query and "flag=warnings" in query
    assert "status=submitted" in query


def _pdf_lines(body: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(body))
    return [
        "".join(line.split()) for page in reader.pages for line in page.extract_text().splitlines()
    ]


async def test_pdf_prints_the_paper_forms_layout(client: Client, world: World, form: Form) -> None:
    await login(client, "city_admin")
    body = await (await client.get(f"/console/records/{world.records['plain']}.pdf")).read()
    lines = _pdf_lines(body)
    text = "".join(lines)
    # The value in the blank, then its label: "江苏 省（市、自治区）", not "江苏省 省（…）".
    assert "江苏省（市、自治区）苏州市（区、县）姑苏区（县）人民路100号" in text
    assert "江苏省省" not in text and "100号号" not in text and "人民路路" not in text
    # The collection date on both signature lines, each date whole on one line.
    assert any(line.endswith("2014年11月1日") and "签名" not in line for line in lines)
    assert "采集日期：2014年11月1日" in lines
    assert not any(line.startswith(("1日", "月", "日")) for line in lines)
    # The footer quotes the record's reference, as every other place does.
    footer = next(line for line in lines if line.startswith("记录编号"))
    assert footer.startswith(f"记录编号CB{world.records['plain']:08d}")


def test_pdf_address_without_an_ending_keeps_its_name(form: Form) -> None:
    from bot.exports.pdf import address_line

    value = {"province": "香港特别行政区", "city": "苏州", "district": "工业园区", "road": "星湖街"}
    assert address_line(value, ("province", "city", "district", "road", "number")) == (
        "香港 省（市、自治区）  苏州 市（区、县）  工业园 区（县）  星湖街 路  ____ 号"
    )
    assert address_line(None, ("province", "city")) == "____ 省（市、自治区）  ____ 市（区、县）"
