"""Check every roster cell before anything is written; turn good rows into ``RosterRow``s."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bot import clock
from bot.roster.errors import RosterProblem
from bot.roster.members import parse_insured_members
from bot.roster.reader import RawTable, Rows, column_letter
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


def cell_text(value: Any) -> str:
    """A cell as cleaned text (see :func:`flows.values.clean_text`): numbers without ".0",
    dates in ISO form, empty for an empty cell."""
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
    text = cell_text(value)
    if not text:
        return None, None
    try:
        return values.mobile(text), None
    except values.Invalid as exc:
        return None, exc.message


def check_name(value: Any) -> tuple[str | None, str | None]:
    """(the name as kept, None) or (None, what is wrong), by :func:`flows.values.person_name`."""
    text = cell_text(value)
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
    checker = RowChecker(table, today=today)
    result = CheckResult(problems=list(checker.problems), extra_headers=checker.extras)
    if checker.problems:
        return result
    for row, problems in checker.check_rows(table.rows, progress, table.expected_rows):
        if row is None:
            result.problems.extend(problems)
        else:
            result.rows.append(row)
    return result


class RowChecker:
    """Checks a table's rows one by one (the header is mapped once), remembering the ID numbers
    seen so far to report a person listed twice; ``problems`` are the header's, if any."""

    def __init__(self, table: RawTable, *, today: dt.date | None = None) -> None:
        self.file = table.name
        self.today = today or clock.today()
        self.columns, self.problems, self.extras = map_headers(table)
        self.rows = 0
        self._seen: dict[str, int] = {}
        if self.problems:
            return
        columns = self.columns
        self._text_required = [(h, columns[h], MAX_LENGTH[h]) for h in _TEXT_REQUIRED]
        self._id_column = columns["公民身份号码"]
        self._name_column = columns["姓名"]
        self._mobile_column = columns.get("联系电话")
        self._optional = [columns.get(h) for h in ("居住地址", "户籍地址", "已参保家庭成员")]
        self._extra_columns = [(h, columns[h]) for h in self.extras]
        self._width = max(columns.values()) + 1

    def check_rows(
        self, rows: Rows, progress: Progress | None = None, expected: int = 0
    ) -> Iterator[tuple[RosterRow | None, list[RosterProblem]]]:
        """Each row's outcome in file order: (the RosterRow, []) or (None, its problems)."""
        step = max(expected // 100, 1000)
        done = 0
        for number, cells in rows:
            done += 1
            if progress and done % step == 0:
                progress("check", done, max(expected, done))
            yield self.check(number, cells)
        self.rows += done
        if progress:
            progress("check", done, done)

    def check(self, number: int, cells: list[Any]) -> tuple[RosterRow | None, list[RosterProblem]]:
        """One row: the RosterRow, or None and every problem in it."""
        if len(cells) < self._width:
            cells = [*cells, *[None] * (self._width - len(cells))]
        problems: list[RosterProblem] = []
        texts: list[str] = []
        for header, index, longest in self._text_required:
            text = cell_text(cells[index])
            if not text:
                problems.append(self._problem(number, header, "不能为空"))
            elif len(text) > longest:
                problems.append(self._problem(number, header, f"太长（最多{longest}个字）"))
            texts.append(text)

        name, wrong = check_name(cells[self._name_column])
        if wrong:
            problems.append(self._problem(number, "姓名", wrong))

        id_number, wrong = check_id_number(cells[self._id_column], self.today)
        if wrong:
            problems.append(self._problem(number, "公民身份号码", wrong))
        elif id_number is not None:
            first = self._seen.setdefault(id_number, number)
            if first != number:
                message = f"与第{first}行重复（同一人只能出现一次）"
                problems.append(self._problem(number, "公民身份号码", message))

        mobile = None
        if self._mobile_column is not None:
            mobile, wrong = check_mobile(cells[self._mobile_column])
            if wrong:
                problems.append(self._problem(number, "联系电话", wrong))

        if problems or id_number is None or name is None:
            return None, problems
        residence = hukou = members_cell = None
        at_residence, at_hukou, at_members = self._optional
        if at_residence is not None:
            residence = cell_text(cells[at_residence]) or None
        if at_hukou is not None:
            hukou = cell_text(cells[at_hukou]) or None
        if at_members is not None:
            members_cell = cell_text(cells[at_members]) or None
        members, members_raw = parse_insured_members(members_cell) if members_cell else ([], None)
        extra = (
            {h: t for h, i in self._extra_columns if (t := cell_text(cells[i]))}
            if self._extra_columns
            else {}
        )
        district, street, community, household = texts
        row = RosterRow(
            district=district,
            street=street,
            community=community,
            household=household,
            name=name,
            id_number=id_number,
            mobile=mobile,
            residence_address=residence,
            hukou_address=hukou,
            insured_members=members,
            insured_members_raw=members_raw,
            extra=extra,
        )
        return row, problems

    def _problem(self, number: int, header: str, message: str) -> RosterProblem:
        column = column_letter(self.columns[header])
        return RosterProblem(self.file, message, number, header, column)
