"""Read-only queries for investigators: households, their people, and collection progress.

A person's collection status (户不漏人): no live record → 待采集; a draft (or a record
returned for changes) → 草稿; submitted or confirmed → 已提交 / 已确认, or 未采集 when the
investigator recorded a reason instead. A household is complete when nobody in it is 待采集
or 草稿.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Community, Household, Person, Record, RecordStatus


class Collection(enum.StrEnum):
    """A person's place in the door-to-door collection."""

    pending = "待采集"
    draft = "草稿"
    submitted = "已提交"
    confirmed = "已确认"
    not_collected = "未采集"


ORDER = tuple(Collection)
DONE = frozenset({Collection.submitted, Collection.confirmed, Collection.not_collected})


def collection_of(record: Record | None) -> Collection:
    """The collection status of a person with this live record."""
    return _status(
        None if record is None else record.status,
        None if record is None else record.collection_status,
    )


def _status(status: RecordStatus | None, collection_status: str | None) -> Collection:
    if status is None:
        return Collection.pending
    if status in (RecordStatus.draft, RecordStatus.returned):
        return Collection.draft
    if collection_status == "not_collected":
        return Collection.not_collected
    return Collection.confirmed if status == RecordStatus.confirmed else Collection.submitted


@dataclass
class HouseholdRow:
    """A household with how many of its people are in each collection status."""

    id: int
    number: str
    community: str
    counts: Counter[Collection] = field(default_factory=Counter)

    @property
    def size(self) -> int:
        """People on it (the roster's and those added)."""
        return sum(self.counts.values())

    @property
    def complete(self) -> bool:
        """Everyone submitted or recorded as 未采集."""
        return all(status in DONE for status in self.counts.elements())


async def households(session: AsyncSession, community_ids: Sequence[int]) -> list[HouseholdRow]:
    """The communities' households (by community, 户号) with their status counts."""
    if not community_ids:
        return []
    stmt = (
        select(
            Household.id,
            Household.number,
            Community.name,
            Record.status,
            Record.collection_status,
        )
        .join(Community, Household.community_id == Community.id)
        .join(Person, Person.household_id == Household.id)
        .outerjoin(Record, and_(Record.live_person_id == Person.id))
        .where(Household.community_id.in_(list(community_ids)))
        .order_by(Community.id, Household.number, Person.id)
    )
    rows: dict[int, HouseholdRow] = {}
    for hid, number, community, status, collection_status in (await session.execute(stmt)).all():
        row = rows.setdefault(hid, HouseholdRow(hid, number, community))
        row.counts[_status(status, collection_status)] += 1
    return list(rows.values())


def totals(rows: Sequence[HouseholdRow]) -> Counter[Collection]:
    """Counts over several households."""
    total: Counter[Collection] = Counter()
    for row in rows:
        total.update(row.counts)
    return total


@dataclass(frozen=True)
class Member:
    """One person of a household with their live record (if any)."""

    person: Person
    record: Record | None

    @property
    def status(self) -> Collection:
        """Their collection status."""
        return collection_of(self.record)


async def household(
    session: AsyncSession, household_id: int
) -> tuple[Household, Community, list[Member]] | None:
    """A household, its community and its people in roster order, or None."""
    found = await session.get(Household, household_id)
    if found is None:
        return None
    community = await session.get(Community, found.community_id)
    assert community is not None
    result = await session.execute(
        select(Person, Record)
        .outerjoin(Record, Record.live_person_id == Person.id)
        .where(Person.household_id == household_id)
        .order_by(Person.id)
    )
    members = [Member(person, record) for person, record in result.all()]
    return found, community, members


def insured_contacts(members: Sequence[Member]) -> list[dict[str, str]]:
    """The household's already-insured family members from the roster (no repeats)."""
    seen: set[tuple[str, str, str]] = set()
    contacts: list[dict[str, str]] = []
    for member in members:
        for entry in member.person.insured_members or []:
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
