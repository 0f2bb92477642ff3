"""The roster as a community receives it on paper (入户调查花名册, 四.1): every person of a
community, or of an investigator's communities, in 户号 order, with the roster's address and
insured family members beside the status and newest contact that :mod:`storage.people` gives.

Scoped like every query here: ``scope`` is the reader's district (None for the city).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import people
from storage.models import Community, Investigator, Person, investigator_communities

PAGE = 2000


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """One person of the printed roster: the person list's row and the roster's details.

    ``insured`` is the household's insured family members (五.3), given on the household's
    first person only, so a household's list is printed once."""

    row: people.PersonRow
    address: str
    insured: list[dict[str, str]]
    first_of_household: bool


async def roster_entries(
    session: AsyncSession, scope: int | None, f: people.PersonFilter
) -> list[RosterEntry]:
    """Everyone matching ``f`` within ``scope`` in roster order (community, 户号)."""
    rows: list[people.PersonRow] = []
    page = 1
    while True:
        chunk = await people.person_page(session, scope, f, page=page, per_page=PAGE)
        rows.extend(chunk.rows)
        if page >= chunk.pages:
            break
        page += 1
    persons: dict[int, Person] = {}
    ids = [r.id for r in rows]
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        for person in (await session.scalars(select(Person).where(Person.id.in_(batch)))).all():
            persons[person.id] = person
    by_household: dict[int, list[Person]] = {}
    for r in rows:
        by_household.setdefault(r.household_id, []).append(persons[r.id])
    out: list[RosterEntry] = []
    seen: set[int] = set()
    for r in rows:
        person = persons[r.id]
        first = r.household_id not in seen
        seen.add(r.household_id)
        insured = people.insured_contacts(by_household[r.household_id]) if first else []
        address = (person.residence_address or person.hukou_address or "").strip()
        out.append(RosterEntry(r, address, insured, first))
    return out


def communities_of(entries: Sequence[RosterEntry]) -> list[tuple[str, list[RosterEntry]]]:
    """The entries grouped by community (``区/街道/社区``), in their order."""
    groups: dict[int, tuple[str, list[RosterEntry]]] = {}
    for e in entries:
        r = e.row
        groups.setdefault(r.community_id, (f"{r.district}/{r.street}/{r.community}", []))[1].append(
            e
        )
    return list(groups.values())


async def investigators_in(session: AsyncSession, scope: int | None) -> list[Investigator]:
    """Active investigators working in a community within ``scope``, by name."""
    stmt = (
        select(Investigator)
        .join(
            investigator_communities, investigator_communities.c.investigator_id == Investigator.id
        )
        .join(Community, Community.id == investigator_communities.c.community_id)
        .where(Investigator.revoked_at.is_(None))
        .distinct()
        .order_by(Investigator.name, Investigator.id)
    )
    if scope is not None:
        stmt = stmt.where(Community.district_id == scope)
    return list((await session.scalars(stmt)).all())
