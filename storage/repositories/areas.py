"""Areas (区 → 街道 → 社区) and households."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage.models import Community, District, Household, Street

# Administrative codes of the districts in scope (stdnum's cn/loc data; 高新区 is 虎丘区).
DISTRICT_CODES = {"姑苏区": "320508", "高新区": "320505", "虎丘区": "320505"}


def split_path(path: str) -> tuple[str, str, str]:
    """Split ``区/街道/社区`` into its three names (surrounding spaces ignored).

    Raises ValueError when the path does not have exactly three non-empty parts.
    """
    parts = [p.strip() for p in path.replace("／", "/").split("/")]
    if len(parts) != 3 or not all(parts):
        raise ValueError(
            f"社区应写成 区/街道/社区，例如 姑苏区/平江街道/平江路社区（收到 {path!r}）"
        )
    return parts[0], parts[1], parts[2]


async def get_or_create_community(
    session: AsyncSession, district: str, street: str, community: str
) -> Community:
    """The community at that path, created (with its street and district) when missing."""
    d = await session.scalar(select(District).where(District.name == district))
    if d is None:
        d = District(name=district, code=DISTRICT_CODES.get(district))
        session.add(d)
        await session.flush()
    s = await session.scalar(
        select(Street).where(Street.district_id == d.id, Street.name == street)
    )
    if s is None:
        s = Street(district_id=d.id, name=street)
        session.add(s)
        await session.flush()
    c = await session.scalar(
        select(Community).where(Community.street_id == s.id, Community.name == community)
    )
    if c is None:
        c = Community(street_id=s.id, district_id=d.id, name=community)
        session.add(c)
        await session.flush()
    return c


async def find_community(session: AsyncSession, path: str) -> Community | None:
    """The community named by ``区/街道/社区``, or None (ValueError for a malformed path)."""
    district, street, community = split_path(path)
    return await session.scalar(
        select(Community)
        .join(Street, Community.street_id == Street.id)
        .join(District, Street.district_id == District.id)
        .where(District.name == district, Street.name == street, Community.name == community)
        .options(joinedload(Community.street).joinedload(Street.district))
    )


async def find_district(session: AsyncSession, name: str) -> District | None:
    """The district of that name."""
    return await session.scalar(select(District).where(District.name == name.strip()))


async def find_street(session: AsyncSession, path: str) -> Street | None:
    """The street named by ``区/街道``, or None."""
    parts = [p.strip() for p in path.replace("／", "/").split("/")]
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"街道应写成 区/街道，例如 姑苏区/平江街道（收到 {path!r}）")
    return await session.scalar(
        select(Street)
        .join(District, Street.district_id == District.id)
        .where(District.name == parts[0], Street.name == parts[1])
    )


async def list_districts(session: AsyncSession) -> Sequence[District]:
    """Every district, by name."""
    return (await session.scalars(select(District).order_by(District.name))).all()


async def list_streets(session: AsyncSession, district_id: int | None = None) -> Sequence[Street]:
    """Streets, optionally of one district."""
    stmt = select(Street).order_by(Street.district_id, Street.name)
    if district_id is not None:
        stmt = stmt.where(Street.district_id == district_id)
    return (await session.scalars(stmt)).all()


async def list_communities(
    session: AsyncSession, *, district_id: int | None = None, street_id: int | None = None
) -> Sequence[Community]:
    """Communities (with street and district loaded), optionally within an area."""
    stmt = (
        select(Community)
        .options(joinedload(Community.street).joinedload(Street.district))
        .order_by(Community.district_id, Community.street_id, Community.name)
    )
    if district_id is not None:
        stmt = stmt.where(Community.district_id == district_id)
    if street_id is not None:
        stmt = stmt.where(Community.street_id == street_id)
    return (await session.scalars(stmt)).all()


async def get_or_create_household(
    session: AsyncSession, community: Community, number: str
) -> Household:
    """The household with that 户号 in the community, created when missing."""
    number = number.strip()
    household = await session.scalar(
        select(Household).where(Household.community_id == community.id, Household.number == number)
    )
    if household is None:
        household = Household(community_id=community.id, number=number)
        session.add(household)
        await session.flush()
    return household
