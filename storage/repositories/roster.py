"""Bulk roster upsert: validated rows in, areas / households / persons out, records untouched.

Validation (IDs, mobiles, duplicates, file rows and columns) is the importer's job; this module
assumes clean rows and writes them with bulk statements, so 200,000 rows take seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Community, District, Household, Person, Street
from storage.repositories.actors import Actor
from storage.repositories.areas import DISTRICT_CODES
from storage.repositories.audit import add_event
from storage.types import utcnow

Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``, called as each chunk is written."""

CHUNK = 5000
_PERSONS = cast(Table, Person.__table__)
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


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One validated roster row (``id_number`` normalised, ``mobile`` 11 digits or None)."""

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


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _areas(
    session: AsyncSession, rows: Sequence[RosterRow], result: RosterImportResult
) -> dict[tuple[str, str, str], tuple[int, int, int]]:
    """Map (区, 街道, 社区) → (district_id, street_id, community_id), creating missing areas."""
    districts = {d.name: d.id for d in (await session.scalars(select(District))).all()}
    streets = {(s.district_id, s.name): s.id for s in (await session.scalars(select(Street))).all()}
    communities = {
        (c.street_id, c.name): c.id for c in (await session.scalars(select(Community))).all()
    }
    paths: dict[tuple[str, str, str], tuple[int, int, int]] = {}
    for row in rows:
        key = (row.district, row.street, row.community)
        if key in paths:
            continue
        if row.district not in districts:
            d = District(name=row.district, code=DISTRICT_CODES.get(row.district))
            session.add(d)
            await session.flush()
            districts[row.district] = d.id
            result.districts_added += 1
        district_id = districts[row.district]
        if (district_id, row.street) not in streets:
            s = Street(district_id=district_id, name=row.street)
            session.add(s)
            await session.flush()
            streets[(district_id, row.street)] = s.id
            result.streets_added += 1
        street_id = streets[(district_id, row.street)]
        if (street_id, row.community) not in communities:
            c = Community(street_id=street_id, district_id=district_id, name=row.community)
            session.add(c)
            await session.flush()
            communities[(street_id, row.community)] = c.id
            result.communities_added += 1
        paths[key] = (district_id, street_id, communities[(street_id, row.community)])
    return paths


async def _households(
    session: AsyncSession,
    wanted: set[tuple[int, str]],
    result: RosterImportResult,
    progress: Progress | None,
) -> dict[tuple[int, str], int]:
    community_ids = sorted({c for c, _ in wanted})
    known: dict[tuple[int, str], int] = {}

    async def load() -> None:
        for ids in _chunks(community_ids, 500):
            rows = await session.execute(
                select(Household.id, Household.community_id, Household.number).where(
                    Household.community_id.in_(ids)
                )
            )
            for hid, cid, number in rows.all():
                known[(cid, number)] = hid

    await load()
    missing = sorted(wanted - known.keys())
    for done, chunk in enumerate(_chunks(missing), start=1):
        await session.execute(
            insert(Household), [{"community_id": c, "number": n} for c, n in chunk]
        )
        if progress:
            progress("households", min(done * CHUNK, len(missing)), len(missing))
    result.households_added = len(missing)
    if missing:
        await load()
    return known


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
    result = RosterImportResult(rows=len(rows))
    paths = await _areas(session, rows, result)
    households = await _households(
        session,
        {(paths[(r.district, r.street, r.community)][2], r.household) for r in rows},
        result,
        progress,
    )

    # Chunk by chunk (look up, compare, write), so memory stays flat on large rosters.
    columns = [Person.id, Person.id_number, Person.household_id, Person.on_roster]
    columns += [getattr(Person, name) for name in _UPDATABLE]
    now = utcnow()
    for done, chunk in enumerate(_chunks(rows), start=1):
        found = await session.execute(
            select(*columns).where(Person.id_number.in_([r.id_number for r in chunk]))
        )
        existing = {m["id_number"]: m for m in found.mappings().all()}
        new: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        for row in chunk:
            district_id, street_id, community_id = paths[(row.district, row.street, row.community)]
            placement = {
                "household_id": households[(community_id, row.household)],
                "community_id": community_id,
                "street_id": street_id,
                "district_id": district_id,
            }
            values = {name: getattr(row, name) for name in _UPDATABLE}
            old = existing.get(row.id_number)
            if old is None:
                new.append(
                    {
                        **values,
                        **placement,
                        "id_number": row.id_number,
                        "on_roster": True,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                continue
            update_values = {
                k: v for k, v in values.items() if v not in (None, "", [], {}) and v != old[k]
            }
            if old["household_id"] != placement["household_id"]:
                update_values.update(placement)
            if not old["on_roster"]:
                update_values["on_roster"] = True
            if update_values:
                changed.append({"id": old["id"], "updated_at": now, **update_values})
        if new:
            await session.execute(insert(_PERSONS), new)
        # Rows differ in which columns change; group them so each executemany has one shape.
        by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for item in changed:
            by_shape.setdefault(tuple(sorted(item)), []).append(item)
        for items in by_shape.values():
            await session.execute(update(Person), items)
        result.persons_added += len(new)
        result.persons_updated += len(changed)
        if progress:
            progress("persons", min(done * CHUNK, len(rows)), len(rows))
    result.persons_unchanged = len(rows) - result.persons_added - result.persons_updated
    add_event(
        session,
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
