"""Check every roster cell before anything is written; turn good rows into ``RosterRow``s."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import phonenumbers
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent

from bot import clock
from bot.roster.errors import RosterProblem
from bot.roster.members import parse_insured_members
from bot.roster.reader import RawTable, Rows, column_letter
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
_TEXT_REQUIRED = ("区", "街道", "社区", "户号", "姓名")
MAX_LENGTH = {"区": 32, "街道": 64, "社区": 64, "户号": 32, "姓名": 30}
_BAD_MOBILE = "不是有效的大陆手机号码（应为11位，例如 13812345678）"
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
    if value is None:
        return ""
    if type(value) is str:
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def check_id_number(value: Any, today: dt.date) -> tuple[str | None, str | None]:
    """(normalised number, None) or (None, what is wrong in Chinese)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "不能为空"
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Excel keeps 15 significant digits: an 18-digit number stored as a number has lost its
        # last digits, and one time in eleven the damaged number still passes the check digit.
        shown = f"{value:.5E}" if isinstance(value, float) else str(value)
        return None, (
            f"被存成了数字（{shown}），末尾几位可能已丢失；请把该列设为“文本”格式，重新录入后再导入"
        )
    text = "".join(str(value).split()).upper()
    if _EXCEL_NUMBER.match(text):
        return None, (
            f"被 Excel 存成了科学计数法（{text}），末尾几位已丢失；"
            "请把该列设为“文本”格式，重新录入后再导入"
        )
    if len(text) != 18:
        return None, f"应为18位（现为{len(text)}位）"
    if not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        return None, "前17位应为数字，最后一位为数字或 X"
    if ric.calc_check_digit(text) != text[17]:
        return None, "校验位错误（最后一位与前17位不符），请核对号码"
    try:
        birth = dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return None, f"出生日期 {text[6:14]} 不存在"
    if not _region_in_force(text[:6], birth.year):
        return None, f"地区码 {text[:6]} 不存在，或在出生年份尚未启用"
    if birth > today:
        return None, f"出生日期 {text[6:14]} 在今天之后"
    return text, None


@lru_cache(maxsize=65536)
def _region_in_force(region: str, year: int) -> bool:
    # stdnum's region lookup scans its data file (~0.1 ms); rosters repeat a few hundred
    # (region, birth year) pairs, so the answer is computed once per pair.
    probe = f"{region}{year:04d}0101000"
    try:
        ric.get_birth_place(probe + ric.calc_check_digit(probe + "0"))
    except InvalidComponent:
        return False
    return True


def check_mobile(value: Any) -> tuple[str | None, str | None]:
    """(11-digit mobile or None when empty, None) or (None, what is wrong)."""
    text = _text(value)
    if not text:
        return None, None
    if len(text) == 11 and text.isascii() and text.isdigit():
        if _mobile_block_valid(text[:7]):
            return text, None
        return None, _BAD_MOBILE
    try:
        parsed = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        parsed = None
    if (
        parsed is None
        or parsed.country_code != 86
        or not phonenumbers.is_valid_number(parsed)
        or phonenumbers.number_type(parsed)
        not in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )
    ):
        return None, _BAD_MOBILE
    return str(parsed.national_number), None


@lru_cache(maxsize=65536)
def _mobile_block_valid(prefix7: str) -> bool:
    # libphonenumber's mainland mobile patterns look at no more than the first 5 digits of an
    # 11-digit number, so validity is decided per 7-digit number block (parsing every number
    # of a 200,000-row roster would take most of the import time).
    return check_mobile(prefix7 + "-0000")[0] is not None


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
        values: list[str] = []
        for header, index, longest in self._text_required:
            value = cells[index]
            text = value.strip() if type(value) is str else _text(value)
            if not text:
                problems.append(self._problem(number, header, "不能为空"))
            elif len(text) > longest:
                problems.append(self._problem(number, header, f"太长（最多{longest}个字）"))
            values.append(text)

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

        if problems or id_number is None:
            return None, problems
        residence = hukou = members_cell = None
        at_residence, at_hukou, at_members = self._optional
        if at_residence is not None:
            v = cells[at_residence]
            residence = (v.strip() if type(v) is str else _text(v)) or None
        if at_hukou is not None:
            v = cells[at_hukou]
            hukou = (v.strip() if type(v) is str else _text(v)) or None
        if at_members is not None:
            v = cells[at_members]
            members_cell = (v.strip() if type(v) is str else _text(v)) or None
        members, members_raw = parse_insured_members(members_cell) if members_cell else ([], None)
        extra = (
            {h: t for h, i in self._extra_columns if (t := _text(cells[i]))}
            if self._extra_columns
            else {}
        )
        district, street, community, household, name = values
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
