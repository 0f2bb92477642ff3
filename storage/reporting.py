"""Read-only queries for the staff console, exports and the central system's API.

Every function takes ``scope`` — the district a staff member or API token is bound to, or None
for the whole city — and applies it in SQL, so nothing outside it is ever loaded. Aggregates are
``GROUP BY`` over the indexed area / status columns of ``records`` and ``persons``; exports
stream with ``yield_per`` so a 200,000-row export never sits in memory.

Days are the survey's days: the caller passes its zone (``bot.clock.zone()``, Beijing time by
default), so a record submitted at 23:30 UTC counts for the next day, as the district offices
see it. Nothing here reads a clock or assumes a zone.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, String, and_, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage import counters
from storage.models import (
    AuditEvent,
    Community,
    District,
    FilledBy,
    Household,
    Investigator,
    Person,
    Record,
    RecordRevision,
    RecordStatus,
    Staff,
    Street,
)

# A SELECT of any columns (SQLAlchemy 2.1 types a Select by its row's columns).
AnySelect = Select[*tuple[Any, ...]]
# Statuses a record reaches once it has been handed in (a revision exists).
HANDED_IN = (RecordStatus.submitted, RecordStatus.returned, RecordStatus.confirmed)
NOT_COLLECTED = "not_collected"
FLAG_FILTERS = ("none", "any", "warnings", "not_on_roster", "duplicate", "identity")
LEVELS = ("city", "district", "street", "community")


# --------------------------------------------------------------------------------- filters


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """What the review queue, the exports and the API narrow records by.

    ``flag``: ``none`` (no flag and no duplicate attempt), ``any``, ``warnings`` (a consistency
    warning), ``not_on_roster``, ``duplicate`` (someone else tried the same 公民身份号码) or
    ``identity`` (the answered 公民身份号码 is not the roster's, or is someone else's).
    Dates are days in ``zone`` (the survey's) on ``submitted_at``, both ends included; a
    filter with dates needs the zone.
    """

    district_id: int | None = None
    street_id: int | None = None
    community_id: int | None = None
    statuses: tuple[RecordStatus, ...] = ()
    filled_by: FilledBy | None = None
    flag: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    investigator_id: int | None = None
    zone: dt.tzinfo | None = None


def day_start(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    """The aware UTC instant the day ``day`` begins in ``zone``."""
    return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)


def _zone_of(f: RecordFilter) -> dt.tzinfo:
    if f.zone is None:
        raise ValueError("a RecordFilter with dates needs the survey's zone")
    return f.zone


def _flags_text() -> ColumnElement[str]:
    # JSON is stored as text on SQLite and as json on PostgreSQL; both cast to the same text.
    return cast(Record.flags, String)


def _apply_scope(stmt: AnySelect, scope: int | None) -> AnySelect:
    return stmt if scope is None else stmt.where(Record.district_id == scope)


def _apply_filter(stmt: AnySelect, f: RecordFilter) -> AnySelect:
    if f.district_id is not None:
        stmt = stmt.where(Record.district_id == f.district_id)
    if f.street_id is not None:
        stmt = stmt.where(Record.street_id == f.street_id)
    if f.community_id is not None:
        stmt = stmt.where(Record.community_id == f.community_id)
    if f.statuses:
        stmt = stmt.where(Record.status.in_(list(f.statuses)))
    if f.filled_by is not None:
        stmt = stmt.where(Record.filled_by == f.filled_by)
    if f.investigator_id is not None:
        stmt = stmt.where(Record.investigator_id == f.investigator_id)
    if f.date_from is not None:
        stmt = stmt.where(Record.submitted_at >= day_start(f.date_from, _zone_of(f)))
    if f.date_to is not None:
        next_day = f.date_to + dt.timedelta(days=1)
        stmt = stmt.where(Record.submitted_at < day_start(next_day, _zone_of(f)))
    flags = _flags_text()
    if f.flag == "none":
        stmt = stmt.where(func.json_array_length(Record.flags) == 0)
        stmt = stmt.where(Record.duplicate_attempts == 0)
    elif f.flag == "any":
        stmt = stmt.where(
            or_(func.json_array_length(Record.flags) > 0, Record.duplicate_attempts > 0)
        )
    elif f.flag == "warnings":
        stmt = stmt.where(flags.like('%"W\\_%', escape="\\"))
    elif f.flag == "not_on_roster":
        stmt = stmt.where(flags.like('%"not\\_on\\_roster"%', escape="\\"))
    elif f.flag == "duplicate":
        stmt = stmt.where(Record.duplicate_attempts > 0)
    elif f.flag == "identity":
        # id_changed / id_conflict: the answered 公民身份号码 is not the roster's.
        stmt = stmt.where(flags.like('%"id\\_%', escape="\\"))
    return stmt


# ---------------------------------------------------------------------------------- queue


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One line of the review queue (numbers in full: the view masks them)."""

    id: int
    version: int
    status: RecordStatus
    filled_by: FilledBy
    name: str
    id_number: str
    mobile: str | None
    district: str
    street: str
    community: str
    household: str
    investigator: str | None
    flags: list[str]
    duplicate_attempts: int
    submitted_at: dt.datetime | None
    updated_at: dt.datetime

    @property
    def flagged(self) -> bool:
        """Carries a flag or a duplicate attempt (not eligible for bulk confirmation)."""
        return bool(self.flags) or self.duplicate_attempts > 0


@dataclass(frozen=True, slots=True)
class QueuePage:
    """A page of the queue and the total number of matching records."""

    rows: list[QueueRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """Number of pages (at least one)."""
        return max(1, -(-self.total // self.per_page))


def _with_people_and_areas(stmt: AnySelect) -> AnySelect:
    """Join a records query to the person, their areas and household, and the investigator."""
    return (
        stmt.join(Person, Record.person_id == Person.id)
        .join(District, Record.district_id == District.id)
        .join(Street, Record.street_id == Street.id)
        .join(Community, Record.community_id == Community.id)
        .join(Household, Record.household_id == Household.id)
        .outerjoin(Investigator, Record.investigator_id == Investigator.id)
    )


def _queue_select() -> AnySelect:
    return _with_people_and_areas(
        select(
            Record.id,
            Record.version,
            Record.status,
            Record.filled_by,
            Person.name,
            Person.id_number,
            Person.mobile,
            District.name.label("district"),
            Street.name.label("street"),
            Community.name.label("community"),
            Household.number.label("household"),
            Investigator.name.label("investigator"),
            Record.flags,
            Record.duplicate_attempts,
            Record.submitted_at,
            Record.updated_at,
            Record.state,
        )
    ).where(Record.discarded_at.is_(None))


def _queue_row(values: dict[str, Any]) -> QueueRow:
    """A queue line showing what the person answered, the roster's value where nothing yet."""
    state = values.pop("state") or {}
    answers = state.get("answers") or {}
    for key in ("name", "mobile"):
        if isinstance(answers.get(key), str) and answers[key]:
            values[key] = answers[key]
    return QueueRow(**values)


async def queue(
    session: AsyncSession,
    scope: int | None,
    f: RecordFilter,
    *,
    page: int = 1,
    per_page: int = 50,
) -> QueuePage:
    """Records matching ``f`` within ``scope``, newest submission first."""
    page = max(page, 1)
    total = await _queue_total(session, scope, f)
    stmt = _apply_filter(_apply_scope(_queue_select(), scope), f)
    stmt = stmt.order_by(Record.submitted_at.desc().nulls_last(), Record.id.desc())
    result = await session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    rows = [_queue_row(dict(m)) for m in result.mappings().all()]
    return QueuePage(rows=rows, total=total, page=page, per_page=per_page)


async def _queue_total(session: AsyncSession, scope: int | None, f: RecordFilter) -> int:
    """How many records match: from the counters (storage.counters) when only statuses, areas
    and the investigator narrow (counting ~100,000 submitted records took ~150 ms on SQLite);
    counted otherwise."""
    if f.filled_by is None and f.flag is None and f.date_from is None and f.date_to is None:
        return await counters.record_total(
            session,
            scope,
            statuses=f.statuses,
            district_id=f.district_id,
            street_id=f.street_id,
            community_id=f.community_id,
            investigator_id=f.investigator_id,
        )
    count_stmt = _apply_filter(
        _apply_scope(
            select(func.count()).select_from(Record).where(Record.discarded_at.is_(None)), scope
        ),
        f,
    )
    return int(await session.scalar(count_stmt) or 0)


async def unflagged_submitted_ids(
    session: AsyncSession, scope: int | None, f: RecordFilter, *, limit: int = 500
) -> list[int]:
    """Ids of submitted, unflagged records matching ``f`` (bulk confirmation candidates)."""
    narrowed = RecordFilter(
        district_id=f.district_id,
        street_id=f.street_id,
        community_id=f.community_id,
        statuses=(RecordStatus.submitted,),
        filled_by=f.filled_by,
        flag="none",
        date_from=f.date_from,
        date_to=f.date_to,
        investigator_id=f.investigator_id,
        zone=f.zone,
    )
    stmt = select(Record.id).where(Record.discarded_at.is_(None))
    stmt = _apply_filter(_apply_scope(stmt, scope), narrowed).order_by(Record.id).limit(limit)
    return list((await session.scalars(stmt)).all())


# ---------------------------------------------------------------------------------- areas


@dataclass(frozen=True, slots=True)
class AreaOption:
    """An area for a filter menu: ``label`` is its path below the district."""

    level: str
    id: int
    label: str
    district_id: int
    street_id: int | None = None


async def area_options(session: AsyncSession, scope: int | None) -> list[AreaOption]:
    """Districts, streets and communities within ``scope``, in tree order."""
    districts = select(District).order_by(District.id)
    streets = select(Street).order_by(Street.district_id, Street.id)
    communities = select(Community).order_by(Community.street_id, Community.id)
    if scope is not None:
        districts = districts.where(District.id == scope)
        streets = streets.where(Street.district_id == scope)
        communities = communities.where(Community.district_id == scope)
    d_rows = (await session.scalars(districts)).all()
    s_rows = (await session.scalars(streets)).all()
    c_rows = (await session.scalars(communities)).all()
    by_street: dict[int, list[Community]] = defaultdict(list)
    for c in c_rows:
        by_street[c.street_id].append(c)
    by_district: dict[int, list[Street]] = defaultdict(list)
    for s in s_rows:
        by_district[s.district_id].append(s)
    out: list[AreaOption] = []
    for d in d_rows:
        out.append(AreaOption("district", d.id, d.name, d.id))
        for s in by_district[d.id]:
            out.append(AreaOption("street", s.id, f"{d.name}/{s.name}", d.id))
            for c in by_street[s.id]:
                label = f"{d.name}/{s.name}/{c.name}"
                out.append(AreaOption("community", c.id, label, d.id, s.id))
    return out


@dataclass(frozen=True, slots=True)
class AreaRef:
    """An area as a drill-down step: its level, id and name."""

    level: str
    id: int | None
    name: str


async def area_path(session: AsyncSession, level: str, area_id: int | None) -> list[AreaRef] | None:
    """The breadcrumb from the city down to the area, or None when it does not exist."""
    city = AreaRef("city", None, "苏州市区")
    if level == "city":
        return [city]
    if level == "district":
        d = await session.get(District, area_id)
        return None if d is None else [city, AreaRef("district", d.id, d.name)]
    if level == "street":
        s = await session.get(Street, area_id)
        if s is None:
            return None
        d = await session.get(District, s.district_id)
        assert d is not None
        return [city, AreaRef("district", d.id, d.name), AreaRef("street", s.id, s.name)]
    if level == "community":
        c = await session.get(Community, area_id)
        if c is None:
            return None
        s = await session.get(Street, c.street_id)
        d = await session.get(District, c.district_id)
        assert s is not None and d is not None
        return [
            city,
            AreaRef("district", d.id, d.name),
            AreaRef("street", s.id, s.name),
            AreaRef("community", c.id, c.name),
        ]
    return None


async def area_district(session: AsyncSession, level: str, area_id: int | None) -> int | None:
    """The district an area lies in (None for the city or an unknown area)."""
    if level == "district":
        return area_id
    if level == "street" and area_id is not None:
        return await session.scalar(select(Street.district_id).where(Street.id == area_id))
    if level == "community" and area_id is not None:
        return await session.scalar(select(Community.district_id).where(Community.id == area_id))
    return None


# ------------------------------------------------------------------------------- progress


@dataclass(slots=True)
class AreaProgress:
    """Collection progress of one area (or of one investigator)."""

    level: str
    id: int | None
    name: str
    target: int = 0
    households: int = 0
    households_visited: int = 0
    drafts: int = 0
    submitted: int = 0
    returned: int = 0
    confirmed: int = 0
    collected: int = 0
    not_collected: dict[str, int] = field(default_factory=dict)

    @property
    def handed_in(self) -> int:
        """Submitted, returned or confirmed records (collected or not)."""
        return self.submitted + self.returned + self.confirmed

    @property
    def not_collected_total(self) -> int:
        """Records marked 未采集, whatever the reason."""
        return sum(self.not_collected.values())

    @property
    def rate(self) -> float:
        """Collection rate: collected records (已采集, handed in) per target person."""
        return self.collected / self.target if self.target else 0.0

    def add(self, other: AreaProgress) -> None:
        """Add another area's counts to this one."""
        for name in (
            "target",
            "households",
            "households_visited",
            "drafts",
            "submitted",
            "returned",
            "confirmed",
            "collected",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for reason, n in other.not_collected.items():
            self.not_collected[reason] = self.not_collected.get(reason, 0) + n


CHILD_LEVEL = {"city": "district", "district": "street", "street": "community"}


def _record_column(level: str) -> Any:
    return {
        "district": Record.district_id,
        "street": Record.street_id,
        "community": Record.community_id,
    }[level]


async def child_areas(
    session: AsyncSession, scope: int | None, level: str, area_id: int | None
) -> list[AreaRef]:
    """The areas one level below (districts within ``scope`` for the city), in id order."""
    child = CHILD_LEVEL[level]
    if child == "district":
        stmt: AnySelect = select(District.id, District.name).order_by(District.id)
        if scope is not None:
            stmt = stmt.where(District.id == scope)
    elif child == "street":
        stmt = select(Street.id, Street.name).where(Street.district_id == area_id)
        stmt = stmt.order_by(Street.id)
    else:
        stmt = select(Community.id, Community.name).where(Community.street_id == area_id)
        stmt = stmt.order_by(Community.id)
    return [AreaRef(child, i, n) for i, n in (await session.execute(stmt)).all()]


async def progress(
    session: AsyncSession, scope: int | None, level: str = "city", area_id: int | None = None
) -> tuple[AreaProgress, list[AreaProgress]]:
    """The area's totals and one line per child area (a community has no children).

    The caller checks that the area lies within ``scope`` (see :func:`area_district`).
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    if level == "community":
        total = AreaProgress(level, area_id, "")
        rows = await _progress_rows(session, scope, "community", [area_id] if area_id else [])
        for row in rows.values():
            total.add(row)
        return total, []
    children = await child_areas(session, scope, level, area_id)
    child_level = CHILD_LEVEL[level]
    rows = await _progress_rows(session, scope, child_level, [c.id for c in children if c.id])
    lines: list[AreaProgress] = []
    total = AreaProgress(level, area_id, "")
    for child in children:
        line = rows.get(child.id or 0) or AreaProgress(child_level, child.id, child.name)
        line.name = child.name
        lines.append(line)
        total.add(line)
    return total, lines


async def _progress_rows(
    session: AsyncSession, scope: int | None, level: str, ids: Sequence[int]
) -> dict[int, AreaProgress]:
    # From the per-community counters (storage.counters), not by counting the rows.
    if not ids:
        return {}
    out: dict[int, AreaProgress] = {i: AreaProgress(level, i, "") for i in ids}
    for area, counts in (await counters.person_counts(session, scope, level, ids)).items():
        out[area].target = sum(counts.values())
    for area, (households, visited) in (
        await counters.household_counts(session, scope, level, ids)
    ).items():
        out[area].households = households
        out[area].households_visited = visited
    for area, status, collection, reason, n in await counters.record_counts(
        session, scope, level, ids
    ):
        _count(out[area], status, collection, reason, n)
    return out


def _count(
    line: AreaProgress, status: Any, collection: str | None, reason: str | None, n: int
) -> None:
    status = RecordStatus(status)
    if status == RecordStatus.draft:
        line.drafts += n
        return
    setattr(line, str(status), getattr(line, str(status)) + n)
    if collection == NOT_COLLECTED:
        key = reason or "unknown"
        line.not_collected[key] = line.not_collected.get(key, 0) + n
    else:
        line.collected += n


async def investigator_progress(
    session: AsyncSession, scope: int | None, level: str = "city", area_id: int | None = None
) -> list[AreaProgress]:
    """Per investigator: their records by status within the area (``name`` is theirs)."""
    rows = await counters.investigator_record_counts(session, scope, level, area_id)
    if not rows:
        return []
    names = dict(
        (
            await session.execute(
                select(Investigator.id, Investigator.name).where(
                    Investigator.id.in_({row[0] for row in rows})
                )
            )
        ).all()
    )
    lines: dict[int, AreaProgress] = {}
    for inv_id, status, collection, reason, n in rows:
        line = lines.setdefault(inv_id, AreaProgress("investigator", inv_id, names.get(inv_id, "")))
        _count(line, status, collection, reason, n)
    return sorted(lines.values(), key=lambda p: (-p.handed_in, p.name))


async def daily_counts(
    session: AsyncSession,
    scope: int | None,
    level: str = "city",
    area_id: int | None = None,
    *,
    zone: ZoneInfo,
) -> dict[str, dict[dt.date, int]]:
    """Per day in ``zone``: how many records were (last) submitted and confirmed that day.

    Added up from the counters per UTC hour (storage.counters): exact for a zone whose offset is
    whole hours, as Beijing's is."""
    out: dict[str, dict[dt.date, int]] = {"submitted": {}, "confirmed": {}}
    for kind, hour, n in await counters.hour_counts(session, scope, level, area_id):
        day = hour.astimezone(zone).date()
        out[kind][day] = out[kind].get(day, 0) + n
    return out


# -------------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class RecordRow:
    """A handed-in record with its newest answers, as exports and the API read it."""

    id: int
    version: int
    status: RecordStatus
    filled_by: FilledBy
    form_id: str
    form_version: int
    district_id: int
    district: str
    street: str
    community: str
    household: str
    person_name: str
    id_number: str
    on_roster: bool
    investigator: str | None
    flags: list[str]
    duplicate_attempts: int
    submitted_at: dt.datetime | None
    confirmed_at: dt.datetime | None
    enrolled_at: dt.date | None
    enrolled_insurance: str | None
    return_comment: str | None
    updated_at: dt.datetime
    revision: int
    answers: dict[str, Any]


def _latest_revision() -> Any:
    newest = aliased(RecordRevision)
    return select(func.max(newest.n)).where(newest.record_id == Record.id).scalar_subquery()


def _record_rows_select() -> AnySelect:
    return (
        _with_people_and_areas(
            select(
                Record.id,
                Record.version,
                Record.status,
                Record.filled_by,
                Record.form_id,
                Record.form_version,
                Record.district_id,
                District.name.label("district"),
                Street.name.label("street"),
                Community.name.label("community"),
                Household.number.label("household"),
                Person.name.label("person_name"),
                Person.id_number,
                Person.on_roster,
                Investigator.name.label("investigator"),
                Record.flags,
                Record.duplicate_attempts,
                Record.submitted_at,
                Record.confirmed_at,
                Record.enrolled_at,
                Record.enrolled_insurance,
                Record.return_comment,
                Record.updated_at,
                RecordRevision.n.label("revision"),
                RecordRevision.answers,
            )
        )
        .join(
            RecordRevision,
            and_(RecordRevision.record_id == Record.id, RecordRevision.n == _latest_revision()),
        )
        .where(Record.discarded_at.is_(None), Record.status.in_(list(HANDED_IN)))
    )


async def stream_records(
    session: AsyncSession, scope: int | None, f: RecordFilter, *, batch: int = 1000
) -> AsyncIterator[RecordRow]:
    """Every handed-in record matching ``f``, by area and 户号, fetched ``batch`` rows at a time.

    On PostgreSQL this needs an open transaction (a server-side cursor).
    """
    stmt = _apply_filter(_apply_scope(_record_rows_select(), scope), f)
    stmt = stmt.order_by(
        Record.district_id, Record.street_id, Record.community_id, Household.number, Record.id
    ).execution_options(yield_per=batch)
    result = await session.stream(stmt)
    # A batch per await, not a row: each await crosses into the driver's thread.
    async for partition in result.mappings().partitions(batch):
        for mapping in partition:
            yield RecordRow(**dict(mapping))


async def record_row(session: AsyncSession, scope: int | None, record_id: int) -> RecordRow | None:
    """One handed-in record within ``scope``, or None (also when out of scope)."""
    stmt = _apply_scope(_record_rows_select(), scope).where(Record.id == record_id)
    mapping = (await session.execute(stmt)).mappings().first()
    return None if mapping is None else RecordRow(**dict(mapping))


async def _rows(result: Any) -> AsyncIterator[Any]:
    async for partition in result.mappings().partitions(1000):
        for mapping in partition:
            yield mapping


@dataclass(frozen=True, slots=True)
class ChangesPage:
    """A page of changed records and the cursor of the next page (None at the end)."""

    rows: list[RecordRow]
    next_cursor: str | None


def encode_cursor(updated_at: dt.datetime, record_id: int) -> str:
    """An opaque cursor: the position after (updated_at, id)."""
    raw = f"{updated_at.astimezone(dt.UTC).isoformat()}|{record_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    """The (updated_at, id) a cursor points after; ValueError when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _, ident = raw.partition("|")
        at = dt.datetime.fromisoformat(when)
        if at.tzinfo is None:
            raise ValueError("naive")
        return at, int(ident)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("bad cursor") from exc


async def changed_records(
    session: AsyncSession,
    scope: int | None,
    f: RecordFilter,
    *,
    since: dt.datetime | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> ChangesPage:
    """Handed-in records changed after ``since`` (or after ``cursor``), oldest change first."""
    stmt = _apply_filter(_apply_scope(_record_rows_select(), scope), f)
    if cursor is not None:
        at, last_id = decode_cursor(cursor)
        stmt = stmt.where(
            or_(Record.updated_at > at, and_(Record.updated_at == at, Record.id > last_id))
        )
    elif since is not None:
        stmt = stmt.where(Record.updated_at > since)
    stmt = stmt.order_by(Record.updated_at, Record.id).limit(limit + 1)
    rows = [RecordRow(**dict(m)) for m in (await session.execute(stmt)).mappings().all()]
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].updated_at, rows[-1].id) if more and rows else None
    return ChangesPage(rows, next_cursor)


# ------------------------------------------------------------------------------ employers


@dataclass(slots=True)
class EmployerLine:
    """An employer reported as not insuring its staff (单位未参保) and who reported it."""

    name: str
    people: int = 0
    addresses: list[dict[str, Any]] = field(default_factory=list)
    districts: set[str] = field(default_factory=set)
    record_ids: list[int] = field(default_factory=list)


def employer_key(name: str) -> str:
    """Names differing only in spaces, brackets' width or letter case are one employer."""
    table = str.maketrans({"（": "(", "）": ")", "　": " "})
    return " ".join(name.translate(table).split()).casefold()


async def uninsuring_employers(
    session: AsyncSession, scope: int | None, f: RecordFilter | None = None
) -> list[EmployerLine]:
    """Employers named on records whose 未参保原因 include 单位未参保, most people first."""
    base = f or RecordFilter()
    stmt = _apply_filter(_apply_scope(_record_rows_select(), scope), base)
    stmt = stmt.where(Record.employer_name.is_not(None)).order_by(Record.id)
    lines: dict[str, EmployerLine] = {}
    result = await session.stream(stmt.execution_options(yield_per=1000))
    async for m in _rows(result):
        answers = m["answers"] or {}
        if "employer_uninsured" not in (answers.get("uninsured_reasons") or []):
            continue
        name = str(answers.get("workplace_name") or "").strip()
        if not name:
            continue
        line = lines.setdefault(employer_key(name), EmployerLine(name))
        line.people += 1
        line.districts.add(m["district"])
        line.record_ids.append(m["id"])
        address = answers.get("workplace_address")
        if isinstance(address, dict) and address not in line.addresses:
            line.addresses.append(address)
    return sorted(lines.values(), key=lambda e: (-e.people, e.name))


# --------------------------------------------------------------------------------- detail


@dataclass(frozen=True, slots=True)
class RecordDetail:
    """Everything the record page shows."""

    record: Record
    person: Person
    district: str
    street: str
    community: str
    household: str
    investigator: Investigator | None
    confirmed_by: Staff | None
    revisions: list[RecordRevision]
    events: list[AuditEvent]


async def record_detail(
    session: AsyncSession, scope: int | None, record_id: int
) -> RecordDetail | None:
    """The record with its person, areas, revisions and audit trail; None when it does not
    exist, was discarded, or lies outside ``scope``."""
    record = await session.get(Record, record_id, populate_existing=True)
    if record is None or record.discarded_at is not None:
        return None
    if scope is not None and record.district_id != scope:
        return None
    person = await session.get(Person, record.person_id)
    assert person is not None
    names = (
        await session.execute(
            select(District.name, Street.name, Community.name, Household.number)
            .select_from(Record)
            .join(District, Record.district_id == District.id)
            .join(Street, Record.street_id == Street.id)
            .join(Community, Record.community_id == Community.id)
            .join(Household, Record.household_id == Household.id)
            .where(Record.id == record_id)
        )
    ).one()
    investigator = (
        await session.get(Investigator, record.investigator_id) if record.investigator_id else None
    )
    confirmer = await session.get(Staff, record.confirmed_by) if record.confirmed_by else None
    revisions = (
        await session.scalars(
            select(RecordRevision)
            .where(RecordRevision.record_id == record_id)
            .order_by(RecordRevision.n)
        )
    ).all()
    events = (
        await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.record_id == record_id)
            .order_by(AuditEvent.at, AuditEvent.id)
        )
    ).all()
    return RecordDetail(
        record=record,
        person=person,
        district=names[0],
        street=names[1],
        community=names[2],
        household=names[3],
        investigator=investigator,
        confirmed_by=confirmer,
        revisions=list(revisions),
        events=list(events),
    )
