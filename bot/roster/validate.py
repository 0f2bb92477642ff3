"""Check every roster cell before anything is written; turn good rows into ``RosterRow``s."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot import clock
from bot.roster.errors import RosterProblem
from bot.roster.members import parse_insured_members
from bot.roster.reader import RawTable, column_letter
from flows import values
from flows.values import clean_text
from storage.repositories.roster import RosterRow

REQUIRED = ("区", "街道", "社区", "户号", "姓名", "公民身份号码")
OPTIONAL = ("联系电话", "居住地址", "户籍地址", "已参保家庭成员")
# Other spellings seen on real rosters, mapped to the canonical header.
ALIASES = {
    "身份证号码": "公民身份号码",
    "身份证号": "公民身份号码",
    "手机号码": "联系电话",
    "电话": "联系电话",
    "常住地址": "居住地址",
    "已参保家庭成员情况": "已参保家庭成员",
}
_TEXT_REQUIRED = ("区", "街道", "社区", "户号")
MAX_LENGTH = {"区": 32, "街道": 64, "社区": 64, "户号": 32}
_EXCEL_NUMBER = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")

Progress = Callable[[str, int, int], None]


@dataclass(slots=True)
class CheckResult:
    """Rows that passed and every problem found (the file is imported only if none)."""

    rows: list[RosterRow] = field(default_factory=list)
    problems: list[RosterProblem] = field(default_factory=list)
    extra_headers: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems


def _text(value: Any) -> str:
    # Every text cell goes through the one free-text cleaning (controls, zero-width and bidi
    # characters, lone surrogates, NFC) before it is checked or kept.
    if value is None:
        return ""
    if type(value) is str:
        return clean_text(value).strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return clean_text(str(value)).strip()


def check_id_number(value: Any, today: dt.date) -> tuple[str | None, str | None]:
    """(normalised number, None) or (None, what is wrong in Chinese).

    The number itself is judged by :func:`flows.values.id_number`, as in every channel; only
    what a spreadsheet does to a cell (a number instead of text) is said here.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "不能为空"
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Excel keeps 15 significant digits: an 18-digit number stored as a number has lost its
        # last digits, and one time in eleven the damaged number still passes the check digit.
        shown = f"{value:.5E}" if isinstance(value, float) else str(value)
        return None, (
            f"被存成了数字（{shown}），末尾几位可能已丢失；请把该列设为“文本”格式，重新录入后再导入"
        )
    text = str(value)
    if _EXCEL_NUMBER.match(text.strip()):
        return None, (
            f"被 Excel 存成了科学计数法（{text.strip()}），末尾几位已丢失；"
            "请把该列设为“文本”格式，重新录入后再导入"
        )
    try:
        return values.id_number(text, today), None
    except values.Invalid as exc:
        return None, exc.message


def check_mobile(value: Any) -> tuple[str | None, str | None]:
    """(11-digit mobile or None when empty, None) or (None, what is wrong)."""
    text = _text(value)
    if not text:
        return None, None
    try:
        return values.mobile(text), None
    except values.Invalid as exc:
        return None, exc.message


def check_name(value: Any) -> tuple[str | None, str | None]:
    """(the name as kept, None) or (None, what is wrong), by :func:`flows.values.person_name`."""
    text = _text(value)
    if not text:
        return None, "不能为空"
    try:
        return values.person_name(text), None
    except values.Invalid as exc:
        return None, exc.message


def map_headers(table: RawTable) -> tuple[dict[str, int], list[RosterProblem], list[str]]:
    """Column index of each known header, file-level problems, and the extra headers."""
    columns: dict[str, int] = {}
    problems: list[RosterProblem] = []
    extras: list[str] = []
    for index, raw in enumerate(table.headers):
        if not raw:
            continue
        name = ALIASES.get(raw, raw)
        if name in columns:
            problems.append(
                RosterProblem(
                    table.name,
                    f"表头 {name} 出现了两次"
                    f"（{column_letter(columns[name])}列和{column_letter(index)}列）",
                )
            )
            continue
        columns[name] = index
        if name not in REQUIRED and name not in OPTIONAL:
            extras.append(name)
    missing = [h for h in REQUIRED if h not in columns]
    if missing:
        problems.append(
            RosterProblem(
                table.name,
                f"缺少必需的列：{'、'.join(missing)}（表头应在第一行：{'、'.join(REQUIRED)}）",
            )
        )
    return columns, problems, extras


def check_table(
    table: RawTable, *, today: dt.date | None = None, progress: Progress | None = None
) -> CheckResult:
    """Check every row of the table; all problems are collected, not just the first."""
    today = today or clock.today()
    columns, problems, extras = map_headers(table)
    result = CheckResult(problems=problems, extra_headers=extras)
    if problems:
        return result
    seen: dict[str, int] = {}
    total = len(table.rows)
    step = max(total // 100, 1000)
    for done, (number, cells) in enumerate(table.rows, start=1):
        if progress and (done % step == 0 or done == total):
            progress("check", done, total)
        row, row_problems = _check_row(table.name, columns, extras, number, cells, today, seen)
        if row is None:
            result.problems.extend(row_problems)
        else:
            result.rows.append(row)
    return result


def _check_row(
    file: str,
    columns: dict[str, int],
    extras: list[str],
    number: int,
    cells: list[Any],
    today: dt.date,
    seen: dict[str, int],
) -> tuple[RosterRow | None, list[RosterProblem]]:
    """One row: the RosterRow, or None and every problem in it."""
    width = len(cells)
    raw = {h: cells[i] if i < width else None for h, i in columns.items()}
    problems: list[RosterProblem] = []

    def problem(header: str, message: str) -> None:
        column = column_letter(columns[header])
        problems.append(RosterProblem(file, message, number, header, column))

    cells_text: dict[str, str] = {}
    for header in _TEXT_REQUIRED:
        text = _text(raw[header])
        if not text:
            problem(header, "不能为空")
        elif len(text) > MAX_LENGTH[header]:
            problem(header, f"太长（最多{MAX_LENGTH[header]}个字）")
        cells_text[header] = text

    name, wrong = check_name(raw["姓名"])
    if wrong:
        problem("姓名", wrong)

    id_number, wrong = check_id_number(raw["公民身份号码"], today)
    if wrong:
        problem("公民身份号码", wrong)
    elif id_number is not None:
        if id_number in seen:
            problem("公民身份号码", f"与第{seen[id_number]}行重复（同一人只能出现一次）")
        else:
            seen[id_number] = number

    mobile = None
    if "联系电话" in raw:
        mobile, wrong = check_mobile(raw["联系电话"])
        if wrong:
            problem("联系电话", wrong)

    if problems or id_number is None or name is None:
        return None, problems
    members, members_raw = parse_insured_members(_text(raw.get("已参保家庭成员")) or None)
    extra = {h: t for h in extras if (t := _text(raw[h]))}
    row = RosterRow(
        district=cells_text["区"],
        street=cells_text["街道"],
        community=cells_text["社区"],
        household=cells_text["户号"],
        name=name,
        id_number=id_number,
        mobile=mobile,
        residence_address=_text(raw.get("居住地址")) or None,
        hukou_address=_text(raw.get("户籍地址")) or None,
        insured_members=members,
        insured_members_raw=members_raw,
        extra=extra,
    )
    return row, []
