"""Which roster is printed: a community, or an investigator's communities, within the reader's
district. The console and the CLI both resolve it here and audit every copy."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from bot.printing.roster import RosterPrint
from storage import people, reporting
from storage.models import Investigator
from storage.repositories import Actor
from storage.repositories.audit import add_event
from storage.rosters import roster_entries


async def load_roster(
    db: AsyncSession,
    scope: int | None,
    *,
    community_id: int | None = None,
    investigator_id: int | None = None,
    day: dt.date,
    actor: Actor,
    channel: str,
    fmt: str,
) -> RosterPrint | None:
    """The roster asked for and an audit event of its printing (in the caller's transaction);
    None when the community or investigator is unknown or outside ``scope``."""
    if (community_id is None) == (investigator_id is None):
        raise ValueError("a community or an investigator")
    if community_id is not None:
        district = await reporting.area_district(db, "community", community_id)
        if district is None or (scope is not None and district != scope):
            return None
        crumbs = await reporting.area_path(db, "community", community_id)
        assert crumbs is not None
        name = "/".join(c.name for c in crumbs[1:])
        f = people.PersonFilter(community_id=community_id)
        what = {"community_id": community_id}
    else:
        assert investigator_id is not None
        investigator = await db.get(Investigator, investigator_id)
        if investigator is None:
            return None
        if not await people.investigator_community_ids(db, investigator.id, scope):
            return None
        name = f"调查员 {investigator.name}"
        f = people.PersonFilter(investigator_id=investigator.id)
        what = {"investigator_id": investigator.id}
    entries = await roster_entries(db, scope, f)
    add_event(
        db,
        actor,
        "roster_printed",
        channel=channel,
        details={**what, "scope": name, "format": fmt, "people": len(entries)},
    )
    return RosterPrint(name, day, actor.label, entries)
