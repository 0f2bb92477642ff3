"""Bulk roster upsert: validated rows in, areas / households / persons out, records untouched.

Validation (IDs, mobiles, duplicates, file rows and columns) is the importer's job; this module
assumes clean rows. They go first into a temporary staging table (:class:`RosterStaging`, Core
``executemany`` of plain text columns, chunk by chunk as the file is checked), and are then
merged into the store with a few set-based statements (``INSERT … SELECT`` for new households
and people, executemany ``UPDATE`` for changed people), so 200,000 rows take seconds and memory
stays flat. Staging touches no table of the store: on SQLite the temporary table lives in its
own database file, so the store's write lock is taken only by the merge.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy import (
    cast as sql_cast,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.schema import CreateTable, DropTable

from storage import crypto
from storage.crypto import Keyring
from storage.models import Community, District, Household, Person, Street, mobile_index
from storage.repositories.actors import Actor
from storage.repositories.areas import DISTRICT_CODES
from storage.repositories.audit import add_event
from storage.types import EncryptedJSON, EncryptedText, UTCDateTime, utcnow

Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``, called as each chunk is written."""

CHUNK = 5000
_PERSONS = cast(Table, Person.__table__)
_HOUSEHOLDS = cast(Table, Household.__table__)
# Columns an updated roster may change on a known person. An empty cell never erases a value
# the store already has (a roster row with no phone means "unknown", not "no phone").
_UPDATABLE = (
    "name",
    "mobile",
    "residence_address",
    "hukou_address",
    "insured_members",
    "insured_members_raw",
    "extra",
)
_JSON_EMPTY = {"insured_members": "[]", "extra": "{}"}

# Temporary tables, one set per connection (the store's migrations do not know them).
_TEMPORARY = MetaData()
_STAGING = Table(
    "roster_staging",
    _TEMPORARY,
    Column("seq", Integer, primary_key=True, autoincrement=False),  # order in the file
    Column("district", String),
    Column("street", String),
    Column("community", String),
    Column("household", String),
    # Personal values are staged already sealed for the ``persons`` column they go to (the
    # temporary table is a file on disk too), and read back through the same types.
    Column("name", EncryptedText("persons.name")),
    Column("id_number", EncryptedText("persons.id_number")),
    Column("id_number_index", String),
    Column("mobile", EncryptedText("persons.mobile")),
    Column("mobile_index", String),
    Column("residence_address", EncryptedText("persons.residence_address")),
    Column("hukou_address", EncryptedText("persons.hukou_address")),
    Column("insured_members", EncryptedJSON("persons.insured_members")),  # NULL for none
    Column("insured_members_raw", EncryptedText("persons.insured_members_raw")),
    Column("extra", EncryptedJSON("persons.extra")),  # NULL for none
    prefixes=["TEMPORARY"],
)
# (区, 街道, 社区) names → ids: a few hundred rows, so staging joins areas by name once.
_PATHS = Table(
    "roster_paths",
    _TEMPORARY,
    Column("district", String, primary_key=True),
    Column("street", String, primary_key=True),
    Column("community", String, primary_key=True),
    Column("district_id", Integer),
    Column("street_id", Integer),
    Column("community_id", Integer),
    prefixes=["TEMPORARY"],
)


@dataclass(slots=True)
class RosterRow:
    """One validated roster row (``id_number`` normalised, ``mobile`` 11 digits or None).

    Not frozen: a frozen dataclass sets each field through ``object.__setattr__``, which made
    building 200,000 of them a fifth of a roster check.
    """

    district: str
    street: str
    community: str
    household: str
    name: str
    id_number: str
    mobile: str | None = None
    residence_address: str | None = None
    hukou_address: str | None = None
    insured_members: list[dict[str, str]] = field(default_factory=list)
    insured_members_raw: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class RosterImportResult:
    """What an import changed."""

    rows: int = 0
    districts_added: int = 0
    streets_added: int = 0
    communities_added: int = 0
    households_added: int = 0
    persons_added: int = 0
    persons_updated: int = 0
    persons_unchanged: int = 0


async def _areas(
    session: AsyncSession, names: Iterable[tuple[str, str, str]], result: RosterImportResult
) -> dict[tuple[str, str, str], tuple[int, int, int]]:
    """Map (区, 街道, 社区) → (district_id, street_id, community_id), creating missing areas."""
    districts = {d.name: d.id for d in (await session.scalars(select(District))).all()}
    streets = {(s.district_id, s.name): s.id for s in (await session.scalars(select(Street))).all()}
    communities = {
        (c.street_id, c.name): c.id for c in (await session.scalars(select(Community))).all()
    }
    paths: dict[tuple[str, str, str], tuple[int, int, int]] = {}
    for key in names:
        district, street, community = key
        if district not in districts:
            d = District(name=district, code=DISTRICT_CODES.get(district))
            session.add(d)
            await session.flush()
            districts[district] = d.id
            result.districts_added += 1
        district_id = districts[district]
        if (district_id, street) not in streets:
            s = Street(district_id=district_id, name=street)
            session.add(s)
            await session.flush()
            streets[(district_id, street)] = s.id
            result.streets_added += 1
        street_id = streets[(district_id, street)]
        if (street_id, community) not in communities:
            c = Community(street_id=street_id, district_id=district_id, name=community)
            session.add(c)
            await session.flush()
            communities[(street_id, community)] = c.id
            result.communities_added += 1
        paths[key] = (district_id, street_id, communities[(street_id, community)])
    return paths


def _staged(seq: int, row: RosterRow, keys: Keyring) -> tuple[Any, ...]:
    """The staging table's values of one row, in the order of its columns (sealed as the
    column types would seal them: the INSERT skips type processing)."""

    def sealed(value: str | None, column: str) -> str | None:
        return None if value is None else keys.encrypt(value, f"persons.{column}")

    def sealed_json(value: Any, column: str) -> str | None:
        return sealed(json.dumps(value), column) if value else None

    return (
        seq,
        row.district,
        row.street,
        row.community,
        row.household,
        sealed(row.name, "name"),
        sealed(row.id_number, "id_number"),
        keys.blind_index("id_number", row.id_number),
        sealed(row.mobile, "mobile"),
        keys.blind_index("mobile", row.mobile) if row.mobile else None,
        sealed(row.residence_address, "residence_address"),
        sealed(row.hukou_address, "hukou_address"),
        sealed_json(row.insured_members, "insured_members"),
        sealed(row.insured_members_raw, "insured_members_raw"),
        sealed_json(row.extra, "extra"),
    )


_STAGED_COLUMNS = tuple(c.name for c in _STAGING.columns)


class RosterStaging:
    """Validated rows collected in a temporary table, then merged into the store in one go.

    ``await RosterStaging.start(session)``, ``await staging.add(rows)`` as many times as
    needed, then ``await staging.merge(...)`` (or ``await staging.discard()``), all in the
    caller's transaction: its rollback undoes the merge as well. Nothing of the store is
    written or locked before ``merge``.
    """

    def __init__(self, session: AsyncSession, connection: AsyncConnection) -> None:
        self.session = session
        self._conn = connection
        self.rows = 0
        # The staging INSERT compiled once for the connection's dialect: rows are sealed by
        # _staged (no type processing), so they go to the driver's executemany as
        # tuples, skipping the per-row parameter dictionaries (a third of the staging cost).
        compiled = insert(_STAGING).compile(dialect=connection.dialect)
        order = compiled.positiontup
        self._insert = str(compiled) if order is not None else None
        self._order = [_STAGED_COLUMNS.index(name) for name in order or ()]

    @classmethod
    async def start(cls, session: AsyncSession) -> RosterStaging:
        """Create empty staging tables on the session's connection."""
        conn = await session.connection()
        for table in (_STAGING, _PATHS):
            # A connection from the pool may still have them from an import that failed.
            await conn.execute(DropTable(table, if_exists=True))
            await conn.execute(CreateTable(table))
        return cls(session, conn)

    async def add(self, rows: Sequence[RosterRow]) -> None:
        """Stage ``rows`` (one executemany; file order is kept)."""
        if not rows:
            return
        keys = crypto.keyring()
        staged = [_staged(seq, row, keys) for seq, row in enumerate(rows, start=self.rows + 1)]
        if self._insert is None:  # a driver with named parameters
            await self._conn.exec_driver_sql(
                str(insert(_STAGING).compile(dialect=self._conn.dialect)),
                [dict(zip(_STAGED_COLUMNS, v, strict=True)) for v in staged],
            )
        else:
            if self._order != list(range(len(_STAGED_COLUMNS))):
                staged = [tuple(v[i] for i in self._order) for v in staged]
            await self._conn.exec_driver_sql(self._insert, staged)
        self.rows += len(rows)

    async def discard(self) -> None:
        """Drop the staging tables."""
        for table in (_STAGING, _PATHS):
            await self._conn.execute(DropTable(table, if_exists=True))

    async def merge(
        self,
        *,
        actor: Actor | None = None,
        source: str | None = None,
        progress: Progress | None = None,
    ) -> RosterImportResult:
        """Add the new people and update the known ones (matched by 公民身份号码).

        Records are never touched. Idempotent: merging the same rows again changes nothing. A
        person an investigator added earlier (``on_roster`` False) who is now on the roster
        becomes a roster person. The staging tables are dropped afterwards.
        """
        conn = self._conn
        result = RosterImportResult(rows=self.rows)
        s, p, h = _STAGING.c, _PATHS.c, _HOUSEHOLDS.c
        names = await conn.execute(
            select(s.district, s.street, s.community)
            .group_by(s.district, s.street, s.community)
            .order_by(func.min(s.seq))
        )
        paths = await _areas(self.session, [tuple(n) for n in names.all()], result)
        if paths:
            await conn.execute(
                insert(_PATHS),
                [
                    {
                        "district": d,
                        "street": st,
                        "community": c,
                        "district_id": ids[0],
                        "street_id": ids[1],
                        "community_id": ids[2],
                    }
                    for (d, st, c), ids in paths.items()
                ],
            )
        on_path = _STAGING.join(
            _PATHS, and_(p.district == s.district, p.street == s.street, p.community == s.community)
        )
        missing = (
            select(p.community_id, s.household)
            .select_from(on_path)
            .where(~exists().where(h.community_id == p.community_id, h.number == s.household))
            .distinct()
            .order_by(p.community_id, s.household)
        )
        added = await conn.execute(
            insert(_HOUSEHOLDS).from_select(["community_id", "number"], missing)
        )
        result.households_added = max(added.rowcount, 0)
        if progress:
            progress("households", result.households_added, result.households_added)

        placed = on_path.join(
            _HOUSEHOLDS, and_(h.community_id == p.community_id, h.number == s.household)
        )
        now = utcnow()
        # Known people first, while the new ones are not in ``persons`` yet.
        result.persons_updated = await self._update_known(placed, now, progress)
        new = (
            select(
                h.id,
                p.community_id,
                p.street_id,
                p.district_id,
                s.name,
                s.id_number,
                s.id_number_index,
                s.mobile,
                s.mobile_index,
                s.residence_address,
                s.hukou_address,
                self._json(s.insured_members),
                s.insured_members_raw,
                self._json(s.extra),
                true(),
                literal(now, UTCDateTime()),
                literal(now, UTCDateTime()),
            )
            .select_from(placed)
            .where(~exists().where(_PERSONS.c.id_number_index == s.id_number_index))
            .order_by(s.seq)
        )
        columns = ["household_id", "community_id", "street_id", "district_id", "name"]
        columns += ["id_number", "id_number_index", "mobile", "mobile_index"]
        columns += ["residence_address", "hukou_address"]
        columns += ["insured_members", "insured_members_raw", "extra", "on_roster"]
        columns += ["created_at", "updated_at"]
        inserted = await conn.execute(insert(_PERSONS).from_select(columns, new))
        result.persons_added = max(inserted.rowcount, 0)
        if progress:
            progress("persons", self.rows, self.rows)
        result.persons_unchanged = self.rows - result.persons_added - result.persons_updated
        await self.discard()
        add_event(
            self.session,
            actor or Actor.system(),
            "roster_imported",
            details={
                "source": source,
                "rows": result.rows,
                "added": result.persons_added,
                "updated": result.persons_updated,
            },
        )
        return result

    def _json(self, column: Column[Any]) -> ColumnElement[Any]:
        """A staged sealed JSON value (NULL: empty, sealed here) for a column of the store."""
        empty = crypto.seal(_JSON_EMPTY[column.name], f"persons.{column.name}")
        return func.coalesce(sql_cast(column, Text), literal(empty, Text))

    async def _update_known(self, placed: Any, now: Any, progress: Progress | None) -> int:
        """Update the staged people already in the store, chunk by chunk in file order."""
        s, p, h, old = _STAGING.c, _PATHS.c, _HOUSEHOLDS.c, _PERSONS.c
        page = (
            select(
                s.seq,
                *(s[name] for name in _UPDATABLE),
                h.id.label("new_household_id"),
                p.community_id.label("new_community_id"),
                p.street_id.label("new_street_id"),
                p.district_id.label("new_district_id"),
                old.id.label("person_id"),
                old.household_id.label("old_household_id"),
                old.on_roster.label("old_on_roster"),
                *(old[name].label(f"old_{name}") for name in _UPDATABLE),
            )
            .select_from(placed.join(_PERSONS, old.id_number_index == s.id_number_index))
            .where(s.seq > bindparam("after"), _may_differ(s, old, h))
            .order_by(s.seq)
            .limit(CHUNK)
        )
        updated = 0
        after = 0
        while True:
            found = (await self._conn.execute(page, {"after": after})).mappings().all()
            if not found:
                return updated
            changed = [item for row in found if (item := _changes(row, now))]
            # Rows differ in which columns change; group them so each executemany has one shape.
            by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for item in changed:
                by_shape.setdefault(tuple(sorted(item)), []).append(item)
            for items in by_shape.values():
                await self._conn.execute(
                    update(_PERSONS).where(_PERSONS.c.id == bindparam("person_id")), items
                )
            updated += len(changed)
            after = found[-1]["seq"]
            if progress:
                progress("persons", after, self.rows)


def _may_differ(s: Any, old: Any, h: Any) -> ColumnElement[bool]:
    """A filter in SQL keeping every staged row that may change its person.

    Personal values are sealed with a fresh nonce each, so SQL cannot tell an unchanged name
    or address from a changed one: every staged row whose person has any such value is read
    back and :func:`_changes` compares the plain values. What SQL can compare it does.
    """
    differs = [old.household_id != h.id, ~old.on_roster]
    differs.append(
        and_(s.mobile_index.is_not(None), old.mobile_index.is_distinct_from(s.mobile_index))
    )
    sealed = ("name", "residence_address", "hukou_address", "insured_members_raw", *_JSON_EMPTY)
    differs += [s[name].is_not(None) for name in sealed]
    return or_(*differs)


def _changes(row: Any, now: Any) -> dict[str, Any] | None:
    """The SET values (and ``person_id``) for a known person, or None when nothing changes.

    An empty cell never erases a value the store already has.
    """
    values = {name: row[name] for name in _UPDATABLE}
    update_values = {
        k: v for k, v in values.items() if v not in (None, "", [], {}) and v != row[f"old_{k}"]
    }
    if "mobile" in update_values:
        update_values["mobile_index"] = mobile_index(update_values["mobile"])
    if row["old_household_id"] != row["new_household_id"]:
        update_values.update(
            household_id=row["new_household_id"],
            community_id=row["new_community_id"],
            street_id=row["new_street_id"],
            district_id=row["new_district_id"],
        )
    if not row["old_on_roster"]:
        update_values["on_roster"] = True
    if not update_values:
        return None
    return {"person_id": row["person_id"], "updated_at": now, **update_values}


async def import_roster(
    session: AsyncSession,
    rows: Sequence[RosterRow],
    *,
    actor: Actor | None = None,
    source: str | None = None,
    progress: Progress | None = None,
) -> RosterImportResult:
    """Add new people and update known ones (matched by 公民身份号码); records are never touched.

    Idempotent: importing the same rows again changes nothing. A person an investigator added
    earlier (``on_roster`` False) who now appears on the roster becomes a roster person.
    Runs in the caller's transaction: on any error the caller's rollback undoes everything.
    """
    staging = await RosterStaging.start(session)
    for start in range(0, len(rows), CHUNK):
        await staging.add(rows[start : start + CHUNK])
    return await staging.merge(actor=actor, source=source, progress=progress)
