"""The inbox: every chat update is recorded before it is handled, and marked when done.

The transport does, per update::

    status = await record_update(session, bot_id, update_id, payload)   # commit
    if status is InboxStatus.processed: skip (a duplicate delivery)
    ... handle it ...
    await mark_processed(session, bot_id, update_id)                    # commit

After a crash, :func:`unprocessed` lists what was received but not finished.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboxUpdate
from storage.repositories._sql import insert_ignore
from storage.types import utcnow

MAX_ATTEMPTS = 5


class InboxStatus(enum.StrEnum):
    """What :func:`record_update` found."""

    new = "new"  # first time seen: handle it
    pending = "pending"  # seen before but not finished (crash, or being handled now)
    processed = "processed"  # already handled: a duplicate, do nothing


async def record_update(
    session: AsyncSession, bot_id: int, update_id: int, payload: dict[str, Any]
) -> InboxStatus:
    """Record a received update (once); say whether it is new, pending or already processed."""
    inserted = await insert_ignore(
        session,
        InboxUpdate.__table__,  # type: ignore[arg-type]
        {
            "bot_id": bot_id,
            "update_id": update_id,
            "payload": payload,
            "received_at": utcnow(),
            "attempts": 0,
        },
        ["bot_id", "update_id"],
    )
    if inserted:
        return InboxStatus.new
    processed_at = await session.scalar(
        select(InboxUpdate.processed_at).where(
            InboxUpdate.bot_id == bot_id, InboxUpdate.update_id == update_id
        )
    )
    return InboxStatus.pending if processed_at is None else InboxStatus.processed


async def mark_processed(session: AsyncSession, bot_id: int, update_id: int) -> None:
    """The update was handled completely."""
    await session.execute(
        update(InboxUpdate)
        .where(InboxUpdate.bot_id == bot_id, InboxUpdate.update_id == update_id)
        .values(processed_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def mark_failed(session: AsyncSession, bot_id: int, update_id: int, error: str) -> None:
    """Handling failed: count the attempt; after :data:`MAX_ATTEMPTS` it is no longer retried."""
    await session.execute(
        update(InboxUpdate)
        .where(InboxUpdate.bot_id == bot_id, InboxUpdate.update_id == update_id)
        .values(attempts=InboxUpdate.attempts + 1, last_error=error[:2000])
        .execution_options(synchronize_session=False)
    )


async def unprocessed(
    session: AsyncSession, bot_id: int, *, limit: int = 100
) -> Sequence[InboxUpdate]:
    """Updates received but not processed (and not failed too often), in update order."""
    result = await session.scalars(
        select(InboxUpdate)
        .where(
            InboxUpdate.bot_id == bot_id,
            InboxUpdate.processed_at.is_(None),
            InboxUpdate.attempts < MAX_ATTEMPTS,
        )
        .order_by(InboxUpdate.update_id)
        .limit(limit)
    )
    return result.all()


async def prune_processed(session: AsyncSession, older_than: dt.timedelta) -> int:
    """Delete processed updates older than ``older_than``; returns how many."""
    cutoff = utcnow() - older_than
    result = await session.execute(
        delete(InboxUpdate)
        .where(InboxUpdate.processed_at.is_not(None), InboxUpdate.processed_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
