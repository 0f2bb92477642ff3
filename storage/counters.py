"""Per-community counters for the progress pages, kept by the database in every transaction.

Counting 200,000 people and 140,000 records for the city's progress page took 0.5–1.3 s
(``bench/console.py``); these tables hold the same counts per community, so a page adds up a
few hundred rows instead:

- ``summary_persons``: roster people by status (:mod:`storage.person_status`) and community;
- ``summary_records``: live records by status, collection status and 未采集 reason (a NULL is
  kept as ``''``), by the record's community;
- ``summary_households``: per household, its roster people and its handed-in records (a
  household counts as visited when it has one);
- ``summary_hours``: records submitted / confirmed per UTC hour (a day in any zone with a
  whole-hour offset, such as Beijing's, is 24 of them).

They are kept by **triggers** on ``persons`` and ``records``, in the transaction of the change
itself, whoever writes it: the ORM, the roster import's ``INSERT … SELECT``, bulk updates. Each
trigger takes the row's old contribution out and puts its new one in (an upsert of ±1), so the
counters cannot drift from a change that was committed, and a rolled-back change takes its
counts with it. :func:`recount` computes everything from scratch (the queries the pages ran
before); :func:`check` compares the two (``canbao db check``, and the tests) and
:func:`rebuild` writes the recount (the migration that adds the tables, and ``--repair``).

The status rule is written here a third time, as the triggers' SQL; it is checked against
:func:`storage.person_status.person_status_sql` by the recount in the tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, String, delete, event, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, Community, ContactOutcome, Person, Record, RecordStatus
from storage.person_status import NOT_COLLECTED, PersonStatus, person_status_sql


class SummaryPersons(Base):
    """Roster people by status, per community (``persons.community_id``)."""

    __tablename__ = "summary_persons"

    community_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class SummaryRecords(Base):
    """Live (not discarded) records per community (``records.community_id``)."""

    __tablename__ = "summary_records"

    community_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    investigator_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: none
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    collection_status: Mapped[str] = mapped_column(String(32), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class SummaryHouseholds(Base):
    """Per household (and the community its rows name): roster people, handed-in records."""

    __tablename__ = "summary_households"

    community_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    people: Mapped[int] = mapped_column(Integer, default=0)
    visited: Mapped[int] = mapped_column(Integer, default=0)


class SummaryHours(Base):
    """Records (last) submitted or confirmed in one UTC hour (``YYYY-MM-DD HH``)."""

    __tablename__ = "summary_hours"

    community_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # submitted | confirmed
    hour: Mapped[str] = mapped_column(String(13), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class SummaryCommunities(Base):
    """Per community: households with a roster person, households with a handed-in record
    (``summary_households`` rows above zero, counted as they cross it)."""

    __tablename__ = "summary_communities"

    community_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    households: Mapped[int] = mapped_column(Integer, default=0)
    visited: Mapped[int] = mapped_column(Integer, default=0)


TABLES = (SummaryPersons, SummaryRecords, SummaryHouseholds, SummaryHours, SummaryCommunities)


# ------------------------------------------------------------------------------ the triggers


def _q(value: str) -> str:
    assert value.replace("_", "").isalnum()
    return f"'{value}'"


def _status_without_record(outcome: str) -> str:
    return (
        f"CASE WHEN {outcome} IS NULL THEN {_q(PersonStatus.not_contacted)} "
        f"WHEN {outcome} = {_q(ContactOutcome.invited)} THEN {_q(PersonStatus.invited)} "
        f"ELSE {_q(PersonStatus.contacted)} END"
    )


def _status_with_record(status: str, collection: str) -> str:
    return (
        f"CASE WHEN {status} = {_q(RecordStatus.draft)} THEN {_q(PersonStatus.in_progress)} "
        f"WHEN {status} = {_q(RecordStatus.returned)} THEN {_q(PersonStatus.returned)} "
        f"WHEN {collection} = {_q(NOT_COLLECTED)} THEN {_q(PersonStatus.not_collected)} "
        f"WHEN {status} = {_q(RecordStatus.submitted)} THEN {_q(PersonStatus.submitted)} "
        f"ELSE {_q(PersonStatus.confirmed)} END"
    )


def _person_status(row: str) -> str:
    """The status of the person ``row`` (OLD / NEW of ``persons``), with its live record."""
    with_record = _status_with_record("r.status", "r.collection_status")
    return (
        f"COALESCE((SELECT {with_record} FROM records r WHERE r.live_person_id = {row}.id), "
        f"{_status_without_record(f'{row}.last_contact_outcome')})"
    )


def _bump_persons(community: str, status: str, delta: int, where: str, source: str = "") -> str:
    # (SQLite needs the WHERE: without it, ON CONFLICT would be read as part of a join.)
    return (
        "INSERT INTO summary_persons (community_id, status, n) "
        f"SELECT {community}, {status}, {delta} {source} WHERE {where} "
        "ON CONFLICT (community_id, status) DO UPDATE SET n = summary_persons.n + excluded.n;"
    )


def _bump_households(
    community: str, household: str, column: str, delta: int, where: str
) -> list[str]:
    other = "visited" if column == "people" else "people"
    counter = "households" if column == "people" else "visited"
    # After the household's own counter moved: it crossed zero when it now reads 1 (going up)
    # or 0 (going down); only then does the community's count move.
    crossed = 1 if delta > 0 else 0
    now = (
        f"(SELECT {column} FROM summary_households "
        f"WHERE community_id = {community} AND household_id = {household})"
    )
    return [
        f"INSERT INTO summary_households (community_id, household_id, {column}, {other}) "
        f"SELECT {community}, {household}, {delta}, 0 WHERE {where} "
        "ON CONFLICT (community_id, household_id) DO UPDATE "
        f"SET {column} = summary_households.{column} + excluded.{column};",
        f"INSERT INTO summary_communities (community_id, {counter}, {other_counter(counter)}) "
        f"SELECT {community}, {delta}, 0 WHERE {where} AND {now} = {crossed} "
        "ON CONFLICT (community_id) DO UPDATE "
        f"SET {counter} = summary_communities.{counter} + excluded.{counter};",
    ]


def other_counter(counter: str) -> str:
    return "visited" if counter == "households" else "households"


def _hour(column: str, dialect: str) -> str:
    # The same text as hour_sql below (PostgreSQL's timezone('UTC', x) is x AT TIME ZONE 'UTC').
    if dialect == "postgresql":
        return f"to_char(timezone('UTC', {column}), 'YYYY-MM-DD HH24')"
    return f"strftime('%Y-%m-%d %H', {column})"


def _person_part(row: str, delta: int) -> list[str]:
    """``persons`` row ``row`` (OLD/NEW) taken out (-1) or put in (+1)."""
    return [
        _bump_persons(f"{row}.community_id", _person_status(row), delta, f"{row}.on_roster"),
        *_bump_households(
            f"{row}.community_id", f"{row}.household_id", "people", delta, f"{row}.on_roster"
        ),
    ]


def _record_part(row: str, delta: int, dialect: str) -> list[str]:
    """``records`` row ``row`` (OLD/NEW) taken out (-1) or put in (+1)."""
    live = f"{row}.discarded_at IS NULL"
    # The person of a live record has the record's status instead of the contact log's.
    person = f"p.id = {row}.live_person_id AND p.on_roster"
    with_record = _status_with_record(f"{row}.status", f"{row}.collection_status")
    without = _status_without_record("p.last_contact_outcome")
    parts = [
        _bump_persons("p.community_id", with_record, delta, person, "FROM persons p"),
        _bump_persons("p.community_id", without, -delta, person, "FROM persons p"),
        "INSERT INTO summary_records "
        "(community_id, investigator_id, status, collection_status, reason, n) "
        f"SELECT {row}.community_id, COALESCE({row}.investigator_id, 0), "
        f"CAST({row}.status AS VARCHAR), "
        f"COALESCE({row}.collection_status, ''), COALESCE({row}.not_collected_reason, ''), "
        f"{delta} WHERE {live} "
        "ON CONFLICT (community_id, investigator_id, status, collection_status, reason) "
        "DO UPDATE SET n = summary_records.n + excluded.n;",
        *_bump_households(
            f"{row}.community_id",
            f"{row}.household_id",
            "visited",
            delta,
            f"{live} AND {row}.status <> {_q(RecordStatus.draft)}",
        ),
    ]
    for kind in ("submitted", "confirmed"):
        column = f"{row}.{kind}_at"
        parts.append(
            "INSERT INTO summary_hours (community_id, kind, hour, n) "
            f"SELECT {row}.community_id, {_q(kind)}, {_hour(column, dialect)}, {delta} "
            f"WHERE {live} AND {column} IS NOT NULL "
            "ON CONFLICT (community_id, kind, hour) DO UPDATE SET n = summary_hours.n + excluded.n;"
        )
    return parts


# PostgreSQL advisory lock of the counters (any constant no other code uses), with the schema
# (advisory locks are per database: stores in other schemas of it must not wait for this one).
LOCK_KEY = 2014_0010

PERSON_COLUMNS = "last_contact_outcome, on_roster, community_id, household_id"
RECORD_COLUMNS = (
    "status, collection_status, not_collected_reason, discarded_at, live_person_id, "
    "community_id, household_id, investigator_id, submitted_at, confirmed_at"
)


def _bodies(dialect: str) -> dict[str, tuple[str, str, list[str]]]:
    """Trigger name → (table, event, statements)."""
    rec_out = _record_part("OLD", -1, dialect)
    rec_in = _record_part("NEW", 1, dialect)
    return {
        "summary_persons_insert": ("persons", "INSERT", _person_part("NEW", 1)),
        "summary_persons_update": (
            "persons",
            f"UPDATE OF {PERSON_COLUMNS}",
            _person_part("OLD", -1) + _person_part("NEW", 1),
        ),
        "summary_persons_delete": ("persons", "DELETE", _person_part("OLD", -1)),
        "summary_records_insert": ("records", "INSERT", rec_in),
        "summary_records_update": ("records", f"UPDATE OF {RECORD_COLUMNS}", rec_out + rec_in),
        "summary_records_delete": ("records", "DELETE", rec_out),
    }


def trigger_ddl(dialect: str) -> list[str]:
    """The statements that create the triggers on ``dialect`` (sqlite or postgresql)."""
    out: list[str] = []
    for name, (table, when, statements) in _bodies(dialect).items():
        body = "\n  ".join(statements)
        if dialect == "postgresql":
            # One lock for every transaction that moves a counter, taken before the first
            # counter row: two transactions changing the same counter rows in opposite orders
            # (one confirming, another re-submitting in one community) would deadlock; this way
            # they take turns, as SQLite's single writer does. Answers saved in a draft move no
            # counter and never wait for it.
            out.append(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                f"BEGIN\n  PERFORM pg_advisory_xact_lock({LOCK_KEY}, hashtext(current_schema()));\n"
                f"  {body}\n"
                "  RETURN NULL;\nEND $$"
            )
            out.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            out.append(
                f"CREATE TRIGGER {name} AFTER {when} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {name}()"
            )
        else:
            out.append(f"DROP TRIGGER IF EXISTS {name}")
            out.append(f"CREATE TRIGGER {name} AFTER {when} ON {table} BEGIN\n  {body}\nEND")
    return out


def drop_ddl(dialect: str) -> list[str]:
    """The statements that remove the triggers (the migration's downgrade)."""
    out: list[str] = []
    for name, (table, _when, _statements) in _bodies(dialect).items():
        if dialect == "postgresql":
            out.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            out.append(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            out.append(f"DROP TRIGGER IF EXISTS {name}")
    return out


def install_triggers(connection: Connection) -> None:
    """Create the triggers on a synchronous connection (``create_all``, the migration)."""
    for statement in trigger_ddl(connection.dialect.name):
        connection.exec_driver_sql(statement)


@event.listens_for(Base.metadata, "after_create")
def _after_create(_target: Any, connection: Connection, **_kw: Any) -> None:
    install_triggers(connection)


# --------------------------------------------------------------------------- the full recount


@dataclass(frozen=True)
class Counts:
    """Every counter, as plain dicts (zeros left out)."""

    persons: dict[tuple[int, str], int]
    records: dict[tuple[int, int, str, str, str], int]
    households: dict[tuple[int, int], tuple[int, int]]
    hours: dict[tuple[int, str, str], int]
    communities: dict[int, tuple[int, int]]


def _nonzero(rows: Iterable[Any]) -> dict[Any, int]:
    return {tuple(row[:-1]): int(row[-1]) for row in rows if row[-1]}


def _stored(conn: Connection) -> Counts:
    persons = _nonzero(
        conn.execute(
            select(SummaryPersons.community_id, SummaryPersons.status, SummaryPersons.n)
        ).all()
    )
    records = _nonzero(
        conn.execute(
            select(
                SummaryRecords.community_id,
                SummaryRecords.investigator_id,
                SummaryRecords.status,
                SummaryRecords.collection_status,
                SummaryRecords.reason,
                SummaryRecords.n,
            )
        ).all()
    )
    households = {
        (c, h): (int(p), int(v))
        for c, h, p, v in conn.execute(
            select(
                SummaryHouseholds.community_id,
                SummaryHouseholds.household_id,
                SummaryHouseholds.people,
                SummaryHouseholds.visited,
            )
        ).all()
        if p or v
    }
    hours = _nonzero(
        conn.execute(
            select(SummaryHours.community_id, SummaryHours.kind, SummaryHours.hour, SummaryHours.n)
        ).all()
    )
    communities = {
        c: (int(h), int(v))
        for c, h, v in conn.execute(
            select(
                SummaryCommunities.community_id,
                SummaryCommunities.households,
                SummaryCommunities.visited,
            )
        ).all()
        if h or v
    }
    return Counts(persons, records, households, hours, communities)


def hour_sql(dialect: str, column: Any) -> Any:
    """The UTC hour (``YYYY-MM-DD HH``) of a timestamp column, as the triggers write it."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", column)


def _recount(conn: Connection) -> Counts:
    status = person_status_sql()
    persons = _nonzero(
        conn.execute(
            select(Person.community_id, status, func.count())
            .select_from(Person)
            .outerjoin(Record, Record.live_person_id == Person.id)
            .where(Person.on_roster.is_(True))
            .group_by(Person.community_id, status)
        ).all()
    )
    collection = func.coalesce(Record.collection_status, "")
    reason = func.coalesce(Record.not_collected_reason, "")
    investigator = func.coalesce(Record.investigator_id, 0)
    keys = (Record.community_id, investigator, Record.status, collection, reason)
    records = _nonzero(
        conn.execute(
            select(*keys, func.count()).where(Record.discarded_at.is_(None)).group_by(*keys)
        ).all()
    )
    households: dict[tuple[int, int], tuple[int, int]] = {}
    people = (
        select(Person.community_id, Person.household_id, func.count())
        .where(Person.on_roster.is_(True))
        .group_by(Person.community_id, Person.household_id)
    )
    for c, h, n in conn.execute(people).all():
        households[(c, h)] = (int(n), 0)
    visited = (
        select(Record.community_id, Record.household_id, func.count())
        .where(Record.discarded_at.is_(None), Record.status != RecordStatus.draft)
        .group_by(Record.community_id, Record.household_id)
    )
    for c, h, n in conn.execute(visited).all():
        households[(c, h)] = (households.get((c, h), (0, 0))[0], int(n))
    hours: dict[tuple[int, str, str], int] = {}
    for kind, column in (("submitted", Record.submitted_at), ("confirmed", Record.confirmed_at)):
        hour = hour_sql(conn.dialect.name, column)
        stmt = (
            select(Record.community_id, hour, func.count())
            .where(Record.discarded_at.is_(None), column.is_not(None))
            .group_by(Record.community_id, hour)
        )
        for c, h, n in conn.execute(stmt).all():
            hours[(c, kind, str(h))] = int(n)
    persons = {(c, str(st)): n for (c, st), n in persons.items()}
    records = {(c, i, str(st), str(cs), str(r)): n for (c, i, st, cs, r), n in records.items()}
    communities: dict[int, tuple[int, int]] = {}
    for (c, _h), (people_n, visited_n) in households.items():
        h, v = communities.get(c, (0, 0))
        communities[c] = (h + (people_n > 0), v + (visited_n > 0))
    households = {k: v for k, v in households.items() if v != (0, 0)}
    communities = {k: v for k, v in communities.items() if v != (0, 0)}
    return Counts(persons, records, households, hours, communities)


def _check(conn: Connection) -> list[str]:
    have, want = _stored(conn), _recount(conn)
    problems: list[str] = []
    for name in ("persons", "records", "households", "hours", "communities"):
        a, b = getattr(have, name), getattr(want, name)
        for key in sorted(set(a) | set(b), key=str):
            if a.get(key) != b.get(key):
                problems.append(f"summary_{name} {key}: {a.get(key)} ≠ recount {b.get(key)}")
    return problems


def rebuild_on(conn: Connection) -> None:
    """Replace every counter by the recount (on a synchronous connection: the migration)."""
    counts = _recount(conn)
    for table in TABLES:
        conn.execute(delete(table))
    rows: list[tuple[Any, list[dict[str, Any]]]] = [
        (
            SummaryPersons,
            [{"community_id": c, "status": s, "n": n} for (c, s), n in counts.persons.items()],
        ),
        (
            SummaryRecords,
            [
                {
                    "community_id": c,
                    "investigator_id": i,
                    "status": s,
                    "collection_status": cs,
                    "reason": r,
                    "n": n,
                }
                for (c, i, s, cs, r), n in counts.records.items()
            ],
        ),
        (
            SummaryHouseholds,
            [
                {"community_id": c, "household_id": h, "people": p, "visited": v}
                for (c, h), (p, v) in counts.households.items()
            ],
        ),
        (
            SummaryHours,
            [
                {"community_id": c, "kind": k, "hour": h, "n": n}
                for (c, k, h), n in counts.hours.items()
            ],
        ),
        (
            SummaryCommunities,
            [
                {"community_id": c, "households": h, "visited": v}
                for c, (h, v) in counts.communities.items()
            ],
        ),
    ]
    for table, values in rows:
        for start in range(0, len(values), 5000):
            conn.execute(insert(table), values[start : start + 5000])


async def stored(session: AsyncSession) -> Counts:
    """The counters as the tables hold them."""
    return await session.run_sync(lambda s: _stored(s.connection()))


async def recount(session: AsyncSession) -> Counts:
    """Every counter counted again from ``persons`` and ``records``."""
    return await session.run_sync(lambda s: _recount(s.connection()))


async def check(session: AsyncSession) -> list[str]:
    """Where the counters differ from a full recount (empty: they agree)."""
    return await session.run_sync(lambda s: _check(s.connection()))


async def rebuild(session: AsyncSession) -> None:
    """Replace every counter by the recount (in the caller's transaction)."""
    await session.run_sync(lambda s: rebuild_on(s.connection()))


# ------------------------------------------------------------------------------ the readers


def area_column(level: str) -> Any:
    """The column of ``communities`` that names a summary row's area at ``level``."""
    return {
        "district": Community.district_id,
        "street": Community.street_id,
        "community": Community.id,
    }[level]


def _narrowed(
    stmt: Any, community: Any, scope: int | None, level: str, ids: Sequence[int] | None
) -> Any:
    """Join a summary table's rows to their community; keep the areas ``ids`` (None: every
    area) within ``scope`` (a district, or None for the city)."""
    stmt = stmt.join(Community, Community.id == community)
    if ids is not None:
        stmt = stmt.where(area_column(level).in_(list(ids)))
    if scope is not None:
        stmt = stmt.where(Community.district_id == scope)
    return stmt


async def person_counts(
    session: AsyncSession, scope: int | None, level: str, ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """Roster people by status, per area of ``level`` among ``ids``."""
    area = area_column(level)
    stmt = select(area, SummaryPersons.status, func.sum(SummaryPersons.n)).select_from(
        SummaryPersons
    )
    stmt = _narrowed(stmt, SummaryPersons.community_id, scope, level, ids)
    out: dict[int, dict[str, int]] = {i: {} for i in ids}
    for a, status, n in (await session.execute(stmt.group_by(area, SummaryPersons.status))).all():
        if n:
            out[a][status] = int(n)
    return out


async def record_counts(
    session: AsyncSession, scope: int | None, level: str, ids: Sequence[int]
) -> list[tuple[int, str, str | None, str | None, int]]:
    """(area, status, collection status, 未采集 reason, records) of the live records."""
    area = area_column(level)
    keys = (SummaryRecords.status, SummaryRecords.collection_status, SummaryRecords.reason)
    stmt = select(area, *keys, func.sum(SummaryRecords.n)).select_from(SummaryRecords)
    stmt = _narrowed(stmt, SummaryRecords.community_id, scope, level, ids).group_by(area, *keys)
    return [
        (a, status, collection or None, reason or None, int(n))
        for a, status, collection, reason, n in (await session.execute(stmt)).all()
        if n
    ]


async def household_counts(
    session: AsyncSession, scope: int | None, level: str, ids: Sequence[int]
) -> dict[int, tuple[int, int]]:
    """Per area: (households with a roster person, households with a handed-in record)."""
    area = area_column(level)
    stmt = select(
        area, func.sum(SummaryCommunities.households), func.sum(SummaryCommunities.visited)
    ).select_from(SummaryCommunities)
    stmt = _narrowed(stmt, SummaryCommunities.community_id, scope, level, ids).group_by(area)
    return {a: (int(h or 0), int(v or 0)) for a, h, v in (await session.execute(stmt)).all()}


async def hour_counts(
    session: AsyncSession, scope: int | None, level: str, area_id: int | None
) -> list[tuple[str, dt.datetime, int]]:
    """(submitted | confirmed, the UTC hour, records) within the area (None: the city)."""
    keys = (SummaryHours.kind, SummaryHours.hour)
    stmt = select(*keys, func.sum(SummaryHours.n)).select_from(SummaryHours)
    ids = None if level == "city" or area_id is None else [area_id]
    stmt = _narrowed(stmt, SummaryHours.community_id, scope, level, ids).group_by(*keys)
    return [
        (kind, dt.datetime(int(h[:4]), int(h[5:7]), int(h[8:10]), int(h[11:13]), tzinfo=dt.UTC), n)
        for kind, h, n in (await session.execute(stmt)).all()
        if n
    ]


async def record_total(
    session: AsyncSession,
    scope: int | None,
    *,
    statuses: Sequence[str] = (),
    district_id: int | None = None,
    street_id: int | None = None,
    community_id: int | None = None,
    investigator_id: int | None = None,
) -> int:
    """Live records with one of ``statuses`` (all when empty) in the areas and of the
    investigator given: the review queue's total without counting the records."""
    stmt = select(func.coalesce(func.sum(SummaryRecords.n), 0)).select_from(SummaryRecords)
    stmt = _narrowed(stmt, SummaryRecords.community_id, scope, "community", None)
    for column, value in (
        (Community.district_id, district_id),
        (Community.street_id, street_id),
        (Community.id, community_id),
        (SummaryRecords.investigator_id, investigator_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if statuses:
        stmt = stmt.where(SummaryRecords.status.in_([str(s) for s in statuses]))
    return int(await session.scalar(stmt) or 0)


async def investigator_record_counts(
    session: AsyncSession, scope: int | None, level: str, area_id: int | None
) -> list[tuple[int, str, str | None, str | None, int]]:
    """(investigator, status, collection status, 未采集 reason, records) within the area."""
    keys = (
        SummaryRecords.investigator_id,
        SummaryRecords.status,
        SummaryRecords.collection_status,
        SummaryRecords.reason,
    )
    stmt = select(*keys, func.sum(SummaryRecords.n)).select_from(SummaryRecords)
    ids = None if level == "city" or area_id is None else [area_id]
    stmt = _narrowed(stmt, SummaryRecords.community_id, scope, level, ids)
    stmt = stmt.where(SummaryRecords.investigator_id != 0).group_by(*keys)
    return [
        (i, status, collection or None, reason or None, int(n))
        for i, status, collection, reason, n in (await session.execute(stmt)).all()
        if n
    ]


__all__ = [
    "TABLES",
    "Counts",
    "SummaryCommunities",
    "SummaryHours",
    "SummaryHouseholds",
    "SummaryPersons",
    "SummaryRecords",
    "area_column",
    "check",
    "drop_ddl",
    "hour_counts",
    "hour_sql",
    "household_counts",
    "install_triggers",
    "investigator_record_counts",
    "person_counts",
    "rebuild",
    "rebuild_on",
    "record_counts",
    "record_total",
    "recount",
    "stored",
    "trigger_ddl",
]
