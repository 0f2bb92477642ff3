"""Retention: what the survey no longer needs once it is over (the notice allows the data for
this survey only), removed by ``canbao data purge`` after ``survey_end`` and the retention
period; every purge is audited (``data_purged``, with what it removed).

Removed: the chat updates as received (``inbox``) once handled, the notifications
(``outbox``) once sent or given up, and the answers of drafts never handed in (the draft is
discarded like a filler's discard: its state emptied, its person free). Submitted and
confirmed records, their revisions, the roster and the audit log stay: they are the survey's
result, exported to the central system.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboxUpdate, Outbox, Record, RecordStatus
from storage.repositories.actors import Actor
from storage.repositories.audit import add_event
from storage.types import utcnow


@dataclass(frozen=True, slots=True)
class PurgeCounts:
    """Rows a purge removes (or, for a dry run, would remove)."""

    inbox: int
    outbox: int
    drafts: int


_INBOX_DONE = InboxUpdate.processed_at.is_not(None)
_OUTBOX_DONE = Outbox.sent_at.is_not(None) | Outbox.gave_up_at.is_not(None)
_OPEN_DRAFT = (
    (Record.status == RecordStatus.draft)
    & Record.submitted_at.is_(None)
    & Record.discarded_at.is_(None)
)


async def purge_counts(session: AsyncSession) -> PurgeCounts:
    """What :func:`purge` would remove now."""

    async def count(model: type[Any], where: ColumnElement[bool]) -> int:
        stmt = select(func.count()).select_from(model).where(where)
        return int(await session.scalar(stmt) or 0)

    return PurgeCounts(
        inbox=await count(InboxUpdate, _INBOX_DONE),
        outbox=await count(Outbox, _OUTBOX_DONE),
        drafts=await count(Record, _OPEN_DRAFT),
    )


async def purge(session: AsyncSession, actor: Actor, *, reason: str | None = None) -> PurgeCounts:
    """Remove what the survey no longer needs (see the module), in the caller's transaction,
    and audit it."""
    inbox = await session.execute(delete(InboxUpdate).where(_INBOX_DONE))
    outbox = await session.execute(delete(Outbox).where(_OUTBOX_DONE))
    drafts = await session.execute(
        update(Record)
        .where(_OPEN_DRAFT)
        .values(
            state={},
            answered_id_index=None,
            live_person_id=None,
            discarded_at=utcnow(),
            updated_at=utcnow(),
            version=Record.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    counts = PurgeCounts(inbox=_rows(inbox), outbox=_rows(outbox), drafts=_rows(drafts))
    add_event(session, actor, "data_purged", reason=reason, details=asdict(counts))
    return counts


def _rows(result: Any) -> int:
    return max(int(getattr(result, "rowcount", 0) or 0), 0)
