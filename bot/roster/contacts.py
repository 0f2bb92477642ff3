"""Contact log files (电话联系记录): read like a roster (.xlsx / .csv), check every cell and
every person, then write all of it in one transaction — or nothing.

Columns: 公民身份号码, 联系日期, 联系结果 (已通知 / 无人接听 / 号码错误 / 拒绝 / 已在外地参保),
optionally 姓名 (checked against the roster), 联系人 (an investigator's name or a staff
member's username or name; empty: whoever runs the import) and 备注. Problems name the file,
row and column, as roster problems do.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.roster.errors import RosterProblem
from bot.roster.reader import RawTable, column_letter, read_table
from bot.roster.validate import cell_text, check_id_number
from flows import values
from storage.models import ContactOutcome, Investigator, Person, Staff
from storage.person_status import OUTCOME_LABELS, RECORDABLE_OUTCOMES
from storage.repositories.actors import Actor
from storage.repositories.contacts import ContactEntry, add_contacts, check_contact
from storage.repositories.errors import ContactError

REQUIRED = ("公民身份号码", "联系日期", "联系结果")
OPTIONAL = ("姓名", "联系人", "备注")
ALIASES = {
    "身份证号码": "公民身份号码",
    "身份证号": "公民身份号码",
    "日期": "联系日期",
    "结果": "联系结果",
    "联系情况": "联系结果",
    "说明": "备注",
}
# What 联系结果 may say: the labels, or the codes of the API.
_OUTCOMES = {OUTCOME_LABELS[o]: o for o in RECORDABLE_OUTCOMES} | {
    str(o): o for o in RECORDABLE_OUTCOMES
}
_FIELD_HEADER = {"outcome": "联系结果", "on": "联系日期", "note": "备注"}
_CHUNK = 2000


@dataclass(frozen=True, slots=True)
class ContactLine:
    """One checked row of the file."""

    row: int
    id_number: str
    on: dt.date
    outcome: ContactOutcome
    note: str | None
    name: str | None
    by: str | None


@dataclass(slots=True)
class ContactsReport:
    """The check's outcome and, when written, how many contacts went in."""

    file: str
    rows: int
    problems: list[RosterProblem] = field(default_factory=list)
    extra_headers: list[str] = field(default_factory=list)
    people: int = 0
    written: int | None = None

    @property
    def ok(self) -> bool:
        """Nothing wrong in the file."""
        return not self.problems


def parse_day(value: Any) -> dt.date | None:
    """A date cell: an Excel date, or text such as 2014-11-20, 2014/11/20, 2014年11月20日."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return values.parse_date(cell_text(value))
    except values.Invalid:
        return None


def parse_outcome(value: Any) -> ContactOutcome | None:
    """A 联系结果 cell: one of the outcomes' words (or codes)."""
    return _OUTCOMES.get("".join(cell_text(value).split()))


def _columns(table: RawTable) -> tuple[dict[str, int], list[str], list[RosterProblem]]:
    columns: dict[str, int] = {}
    extra: list[str] = []
    for index, header in enumerate(table.headers):
        name = ALIASES.get(header, header)
        if name in REQUIRED or name in OPTIONAL:
            columns.setdefault(name, index)
        elif header:
            extra.append(header)
    missing = [h for h in REQUIRED if h not in columns]
    problems = []
    if missing:
        problems.append(
            RosterProblem(
                table.name,
                f"缺少列：{'、'.join(missing)}（第一行应为表头：{'、'.join(REQUIRED + OPTIONAL)}）",
            )
        )
    return columns, extra, problems


def check_table(
    table: RawTable, today: dt.date
) -> tuple[list[ContactLine], list[RosterProblem], list[str]]:
    """Every cell checked (nothing looked up yet): the good rows, the problems, the headers
    that are not imported."""
    columns, extra, problems = _columns(table)
    if problems:
        return [], problems, extra
    lines: list[ContactLine] = []

    def problem(row: int, header: str, message: str) -> None:
        problems.append(
            RosterProblem(table.name, message, row, header, column_letter(columns[header]))
        )

    def cell(cells: list[Any], header: str) -> Any:
        index = columns.get(header)
        return cells[index] if index is not None and index < len(cells) else None

    allowed = "、".join(OUTCOME_LABELS[o] for o in RECORDABLE_OUTCOMES)
    for row, cells in table.rows:
        before = len(problems)
        number, wrong = check_id_number(cell(cells, "公民身份号码"), today)
        if wrong:
            problem(row, "公民身份号码", wrong)
        raw_day = cell(cells, "联系日期")
        day = parse_day(raw_day)
        if day is None:
            shown = cell_text(raw_day)
            problem(
                row,
                "联系日期",
                f"{'不能为空' if not shown else f'{shown} 不是日期'}（应写成 2014-11-20）",
            )
        outcome = parse_outcome(cell(cells, "联系结果"))
        if outcome is None:
            got = cell_text(cell(cells, "联系结果"))
            problem(row, "联系结果", f"应为 {allowed} 之一（收到 {got!r}）")
        note = cell_text(cell(cells, "备注")) or None
        if day is not None and outcome is not None:
            try:
                check_contact(outcome, day, note, today=today)
            except ContactError as exc:
                problem(row, _FIELD_HEADER.get(exc.field or "", "联系结果"), str(exc))
        if len(problems) == before:
            assert number is not None and day is not None and outcome is not None
            lines.append(
                ContactLine(
                    row,
                    number,
                    day,
                    outcome,
                    note,
                    cell_text(cell(cells, "姓名")) or None,
                    cell_text(cell(cells, "联系人")) or None,
                )
            )
    return lines, problems, extra


async def _callers(
    session: AsyncSession, names: set[str]
) -> dict[str, tuple[Actor, Staff | None, Investigator | None] | str]:
    """Who each 联系人 is: an active investigator by name, or an active staff member by
    username or name; a string says why not."""
    found: dict[str, tuple[Actor, Staff | None, Investigator | None] | str] = {}
    if not names:
        return found
    investigators = (
        await session.scalars(
            select(Investigator)
            .where(Investigator.name.in_(names), Investigator.revoked_at.is_(None))
            .options(selectinload(Investigator.communities))
        )
    ).all()
    staff = (
        await session.scalars(
            select(Staff).where(
                or_(Staff.username.in_(names), Staff.display_name.in_(names)),
                Staff.active.is_(True),
            )
        )
    ).all()
    for name in names:
        who_inv = [i for i in investigators if i.name == name]
        who_staff = [s for s in staff if name in (s.username, s.display_name)]
        if len(who_inv) + len(who_staff) > 1:
            found[name] = f"联系人 {name} 有重名，请改用工作人员的用户名"
        elif who_inv:
            found[name] = (Actor.investigator(who_inv[0]), None, who_inv[0])
        elif who_staff:
            found[name] = (Actor.staff(who_staff[0]), who_staff[0], None)
        else:
            found[name] = f"联系人 {name} 不是在职的调查员或工作人员"
    return found


async def import_contacts_file(
    path: Path,
    sessions: async_sessionmaker[AsyncSession],
    *,
    today: dt.date,
    actor: Actor,
    dry_run: bool = False,
) -> ContactsReport:
    """Check ``path`` (cells, then people and callers in the store) and, if nothing is wrong
    and not ``dry_run``, record every contact in one transaction. RosterFileError when the
    file cannot be read at all."""
    table = read_table(path)
    lines, problems, extra = check_table(table, today)
    report = ContactsReport(path.name, table.expected_rows, problems, extra)
    if report.problems:
        return report
    column = _columns(table)[0]

    def problem(line: ContactLine, header: str, message: str) -> None:
        letter = column_letter(column[header])
        report.problems.append(RosterProblem(table.name, message, line.row, header, letter))

    async with sessions() as session, session.begin():
        persons: dict[str, tuple[int, str, int]] = {}
        numbers = sorted({line.id_number for line in lines})
        for start in range(0, len(numbers), _CHUNK):
            result = await session.execute(
                select(Person.id_number, Person.id, Person.name, Person.community_id).where(
                    Person.id_number.in_(numbers[start : start + _CHUNK])
                )
            )
            persons.update({number: (pid, name, c) for number, pid, name, c in result.all()})
        callers = await _callers(session, {line.by for line in lines if line.by})
        groups: dict[str | None, list[ContactEntry]] = defaultdict(list)
        for line in lines:
            known = persons.get(line.id_number)
            if known is None:
                problem(line, "公民身份号码", "名册中没有这个公民身份号码")
                continue
            if line.name is not None and line.name != known[1]:
                problem(line, "姓名", f"与名册不符（名册上为 {known[1]}）")
                continue
            caller = callers[line.by] if line.by is not None else None
            if isinstance(caller, str):
                problem(line, "联系人", caller)
                continue
            investigator = caller[2] if caller is not None else None
            if investigator is not None and known[2] not in {
                c.id for c in investigator.communities
            }:
                problem(line, "联系人", f"调查员 {investigator.name} 不负责 {known[1]} 所在的社区")
                continue
            groups[line.by].append(ContactEntry(known[0], line.outcome, line.on, line.note))
        report.people = len({e.person_id for entries in groups.values() for e in entries})
        if report.problems or dry_run:
            return report
        written = 0
        for by, entries in groups.items():
            who = callers[by] if by is not None else (actor, None, None)
            assert not isinstance(who, str)
            written += await _write(session, entries, who, today, path.name)
        report.written = written
    return report


async def _write(
    session: AsyncSession,
    entries: Sequence[ContactEntry],
    who: tuple[Actor, Staff | None, Investigator | None],
    today: dt.date,
    source: str,
) -> int:
    by, staff, investigator = who
    return await add_contacts(
        session,
        entries,
        today=today,
        actor=by,
        channel="import",
        source=source,
        staff=staff,
        investigator=investigator,
    )
