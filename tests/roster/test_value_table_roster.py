"""The table of typed values (tests/value_cases.py) through the roster import's cell checks,
the same rules as the chats' (only the spreadsheet's own damage, numbers stored as numbers,
has messages of its own: see test_validate.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.roster.reader import RawTable
from bot.roster.validate import REQUIRED, check_table
from tests.value_cases import ID, ID_CASES, MOBILE_CASES, NAME_CASES, Case, ids

TODAY = dt.date(2026, 12, 4)
HEADERS = [*REQUIRED, "联系电话"]


def _import(column: str, typed: str) -> tuple[str | None, list[str]]:
    cells = {"区": "姑苏区", "街道": "平江街道", "社区": "平江路社区", "户号": "0001"}
    cells |= {"姓名": "林晓", "公民身份号码": ID, "联系电话": "13912345678", column: typed}
    result = check_table(
        RawTable("r.csv", HEADERS, [(2, [cells[h] for h in HEADERS])]), today=TODAY
    )
    if not result.rows:
        return None, [p.message for p in result.problems if p.header == column]
    row = result.rows[0]
    kept = {"公民身份号码": row.id_number, "联系电话": row.mobile, "姓名": row.name}[column]
    return kept, []


def _check(column: str, case: Case) -> None:
    kept, problems = _import(column, case.typed)
    if case.accepted:
        assert kept == case.kept, problems
    else:
        assert kept is None and problems == [case.message]


@pytest.mark.parametrize("case", ID_CASES, ids=ids(ID_CASES))
def test_id_number_cell(case: Case) -> None:
    _check("公民身份号码", case)


@pytest.mark.parametrize("case", MOBILE_CASES, ids=ids(MOBILE_CASES))
def test_mobile_cell(case: Case) -> None:
    _check("联系电话", case)


@pytest.mark.parametrize("case", NAME_CASES, ids=ids(NAME_CASES))
def test_name_cell(case: Case) -> None:
    _check("姓名", case)


def test_text_cells_are_cleaned() -> None:
    cells = [
        "姑苏区\u200b",
        "平江\u202e街道",
        "平江路社区\x00",
        "0001",
        "林\u200d晓",
        ID,
        "139 1234 5678",
    ]
    result = check_table(RawTable("r.csv", HEADERS, [(2, cells)]), today=TODAY)
    assert result.ok, result.problems
    row = result.rows[0]
    assert (row.district, row.street, row.community, row.name) == (
        "姑苏区",
        "平江街道",
        "平江路社区",
        "林晓",
    )
