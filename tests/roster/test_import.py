"""Importing roster files into the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.roster import RosterFileError, check_file, import_file
from bot.synthetic import ROSTER_HEADERS, make_id_number
from storage.models import Community, District, FilledBy, Household, Person, Record
from storage.repositories import records as rec
from storage.repositories.actors import Actor
from storage.repositories.persons import find_person_by_id_number
from storage.repositories.roster import CHUNK
from tests.roster.conftest import write_csv, write_xlsx

Rows = Callable[..., list[list[Any]]]
TODAY = dt.date(2014, 10, 15)


async def count(sessions: async_sessionmaker[AsyncSession], model: type[Any]) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


def person_row(
    id_number: str | float,
    name: str = "林晓",
    mobile: str = "13812345678",
    household: str = "000001",
    members: str = "",
    community: str = "平江路社区",
) -> list[Any]:
    return [
        "姑苏区",
        "平江街道",
        community,
        household,
        name,
        id_number,
        mobile,
        "平江路1号",
        members,
    ]


ID1 = make_id_number(dt.date(1984, 3, 1), "M", "320503", 1)
ID2 = make_id_number(dt.date(1985, 7, 9), "F", "320503", 2)
ID3 = make_id_number(dt.date(2013, 1, 2), "M", "320508", 3)


async def test_good_csv_imports_everything(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "roster.csv",
        [
            [*person_row(ID1, members="李四(父) 13800001111; 王五(母)"), "一楼东"],
            [*person_row(ID2.lower(), name="周静", mobile=""), ""],
            [*person_row(ID3, name="王小宝", household="000002"), ""],
        ],
        headers=[*ROSTER_HEADERS, "备注"],
    )
    report = await import_file(path, sessions, today=TODAY)
    assert report.ok and report.written is not None
    assert report.extra_headers == ["备注"]
    assert (report.written.persons_added, report.written.households_added) == (3, 2)
    assert await count(sessions, District) == 1 and await count(sessions, Community) == 1
    async with sessions() as s:
        first = await find_person_by_id_number(s, ID1)
        assert first is not None and first.on_roster
        assert first.insured_members == [
            {"姓名": "李四", "关系": "父", "联系电话": "13800001111"},
            {"姓名": "王五", "关系": "母", "联系电话": ""},
        ]
        assert first.extra == {"备注": "一楼东"} and first.residence_address == "平江路1号"
        second = await find_person_by_id_number(s, ID2)
        assert second is not None and second.id_number == ID2 and second.mobile is None
        assert second.household_id == first.household_id
        district = await s.scalar(select(District))
        assert district is not None and district.code == "320508"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
async def test_csv_encodings(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, encoding: str
) -> None:
    # 䶮 is outside GBK: only GB18030 (not GBK/GB2312) can carry it.
    path = write_csv(tmp_path / "r.csv", [person_row(ID1, name="王䶮")], encoding=encoding)
    report = await import_file(path, sessions, today=TODAY)
    assert report.ok, report.problems
    async with sessions() as s:
        person = await find_person_by_id_number(s, ID1)
        assert person is not None and person.name == "王䶮"


async def test_xlsx_good_file_with_numeric_mobile_and_household(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [["高新区", "狮山街道", "狮山社区", 17, "林晓", ID1, 13812345678, None, None]],
    )
    report = await import_file(path, sessions, today=TODAY)
    assert report.ok, report.problems
    async with sessions() as s:
        person = await find_person_by_id_number(s, ID1)
        assert person is not None and person.mobile == "13812345678"
        household = await s.get(Household, person.household_id)
        assert household is not None and household.number == "17"


async def test_xlsx_numeric_id_cell_is_refused_and_nothing_imported(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    path = write_xlsx(
        tmp_path / "roster.xlsx",
        [person_row(ID1), person_row(float(ID2[:17] + "0"), name="周静", household="000002")],
    )
    report = await import_file(path, sessions, today=TODAY)
    assert not report.ok and report.written is None
    assert len(report.problems) == 1
    text = str(report.problems[0])
    assert text.startswith("roster.xlsx: 第3行 公民身份号码 (F列): 被存成了数字")
    assert await count(sessions, Person) == 0


async def test_every_kind_of_bad_row_is_reported_with_place_and_nothing_written(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    bad_check = ID1[:17] + ("0" if ID1[17] != "0" else "1")
    rows = [
        person_row(ID1),  # row 2: good
        person_row(bad_check, household="2"),  # row 3
        person_row("3.20508E+17", household="3"),  # row 4
        person_row(ID1, household="4"),  # row 5: duplicate of row 2
        person_row(ID2, name="", household="5"),  # row 6: missing name
        person_row(ID3, mobile="0512-6523123", household="6"),  # row 7: landline
        ["", "平江街道", "平江路社区", "7", "赵六", "1234", "", "", ""],  # row 8: two problems
    ]
    path = write_csv(tmp_path / "roster.csv", rows)
    report = await import_file(path, sessions, today=TODAY)
    assert not report.ok and report.written is None
    lines = [str(p) for p in report.problems]
    assert lines == [
        "roster.csv: 第3行 公民身份号码 (F列): "
        "公民身份号码的校验位（最后一位）不对，请逐位核对后重新输入。",
        "roster.csv: 第4行 公民身份号码 (F列): 被 Excel 存成了科学计数法（3.20508E+17），"
        "末尾几位已丢失；请把该列设为“文本”格式，重新录入后再导入",
        "roster.csv: 第5行 公民身份号码 (F列): 与第2行重复（同一人只能出现一次）",
        "roster.csv: 第6行 姓名 (E列): 不能为空",
        "roster.csv: 第7行 联系电话 (G列): "
        "手机号码不正确：应为以1开头的11位号码，如 138 0000 1234。",
        "roster.csv: 第8行 区 (A列): 不能为空",
        "roster.csv: 第8行 公民身份号码 (F列): "
        "公民身份号码应为18位（最后一位可以是X），您输入了4位。",
    ]
    assert await count(sessions, Person) == 0 and await count(sessions, District) == 0


def test_missing_and_duplicate_headers_are_file_problems(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [["姑苏区", "林晓"]], headers=["区", "姓名"])
    result = check_file(path, today=TODAY)
    assert [str(p) for p in result.problems] == [
        "r.csv: 缺少必需的列：街道、社区、户号、公民身份号码"
        "（表头应在第一行：区、街道、社区、户号、姓名、公民身份号码）"
    ]
    path = write_csv(tmp_path / "d.csv", [], headers=[*ROSTER_HEADERS, "身份证号码"])
    assert "表头 公民身份号码 出现了两次（F列和J列）" in str(check_file(path).problems[0])


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("r.txt", b"x", "不支持的文件类型 .txt"),
        ("r.csv", b"", "文件是空的"),
        ("r.xlsx", b"not a zip", "无法作为 Excel (.xlsx) 文件打开"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(RosterFileError, match=re.escape(message)):
        check_file(path)


async def test_dry_run_writes_nothing(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "r.csv", [person_row(ID1)])
    report = await import_file(path, sessions, dry_run=True, today=TODAY)
    assert report.ok and report.written is None and report.rows == 1
    assert await count(sessions, Person) == 0


async def test_reimport_is_idempotent_and_update_never_touches_records(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    first = write_csv(tmp_path / "v1.csv", [person_row(ID1), person_row(ID2, name="周静")])
    assert (await import_file(first, sessions, today=TODAY)).ok
    again = await import_file(first, sessions, today=TODAY)
    assert again.written is not None
    assert (again.written.persons_added, again.written.persons_updated) == (0, 0)
    assert again.written.persons_unchanged == 2 and again.written.households_added == 0

    async with sessions() as s, s.begin():
        person = await find_person_by_id_number(s, ID1)
        assert person is not None
        started = await rec.get_or_start_draft(
            s,
            person,
            form_id="f",
            form_version=1,
            filled_by=FilledBy.resident,
            state={"form_id": "f", "form_version": 1, "answers": {"name": "林晓"}},
            actor=Actor.resident(1),
        )
        record_id, version = started.record.id, started.record.version

    updated = write_csv(
        tmp_path / "v2.csv",
        [
            person_row(ID1, mobile="13987654321", household="000009"),  # moved, new phone
            person_row(ID2, name="周静", mobile=""),  # empty cell keeps the known phone
            person_row(ID3, name="王小宝"),  # new person
        ],
    )
    report = await import_file(updated, sessions, today=TODAY)
    assert report.written is not None
    assert (report.written.persons_added, report.written.persons_updated) == (1, 1)
    assert report.written.persons_unchanged == 1
    async with sessions() as s:
        moved = await find_person_by_id_number(s, ID1)
        kept = await find_person_by_id_number(s, ID2)
        assert moved is not None and moved.mobile == "13987654321"
        household = await s.get(Household, moved.household_id)
        assert household is not None and household.number == "000009"
        assert kept is not None and kept.mobile == "13812345678"
        record = await s.get(Record, record_id)
        assert record is not None and record.version == version
        assert record.state["answers"] == {"name": "林晓"}
        assert record.household_id != moved.household_id  # the record stays as collected


async def test_ten_thousand_rows(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, roster: Rows
) -> None:
    rows = roster(10_000, 42)
    path = write_csv(tmp_path / "big.csv", rows)
    seen: list[tuple[str, int, int]] = []
    report = await import_file(
        path, sessions, today=TODAY, progress=lambda p, d, t: seen.append((p, d, t))
    )
    assert report.ok and report.written is not None
    assert report.written.persons_added == 10_000
    assert await count(sessions, Person) == 10_000
    assert await count(sessions, Household) == len({(r[2], r[3]) for r in rows})
    # Progress was reported for each phase and finished at 100 %.
    finished = {p for p, d, t in seen if d == t}
    assert {"read", "check", "households", "persons"} <= finished
    again = await import_file(path, sessions, today=TODAY)
    assert again.written is not None and again.written.persons_unchanged == 10_000


async def test_xlsx_as_excel_saves_it_dates_blank_rows_offset_and_merged_header(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    # The table starts in column B under a blank row, 户号 is a number, a blank row sits in the
    # middle, 登记日期 is a date cell and 备注 a header merged over two columns.
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append([])
    sheet.append([None, *ROSTER_HEADERS, "登记日期", "备 注"])
    sheet.merge_cells("L2:M2")
    sheet.append([None, *person_row(ID1, household=17), dt.datetime(2014, 9, 1), "一楼"])
    sheet.append([])
    bad = person_row(ID2, mobile="12345", household="000002")
    sheet.append([None, *bad, dt.date(2014, 9, 2), ""])
    path = tmp_path / "roster.xlsx"
    workbook.save(path)

    report = await import_file(path, sessions, today=TODAY)
    assert [str(p) for p in report.problems] == [
        "roster.xlsx: 第5行 联系电话 (H列): "
        "手机号码不正确：应为以1开头的11位号码，如 138 0000 1234。"
    ]
    assert report.rows == 2 and await count(sessions, Person) == 0

    sheet["H5"] = "13987654321"
    workbook.save(path)
    report = await import_file(path, sessions, today=TODAY)
    assert report.ok and report.written is not None and report.written.persons_added == 2
    assert report.extra_headers == ["登记日期", "备注"]
    async with sessions() as s:
        first = await find_person_by_id_number(s, ID1)
        assert first is not None and first.extra == {"登记日期": "2014-09-01", "备注": "一楼"}
        household = await s.get(Household, first.household_id)
        assert household is not None and household.number == "17"
        second = await find_person_by_id_number(s, ID2)
        assert second is not None and second.extra == {"登记日期": "2014-09-02"}


async def test_a_problem_after_thousands_of_good_rows_writes_nothing(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, roster: Rows
) -> None:
    # More rows than one staging chunk are good before the last one is not.
    rows = roster(CHUNK + 700, 5)
    good = write_csv(tmp_path / "good.csv", rows)
    rows[-1][5] = rows[-1][5][:-1] + ("0" if rows[-1][5][-1] != "0" else "1")
    bad = write_csv(tmp_path / "bad.csv", rows)
    report = await import_file(bad, sessions, today=TODAY)
    assert [p.row for p in report.problems] == [CHUNK + 701]
    assert report.written is None and report.rows == CHUNK + 700
    for model in (Person, Household, Community, District):
        assert await count(sessions, model) == 0
    # Nothing of the rejected import is left behind for the next one.
    report = await import_file(good, sessions, today=TODAY)
    assert report.written is not None and report.written.persons_added == CHUNK + 700
    assert await count(sessions, Person) == CHUNK + 700


async def test_an_investigator_added_person_on_the_roster_becomes_a_roster_person(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    assert (await import_file(write_csv(tmp_path / "a.csv", [person_row(ID1)]), sessions)).ok
    async with sessions() as s, s.begin():
        first = await find_person_by_id_number(s, ID1)
        assert first is not None
        s.add(
            Person(
                household_id=first.household_id,
                community_id=first.community_id,
                street_id=first.street_id,
                district_id=first.district_id,
                name="周静",
                id_number=ID2,
                on_roster=False,
            )
        )
    report = await import_file(
        write_csv(tmp_path / "b.csv", [person_row(ID1), person_row(ID2, name="周静")]),
        sessions,
        today=TODAY,
    )
    assert report.written is not None
    assert (report.written.persons_added, report.written.persons_updated) == (0, 1)
    async with sessions() as s:
        second = await find_person_by_id_number(s, ID2)
        assert second is not None and second.on_roster and second.mobile == "13812345678"


async def test_a_change_only_in_family_members_or_notes_is_an_update(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    headers = [*ROSTER_HEADERS, "备注"]
    first = [
        [*person_row(ID1, members="李四(父)"), "一楼"],
        [*person_row(ID2, name="周静"), "二楼"],
        [*person_row(ID3, name="王小宝"), ""],
    ]
    assert (await import_file(write_csv(tmp_path / "a.csv", first, headers), sessions)).ok
    second = [
        [*person_row(ID1, members="李四(父); 王五(母)"), "一楼"],
        [*person_row(ID2, name="周静"), "三楼"],
        [*person_row(ID3, name="王小宝", members="见附件#3"), ""],
    ]
    report = await import_file(write_csv(tmp_path / "b.csv", second, headers), sessions)
    assert report.written is not None
    assert (report.written.persons_updated, report.written.persons_unchanged) == (3, 0)
    async with sessions() as s:
        one = await find_person_by_id_number(s, ID1)
        two = await find_person_by_id_number(s, ID2)
        three = await find_person_by_id_number(s, ID3)
        assert one is not None and [m["姓名"] for m in one.insured_members] == ["李四", "王五"]
        assert two is not None and two.extra == {"备注": "三楼"}
        assert three is not None and three.insured_members_raw == "见附件#3"
    again = await import_file(write_csv(tmp_path / "b.csv", second, headers), sessions)
    assert again.written is not None and again.written.persons_unchanged == 3
