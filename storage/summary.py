"""The work summary of a district (or the city, a street, a community) for a period (工作总结,
四.3), from the same queries as the console's progress page, so every figure equals the
console's for the same scope.

Status figures (roster, reached, collected, 未采集 by reason) are as of now, like the progress
page; what happened *in* the period (records handed in and confirmed per day, returns,
enrolments after mobilisation) is counted between ``date_from`` and ``date_to`` (survey days in
``zone``, both included). The answers' figures (insured elsewhere, never insured / lapsed by
current status and by reason) come from the newest answers of the handed-in, collected records.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import people, reporting
from storage.models import AuditEvent, ContactOutcome, Person, Record
from storage.reporting import NOT_COLLECTED, RecordFilter, day_start

UNINSURED = ("never", "lapsed")


@dataclass
class WorkSummary:
    """Every figure of the summary (codes; the printing layer words them)."""

    level: str
    area_id: int | None
    name: str
    date_from: dt.date
    date_to: dt.date
    progress: reporting.AreaProgress
    reach: people.ReachLine
    children: list[tuple[reporting.AreaProgress, people.ReachLine]]
    insured_elsewhere: int = 0
    contacted_insured_elsewhere: int = 0
    by_current_status: dict[str, Counter[str]] = field(default_factory=dict)
    by_reason: dict[str, Counter[str]] = field(default_factory=dict)
    employers: int = 0
    employer_people: int = 0
    enrolled: int = 0
    enrolled_by_insurance: Counter[str] = field(default_factory=Counter)
    returns: int = 0
    return_fields: Counter[str] = field(default_factory=Counter)
    daily: dict[str, dict[dt.date, int]] = field(default_factory=dict)

    @property
    def reached(self) -> int:
        """Roster people anyone has reached (everyone but 未联系)."""
        return self.reach.target - self.reach.not_contacted

    @property
    def uninsured(self) -> int:
        """Collected records of people never insured or lapsed."""
        return sum(sum(c.values()) for c in self.by_current_status.values())


def _record_filter(level: str, area_id: int | None) -> RecordFilter:
    return RecordFilter(
        district_id=area_id if level == "district" else None,
        street_id=area_id if level == "street" else None,
        community_id=area_id if level == "community" else None,
    )


def _area_where(level: str, area_id: int | None) -> list[Any]:
    column = {
        "district": Record.district_id,
        "street": Record.street_id,
        "community": Record.community_id,
    }.get(level)
    return [] if column is None else [column == area_id]


async def work_summary(
    session: AsyncSession,
    scope: int | None,
    level: str,
    area_id: int | None,
    name: str,
    *,
    date_from: dt.date,
    date_to: dt.date,
    zone: ZoneInfo,
) -> WorkSummary:
    """The summary of the area (within ``scope``; the caller checks the area lies in it)."""
    total, lines = await reporting.progress(session, scope, level, area_id)
    reach_total, reach_lines = await people.reach(session, scope, level, area_id)
    by_id = {line.id: line for line in reach_lines}
    children = [
        (line, by_id.get(line.id) or people.ReachLine(line.level, line.id, line.name))
        for line in lines
    ]
    s = WorkSummary(level, area_id, name, date_from, date_to, total, reach_total, children)
    f = _record_filter(level, area_id)
    async for row in reporting.stream_records(session, scope, f):
        a = row.answers
        if a.get("collection_status") == NOT_COLLECTED:
            continue
        insured = a.get("insured_status")
        if insured == "elsewhere":
            s.insured_elsewhere += 1
        elif insured in UNINSURED:
            s.by_current_status.setdefault(insured, Counter())[str(a.get("current_status"))] += 1
            reasons = s.by_reason.setdefault(insured, Counter())
            for reason in a.get("uninsured_reasons") or []:
                reasons[str(reason)] += 1
    # Insured elsewhere as a caller heard it, before any form.
    s.contacted_insured_elsewhere = int(
        await session.scalar(_contact_elsewhere(scope, level, area_id)) or 0
    )
    employers = await reporting.uninsuring_employers(session, scope, f)
    s.employers = len(employers)
    s.employer_people = sum(e.people for e in employers)
    await _period(session, s, scope, zone)
    return s


def _contact_elsewhere(scope: int | None, level: str, area_id: int | None) -> Any:
    stmt = (
        select(func.count())
        .select_from(Person)
        .outerjoin(Record, Record.live_person_id == Person.id)
        .where(
            Person.on_roster.is_(True),
            Record.id.is_(None),
            Person.last_contact_outcome == ContactOutcome.insured_elsewhere,
        )
    )
    column = {
        "district": Person.district_id,
        "street": Person.street_id,
        "community": Person.community_id,
    }.get(level)
    if column is not None:
        stmt = stmt.where(column == area_id)
    if scope is not None:
        stmt = stmt.where(Person.district_id == scope)
    return stmt


async def _period(session: AsyncSession, s: WorkSummary, scope: int | None, zone: ZoneInfo) -> None:
    start = day_start(s.date_from, zone)
    end = day_start(s.date_to + dt.timedelta(days=1), zone)
    daily = await reporting.daily_counts(session, scope, s.level, s.area_id, zone=zone)
    s.daily = {
        key: {day: n for day, n in days.items() if s.date_from <= day <= s.date_to}
        for key, days in daily.items()
    }
    where = [Record.discarded_at.is_(None), *_area_where(s.level, s.area_id)]
    if scope is not None:
        where.append(Record.district_id == scope)
    enrolled = select(Record.enrolled_insurance, func.count()).where(
        *where,
        Record.enrolled_at.is_not(None),
        Record.enrolled_at >= s.date_from,
        Record.enrolled_at <= s.date_to,
    )
    for insurance, n in (await session.execute(enrolled.group_by(Record.enrolled_insurance))).all():
        s.enrolled_by_insurance[insurance or ""] += n
        s.enrolled += n
    returns = (
        select(AuditEvent.details)
        .join(Record, Record.id == AuditEvent.record_id)
        .where(*where, AuditEvent.action == "returned", AuditEvent.at >= start, AuditEvent.at < end)
    )
    for (details,) in (await session.execute(returns)).all():
        s.returns += 1
        for name in (details or {}).get("fields") or []:
            s.return_fields[str(name)] += 1
