"""Target persons: lookups and the people an investigator adds who are not on the roster."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Community, Household, Investigator, Person, id_number_index
from storage.repositories.actors import Actor
from storage.repositories.areas import get_or_create_household
from storage.repositories.audit import add_event


def normalise_id_number(value: str) -> str:
    """The canonical form of a 公民身份号码 as stored: no spaces, upper-case X."""
    return "".join(value.split()).upper()


async def get_person(session: AsyncSession, person_id: int) -> Person | None:
    """The person with that id."""
    return await session.get(Person, person_id)


async def find_person_by_id_number(session: AsyncSession, id_number: str) -> Person | None:
    """The person with that 公民身份号码 (normalised first), or None."""
    return await session.scalar(
        select(Person).where(
            Person.id_number_index == id_number_index(normalise_id_number(id_number))
        )
    )


async def persons_in_household(session: AsyncSession, household_id: int) -> Sequence[Person]:
    """The people of a household, in roster order."""
    result = await session.scalars(
        select(Person).where(Person.household_id == household_id).order_by(Person.id)
    )
    return result.all()


async def households_of_community(session: AsyncSession, community_id: int) -> Sequence[Household]:
    """A community's households by 户号."""
    result = await session.scalars(
        select(Household).where(Household.community_id == community_id).order_by(Household.number)
    )
    return result.all()


async def add_person_off_roster(
    session: AsyncSession,
    *,
    community: Community,
    household_number: str,
    name: str,
    id_number: str,
    investigator: Investigator,
    mobile: str | None = None,
) -> tuple[Person, bool]:
    """Add a person an investigator found who is not on the roster (flagged ``on_roster=False``).

    The 公民身份号码 must already be validated by the caller. When it is already known the
    existing person is returned unchanged with ``False`` (the duplicate guard then applies).
    """
    id_number = normalise_id_number(id_number)
    existing = await find_person_by_id_number(session, id_number)
    if existing is not None:
        return existing, False
    household = await get_or_create_household(session, community, household_number)
    person = Person(
        household_id=household.id,
        community_id=community.id,
        street_id=community.street_id,
        district_id=community.district_id,
        name=name.strip(),
        id_number=id_number,
        mobile=mobile,
        on_roster=False,
        added_by_investigator_id=investigator.id,
        insured_members=[],
        extra={},
    )
    session.add(person)
    await session.flush()
    add_event(
        session,
        Actor.investigator(investigator),
        "person_added",
        person_id=person.id,
        details={"community_id": community.id, "household": household.number},
    )
    return person, True
