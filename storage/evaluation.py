"""The city's evaluation of communities and investigators (检查、评估、考核, 四.3): one line each
with coverage, completeness, timeliness, household completeness and the 未采集 share.

Definitions (:data:`DEFINITIONS` words them for the table):

* coverage — roster people reached (any status but 未联系) per roster person;
* completeness — handed-in records never returned for a missing or wrong answer, per handed-in
  record (a record returned once counts as returned, however often it was fixed);
* timeliness — records first handed in by the end of the community deadline (Beijing days),
  per roster person;
* household completeness (户不漏人) — households whose people are all handed in, per household;
* 未采集 share — records handed in as 未采集, per roster person, with their reasons.

A community's figures are its roster's and its records'; an investigator's are the roster of
their communities (coverage, households) and the records they filled themselves. Statuses come
from :func:`storage.person_status.person_status_sql`; ``scope`` is applied in SQL.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import people
from storage.models import (
    AuditEvent,
    Community,
    District,
    Household,
    Person,
    Record,
    RecordRevision,
    Street,
    investigator_communities,
)
from storage.person_status import PersonStatus, person_status_sql
from storage.reporting import HANDED_IN, NOT_COLLECTED

DEFINITIONS = (
    ("覆盖率", "已联系（除“未联系”外的任何状态）的花名册人数 ÷ 花名册人数。"),
    ("完整准确率", "交表后从未因漏项或错项被退回的记录数 ÷ 已交表记录数（退回过一次即计为退回）。"),
    ("及时率", "在社区完成期限当天结束前首次交表的记录数 ÷ 花名册人数。"),
    ("户完整率", "全户人员均已交表（待审核、已确认或未采集）的户数 ÷ 户数（户不漏人）。"),
    ("未采集比例", "以“未采集”交表的记录数 ÷ 花名册人数，括号内为各原因人数。"),
)
COLUMNS = (
    "coverage",
    "completeness",
    "timeliness",
    "household_completeness",
    "not_collected_share",
)


def _share(n: int, d: int) -> float:
    return n / d if d else 0.0


@dataclass
class EvaluationLine:
    """One community or investigator."""

    kind: str
    id: int
    name: str
    district: str
    target: int = 0
    reached: int = 0
    handed_in: int = 0
    returned: int = 0
    on_time: int = 0
    households: int = 0
    complete_households: int = 0
    not_collected: dict[str, int] = field(default_factory=dict)

    @property
    def coverage(self) -> float:
        """Reached per roster person."""
        return _share(self.reached, self.target)

    @property
    def completeness(self) -> float:
        """Handed-in records never returned, per handed-in record."""
        return _share(self.handed_in - self.returned, self.handed_in)

    @property
    def timeliness(self) -> float:
        """Records first handed in by the community deadline, per roster person."""
        return _share(self.on_time, self.target)

    @property
    def household_completeness(self) -> float:
        """Households with everyone handed in, per household."""
        return _share(self.complete_households, self.households)

    @property
    def not_collected_total(self) -> int:
        """Records handed in as 未采集."""
        return sum(self.not_collected.values())

    @property
    def not_collected_share(self) -> float:
        """未采集 per roster person."""
        return _share(self.not_collected_total, self.target)


def _first_submitted() -> Any:
    return (
        select(func.min(RecordRevision.submitted_at))
        .where(RecordRevision.record_id == Record.id)
        .scalar_subquery()
    )


async def _record_figures(
    session: AsyncSession, scope: int | None, key: Any, deadline_end: dt.datetime
) -> dict[int, dict[str, Any]]:
    """Per ``key`` (a column of ``records``): handed in, ever returned, on time, 未采集 reasons."""
    out: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"handed_in": 0, "returned": 0, "on_time": 0, "not_collected": {}}
    )
    where = [Record.discarded_at.is_(None), Record.status.in_(list(HANDED_IN)), key.is_not(None)]
    if scope is not None:
        where.append(Record.district_id == scope)
    stmt = select(key, func.count()).where(*where).group_by(key)
    for k, n in (await session.execute(stmt)).all():
        out[k]["handed_in"] = n
    returned = (
        select(key, func.count(func.distinct(Record.id)))
        .join(AuditEvent, AuditEvent.record_id == Record.id)
        .where(*where, AuditEvent.action == "returned")
        .group_by(key)
    )
    for k, n in (await session.execute(returned)).all():
        out[k]["returned"] = n
    on_time = select(key, func.count()).where(*where, _first_submitted() < deadline_end)
    for k, n in (await session.execute(on_time.group_by(key))).all():
        out[k]["on_time"] = n
    reasons = (
        select(key, Record.not_collected_reason, func.count())
        .where(*where, Record.collection_status == NOT_COLLECTED)
        .group_by(key, Record.not_collected_reason)
    )
    for k, reason, n in (await session.execute(reasons)).all():
        out[k]["not_collected"][reason or "unknown"] = n
    return out


def _apply(line: EvaluationLine, figures: dict[str, Any] | None) -> None:
    if figures:
        line.handed_in = figures["handed_in"]
        line.returned = figures["returned"]
        line.on_time = figures["on_time"]
        line.not_collected = dict(figures["not_collected"])


def _households(lines: list[people.HouseholdLine]) -> tuple[int, int]:
    return len(lines), sum(1 for h in lines if h.complete)


async def community_lines(
    session: AsyncSession, scope: int | None, deadline_end: dt.datetime
) -> list[EvaluationLine]:
    """Every community within ``scope`` (by district, street, id)."""
    stmt = (
        select(Community.id, Community.name, Street.name, District.name)
        .join(Street, Street.id == Community.street_id)
        .join(District, District.id == Community.district_id)
        .order_by(Community.district_id, Community.street_id, Community.id)
    )
    if scope is not None:
        stmt = stmt.where(Community.district_id == scope)
    lines = {
        cid: EvaluationLine("community", cid, f"{street}/{name}", district)
        for cid, name, street, district in (await session.execute(stmt)).all()
    }
    status = person_status_sql()
    counts = (
        select(Person.community_id, status, func.count())
        .outerjoin(Record, Record.live_person_id == Person.id)
        .where(Person.on_roster.is_(True), Person.community_id.in_(list(lines)))
        .group_by(Person.community_id, status)
    )
    for cid, code, n in (await session.execute(counts)).all():
        lines[cid].target += n
        if PersonStatus(code) != PersonStatus.not_contacted:
            lines[cid].reached += n
    figures = await _record_figures(session, scope, Record.community_id, deadline_end)
    # A household line names its community; its id says which one.
    household_of = await _household_communities(session, list(lines))
    grouped: dict[int, list[people.HouseholdLine]] = defaultdict(list)
    for h in await people.household_lines(session, list(lines)):
        grouped[household_of[h.id]].append(h)
    for cid, line in lines.items():
        _apply(line, figures.get(cid))
        line.households, line.complete_households = _households(grouped.get(cid, []))
    return list(lines.values())


async def _household_communities(session: AsyncSession, community_ids: list[int]) -> dict[int, int]:
    if not community_ids:
        return {}
    stmt = select(Household.id, Household.community_id).where(
        Household.community_id.in_(community_ids)
    )
    return {hid: cid for hid, cid in (await session.execute(stmt)).all()}


async def investigator_lines(
    session: AsyncSession, scope: int | None, deadline_end: dt.datetime
) -> list[EvaluationLine]:
    """Every active investigator working within ``scope``, by name."""
    reach = await people.investigator_reach(session, scope)
    figures = await _record_figures(session, scope, Record.investigator_id, deadline_end)
    stmt = (
        select(investigator_communities.c.investigator_id, District.name)
        .join(Community, Community.id == investigator_communities.c.community_id)
        .join(District, District.id == Community.district_id)
        .distinct()
    )
    if scope is not None:
        stmt = stmt.where(Community.district_id == scope)
    districts: dict[int, set[str]] = defaultdict(set)
    for inv, district in (await session.execute(stmt)).all():
        districts[inv].add(district)
    out = []
    for r in reach:
        assert r.id is not None
        line = EvaluationLine("investigator", r.id, r.name, "、".join(sorted(districts[r.id])))
        line.target = r.target
        line.reached = r.target - r.not_contacted
        _apply(line, figures.get(r.id))
        ids = await people.investigator_community_ids(session, r.id, scope)
        line.households, line.complete_households = _households(
            await people.household_lines(session, ids)
        )
        out.append(line)
    return out


def sort_lines(lines: list[EvaluationLine], column: str, descending: bool) -> list[EvaluationLine]:
    """The lines by one of :data:`COLUMNS` (ties by name)."""
    if column not in COLUMNS:
        raise ValueError(column)
    ordered = sorted(lines, key=lambda line: line.name)
    return sorted(ordered, key=lambda line: getattr(line, column), reverse=descending)
