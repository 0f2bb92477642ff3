"""Who on the roster has been reached: status counts per area and per investigator, person
lists, a household's people (户不漏人), the call list.

Every query takes ``scope`` (a staff member's or token's district, None for the city) and
applies it in SQL, like :mod:`storage.reporting`. Statuses come from
:func:`storage.person_status.person_status_sql`: ``persons`` outer-joined to the live record
on ``records.live_person_id`` (unique, indexed), narrowed by the indexed area columns of
``persons`` and grouped in the database; nothing is counted in Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import counters
from storage.models import (
    Community,
    ContactOutcome,
    District,
    Household,
    Investigator,
    Invite,
    Person,
    Record,
    RecordStatus,
    Street,
    investigator_communities,
)
from storage.person_status import (
    DONE,
    STATUS_ORDER,
    PersonStatus,
    call_rank_sql,
    person_status_sql,
    status_of,
)
from storage.reporting import CHILD_LEVEL, LEVELS, AreaRef, child_areas

AnySelect = Select[*tuple[Any, ...]]
_IC = investigator_communities.c


def _area_column(level: str) -> Any:
    return {
        "district": Person.district_id,
        "street": Person.street_id,
        "community": Person.community_id,
    }[level]


def _with_live_record(stmt: AnySelect) -> AnySelect:
    return stmt.outerjoin(Record, Record.live_person_id == Person.id)


# ------------------------------------------------------------------------------ counts


@dataclass(slots=True)
class ReachLine:
    """How many roster people of an area (or an investigator's communities) are in each status."""

    level: str
    id: int | None
    name: str
    counts: dict[PersonStatus, int] = field(default_factory=dict)

    def count(self, status: PersonStatus) -> int:
        """People in ``status``."""
        return self.counts.get(status, 0)

    @property
    def target(self) -> int:
        """People on the roster."""
        return sum(self.counts.values())

    @property
    def not_contacted(self) -> int:
        """People nobody has reached yet (未联系)."""
        return self.count(PersonStatus.not_contacted)

    @property
    def not_contacted_share(self) -> float:
        """未联系 per roster person (0 for an empty area)."""
        return self.not_contacted / self.target if self.target else 0.0

    @property
    def done(self) -> int:
        """People whose form is handed in (待审核, 已确认 or 未采集)."""
        return sum(self.count(s) for s in DONE)

    def ordered(self) -> list[tuple[PersonStatus, int]]:
        """(status, count) in the order of the process, zeros included."""
        return [(s, self.count(s)) for s in STATUS_ORDER]

    def add(self, other: ReachLine) -> None:
        """Add another line's counts to this one."""
        for status, n in other.counts.items():
            self.counts[status] = self.counts.get(status, 0) + n


def _status_counts(stmt: AnySelect, key: Any) -> AnySelect:
    status = person_status_sql()
    return (
        _with_live_record(stmt.add_columns(key, status, func.count()))
        .where(Person.on_roster.is_(True))
        .group_by(key, status)
    )


async def _counts_by(
    session: AsyncSession, scope: int | None, level: str, ids: Sequence[int]
) -> dict[int, dict[PersonStatus, int]]:
    out: dict[int, dict[PersonStatus, int]] = {i: {} for i in ids}
    if not ids:
        return out
    # From the per-community counters (storage.counters), not by counting the people.
    for area, counts in (await counters.person_counts(session, scope, level, ids)).items():
        out[area] = {PersonStatus(status): n for status, n in counts.items()}
    return out


async def reach(
    session: AsyncSession, scope: int | None, level: str = "city", area_id: int | None = None
) -> tuple[ReachLine, list[ReachLine]]:
    """The area's status counts and one line per child area (a community has no children).

    The caller checks that the area lies within ``scope`` (see ``reporting.area_district``).
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    total = ReachLine(level, area_id, "")
    if level == "community":
        counts = await _counts_by(session, scope, level, [area_id] if area_id else [])
        total.counts = dict(counts.get(area_id or 0, {}))
        return total, []
    children: list[AreaRef] = await child_areas(session, scope, level, area_id)
    child_level = CHILD_LEVEL[level]
    counts = await _counts_by(session, scope, child_level, [c.id for c in children if c.id])
    lines = []
    for child in children:
        line = ReachLine(child_level, child.id, child.name, dict(counts.get(child.id or 0, {})))
        lines.append(line)
        total.add(line)
    return total, lines


async def investigator_reach(
    session: AsyncSession, scope: int | None, level: str = "city", area_id: int | None = None
) -> list[ReachLine]:
    """Per active investigator: the status counts of the roster people in their communities
    (within the area and ``scope``), by name."""
    stmt = (
        select()
        .select_from(Person)
        .join(investigator_communities, _IC.community_id == Person.community_id)
        .join(Investigator, Investigator.id == _IC.investigator_id)
        .where(Investigator.revoked_at.is_(None))
    )
    stmt = _status_counts(stmt, Investigator.id).add_columns(Investigator.name)
    stmt = stmt.group_by(Investigator.name)
    if level != "city":
        stmt = stmt.where(_area_column(level) == area_id)
    if scope is not None:
        stmt = stmt.where(Person.district_id == scope)
    lines: dict[int, ReachLine] = {}
    for inv_id, status, n, name in (await session.execute(stmt)).all():
        line = lines.setdefault(inv_id, ReachLine("investigator", inv_id, name))
        line.counts[PersonStatus(status)] = n
    return sorted(lines.values(), key=lambda line: (line.name, line.id or 0))


async def investigator_community_ids(
    session: AsyncSession, investigator_id: int, scope: int | None
) -> list[int]:
    """The communities an investigator works in, within ``scope``."""
    stmt = (
        select(Community.id)
        .join(investigator_communities, _IC.community_id == Community.id)
        .where(_IC.investigator_id == investigator_id)
        .order_by(Community.id)
    )
    if scope is not None:
        stmt = stmt.where(Community.district_id == scope)
    return list((await session.scalars(stmt)).all())


# ------------------------------------------------------------------------------ person lists


@dataclass(frozen=True, slots=True)
class PersonFilter:
    """What a person list narrows by: an area or household, an investigator's communities,
    statuses, the 未采集 reason (``separated`` is 人户分离) and the newest contact outcome."""

    district_id: int | None = None
    street_id: int | None = None
    community_id: int | None = None
    household_id: int | None = None
    investigator_id: int | None = None
    statuses: tuple[PersonStatus, ...] = ()
    reason: str | None = None
    outcome: ContactOutcome | None = None
    roster_only: bool = False


@dataclass(frozen=True, slots=True)
class PersonRow:
    """One person with where they live, their status and their newest contact (numbers in
    full: the view masks them)."""

    id: int
    name: str
    id_number: str
    mobile: str | None
    on_roster: bool
    district_id: int
    district: str
    street: str
    community_id: int
    community: str
    household_id: int
    household: str
    status: PersonStatus
    reason: str | None
    last_contact_on: dt.date | None
    last_contact_outcome: ContactOutcome | None
    record_id: int | None
    record_status: RecordStatus | None

    @property
    def done(self) -> bool:
        """Their form is handed in (户不漏人 counts them)."""
        return self.status in DONE


@dataclass(frozen=True, slots=True)
class PersonPage:
    """A page of a person list and how many people match."""

    rows: list[PersonRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """Number of pages (at least one)."""
        return max(1, -(-self.total // self.per_page))


def _person_columns() -> list[Any]:
    return [
        Person.id,
        Person.name,
        Person.id_number,
        Person.mobile,
        Person.on_roster,
        Person.district_id,
        District.name.label("district"),
        Street.name.label("street"),
        Person.community_id,
        Community.name.label("community"),
        Person.household_id,
        Household.number.label("household"),
        person_status_sql().label("status"),
        Record.not_collected_reason.label("reason"),
        Person.last_contact_on,
        Person.last_contact_outcome,
        Record.id.label("record_id"),
        Record.status.label("record_status"),
    ]


def _with_places(stmt: AnySelect) -> AnySelect:
    # A person's household lies in their community: saying so lets the database narrow the
    # households by the community's index too, instead of reading all of them.
    return _with_live_record(
        stmt.join(
            Household,
            and_(
                Household.id == Person.household_id, Household.community_id == Person.community_id
            ),
        )
        .join(Community, Community.id == Person.community_id)
        .join(Street, Street.id == Person.street_id)
        .join(District, District.id == Person.district_id)
    )


def _status_in(statuses: Sequence[PersonStatus]) -> ColumnElement[bool]:
    return person_status_sql().in_([literal_column(f"'{s.value}'") for s in statuses])


def _narrow(stmt: AnySelect, scope: int | None, f: PersonFilter) -> AnySelect:
    if scope is not None:
        stmt = stmt.where(Person.district_id == scope)
    if f.district_id is not None:
        stmt = stmt.where(Person.district_id == f.district_id)
    if f.street_id is not None:
        stmt = stmt.where(Person.street_id == f.street_id)
    if f.community_id is not None:
        stmt = stmt.where(Person.community_id == f.community_id)
    if f.household_id is not None:
        stmt = stmt.where(Person.household_id == f.household_id)
    if f.investigator_id is not None:
        mine = select(_IC.community_id).where(_IC.investigator_id == f.investigator_id)
        stmt = stmt.where(Person.community_id.in_(mine))
    if f.statuses:
        stmt = stmt.where(_status_in(f.statuses))
    if f.reason is not None:
        stmt = stmt.where(
            _status_in([PersonStatus.not_collected]), Record.not_collected_reason == f.reason
        )
    if f.outcome is not None:
        stmt = stmt.where(Person.last_contact_outcome == f.outcome)
    if f.roster_only:
        stmt = stmt.where(Person.on_roster.is_(True))
    return stmt


def _row(values: dict[str, Any]) -> PersonRow:
    values["status"] = PersonStatus(values["status"])
    return PersonRow(**values)


def _roster_order(stmt: AnySelect, f: PersonFilter) -> AnySelect:
    if f.community_id is not None or f.household_id is not None:
        # One community: 户号 order straight from its (community_id, number) index.
        return stmt.order_by(Household.community_id, Household.number, Person.id)
    return stmt.order_by(
        Person.district_id, Person.street_id, Person.community_id, Household.number, Person.id
    )


async def person_page(
    session: AsyncSession, scope: int | None, f: PersonFilter, *, page: int = 1, per_page: int = 50
) -> PersonPage:
    """People matching ``f`` within ``scope``, in roster order (area, 户号), a page at a time."""
    page = max(page, 1)
    count: AnySelect = select(func.count()).select_from(Person)
    if f.statuses or f.reason is not None:  # only these need the record
        count = _with_live_record(count)
    total = int(await session.scalar(_narrow(count, scope, f)) or 0)
    stmt = _roster_order(_narrow(_with_places(select(*_person_columns())), scope, f), f)
    result = await session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    rows = [_row(dict(m)) for m in result.mappings().all()]
    return PersonPage(rows, total, page, per_page)


async def person_row(session: AsyncSession, scope: int | None, person_id: int) -> PersonRow | None:
    """One person within ``scope``, or None (also when out of scope: existence must not leak)."""
    stmt = _narrow(_with_places(select(*_person_columns())), scope, PersonFilter())
    mapping = (await session.execute(stmt.where(Person.id == person_id))).mappings().first()
    return None if mapping is None else _row(dict(mapping))


# ------------------------------------------------------------------------------ households


@dataclass(frozen=True)
class Member:
    """One person of a household with their live record (if any) and status."""

    person: Person
    record: Record | None

    @property
    def status(self) -> PersonStatus:
        """Their status (:func:`storage.person_status.status_of`)."""
        return status_of(self.person, self.record)

    @property
    def done(self) -> bool:
        """Their form is handed in."""
        return self.status in DONE


@dataclass(frozen=True)
class HouseholdMembers:
    """A household, its community and its people in roster order."""

    household: Household
    community: Community
    members: list[Member]

    @property
    def missing(self) -> list[Member]:
        """Who in it still has no form handed in (户不漏人)."""
        return [m for m in self.members if not m.done]


async def household_members(
    session: AsyncSession, household_id: int, *, scope: int | None = None
) -> HouseholdMembers | None:
    """A household with its people and their live records; None when unknown or outside
    ``scope``."""
    household = await session.get(Household, household_id)
    if household is None:
        return None
    community = await session.get(Community, household.community_id)
    assert community is not None
    if scope is not None and community.district_id != scope:
        return None
    result = await session.execute(
        select(Person, Record)
        .outerjoin(Record, Record.live_person_id == Person.id)
        .where(Person.household_id == household_id)
        .order_by(Person.id)
    )
    members = [Member(person, record) for person, record in result.all()]
    return HouseholdMembers(household, community, members)


@dataclass
class HouseholdLine:
    """A household with how many of its people are in each status."""

    id: int
    number: str
    community: str
    counts: dict[PersonStatus, int] = field(default_factory=dict)

    @property
    def size(self) -> int:
        """People in it (the roster's and those added)."""
        return sum(self.counts.values())

    @property
    def complete(self) -> bool:
        """Everyone's form handed in (户不漏人)."""
        return all(status in DONE for status, n in self.counts.items() if n)


async def household_lines(
    session: AsyncSession,
    community_ids: Sequence[int],
    *,
    household_ids: Sequence[int] | None = None,
) -> list[HouseholdLine]:
    """The communities' households (by community, 户号) with their status counts; only
    ``household_ids`` of them when given."""
    if not community_ids or household_ids == []:
        return []
    status = person_status_sql()
    stmt = _with_live_record(
        select(Household.id, Household.number, Community.name, status, func.count())
        .select_from(Person)
        .join(Household, Household.id == Person.household_id)
        .join(Community, Community.id == Household.community_id)
    ).where(Household.community_id.in_(list(community_ids)))
    if household_ids is not None:
        stmt = stmt.where(Household.id.in_(list(household_ids)))
    stmt = stmt.group_by(Household.id, Household.number, Community.id, Community.name, status)
    stmt = stmt.order_by(Community.id, Household.number)
    lines: dict[int, HouseholdLine] = {}
    for hid, number, community, code, n in (await session.execute(stmt)).all():
        line = lines.setdefault(hid, HouseholdLine(hid, number, community))
        line.counts[PersonStatus(code)] = n
    return list(lines.values())


async def household_page(
    session: AsyncSession,
    community_ids: Sequence[int],
    *,
    query: str = "",
    page: int = 1,
    per_page: int = 20,
) -> tuple[list[HouseholdLine], int]:
    """One page of the communities' households and how many match: all of them, or those
    whose 户号 starts with ``query`` or with someone whose name does (a surname)."""
    if not community_ids:
        return [], 0
    match = select(Household.id, Community.id.label("cid"), Household.number).join(
        Community, Community.id == Household.community_id
    )
    match = match.where(Household.community_id.in_(list(community_ids)))
    order = (Community.id, Household.number, Household.id)
    text = query.strip()
    if not text:
        total = int(await session.scalar(select(func.count()).select_from(match.subquery())) or 0)
        ids = list(
            (
                await session.scalars(
                    match.with_only_columns(Household.id)
                    .order_by(*order)
                    .offset((max(page, 1) - 1) * per_page)
                    .limit(per_page)
                )
            ).all()
        )
    else:
        # Names are sealed at rest (no SQL comparison of them), so the search reads the
        # communities' names and compares them here: a community's few thousand people.
        named = {
            household_id
            for household_id, name in await session.execute(
                select(Person.household_id, Person.name)
                .join(Household, Household.id == Person.household_id)
                .where(Household.community_id.in_(list(community_ids)))
            )
            if name and name.startswith(text)
        }
        found = [
            household_id
            for household_id, _, number in (await session.execute(match.order_by(*order))).all()
            if number.startswith(text) or household_id in named
        ]
        total = len(found)
        start = (max(page, 1) - 1) * per_page
        ids = found[start : start + per_page]
    lines = await household_lines(session, community_ids, household_ids=list(ids))
    return lines, total


def total_counts(lines: Sequence[HouseholdLine]) -> dict[PersonStatus, int]:
    """Status counts over several households."""
    total: dict[PersonStatus, int] = {}
    for line in lines:
        for status, n in line.counts.items():
            total[status] = total.get(status, 0) + n
    return total


def insured_contacts(persons: Sequence[Person]) -> list[dict[str, str]]:
    """The household's already-insured family members from the roster (no repeats): whom to
    ask about someone who lives elsewhere (人户分离)."""
    seen: set[tuple[str, str, str]] = set()
    contacts: list[dict[str, str]] = []
    for person in persons:
        for entry in person.insured_members or []:
            if not isinstance(entry, dict):
                continue
            name = str(entry.get("姓名") or "").strip()
            relation = str(entry.get("关系") or "").strip()
            phone = str(entry.get("联系电话") or "").strip()
            key = (name, relation, phone)
            if name and key not in seen:
                seen.add(key)
                contacts.append({"name": name, "relation": relation, "phone": phone})
    return contacts


# ------------------------------------------------------------------------------ call list


@dataclass(frozen=True, slots=True)
class CallRow:
    """A person to call, with their invite code (None until one is made)."""

    person: PersonRow
    invite_code: str | None


async def call_list(
    session: AsyncSession, scope: int | None, f: PersonFilter, *, everyone: bool = False
) -> list[CallRow]:
    """Who to call next: people without a form, never contacted first, then those whose
    last call failed (无人接听, 号码错误, 拒绝), then those invited or told but not registered;
    the longest-waiting first within each. People insured elsewhere are left out.
    ``everyone`` lists every person in the filter (in the same order)."""
    stmt = _narrow(_with_places(select(*_person_columns(), Invite.code)), scope, f)
    stmt = stmt.outerjoin(Invite, Invite.person_id == Person.id)
    if not everyone:
        stmt = stmt.where(Record.id.is_(None)).where(
            (Person.last_contact_outcome.is_(None))
            | (Person.last_contact_outcome != ContactOutcome.insured_elsewhere)
        )
    stmt = stmt.order_by(
        call_rank_sql(),
        Person.last_contact_on.asc().nulls_first(),
        Person.district_id,
        Person.street_id,
        Person.community_id,
        Household.number,
        Person.id,
    )
    rows = []
    for mapping in (await session.execute(stmt)).mappings().all():
        values = dict(mapping)
        code = values.pop("code")
        rows.append(CallRow(_row(values), code))
    return rows


def not_collected_reason_of(row: PersonRow) -> str | None:
    """The 未采集 reason code of a person whose status is 未采集 (else None)."""
    return row.reason if row.status == PersonStatus.not_collected else None
