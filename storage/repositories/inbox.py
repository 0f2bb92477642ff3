"""The inbox: every chat update is recorded before it is handled, and marked when done.

The transport does, per update::

    status = await record_update(session, bot_id, update_id, payload)   # commit
    if status is InboxStatus.processed: skip (a duplicate delivery)
    ... handle it ...
    await mark_processed(session, bot_id, update_id)                    # commit

:func:`record_updates` records many updates in one statement (the bot commits the updates
that arrive together in one transaction). After a crash, :func:`unprocessed` lists what was
received but not finished.

The statements run for every update are built once, with bound parameters: building a
SQLAlchemy statement costs more CPU than executing a cached one.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

from storage.models import InboxUpdate
from storage.repositories._sql import dialect_name
from storage.types import utcnow

MAX_ATTEMPTS = 5

_TABLE: Table = InboxUpdate.__table__  # type: ignore[assignment]
# One update's row: (bot id, update id).
Key = tuple[int, int]


class InboxStatus(enum.StrEnum):
    """What :func:`record_update` found."""

    new = "new"  # first time seen: handle it
    pending = "pending"  # seen before but not finished (crash, or being handled now)
    processed = "processed"  # already handled: a duplicate, do nothing


@cache
def _insert_ignore(dialect: str) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING the keys of the rows actually inserted."""
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt: Insert = (
        module.insert(_TABLE)
        .on_conflict_do_nothing(index_elements=["bot_id", "update_id"])
        .returning(_TABLE.c.bot_id, _TABLE.c.update_id)
    )
    return stmt


_MARK_PROCESSED = (
    update(_TABLE)
    .where(_TABLE.c.bot_id == bindparam("b_bot_id"), _TABLE.c.update_id == bindparam("b_update_id"))
    .values(processed_at=bindparam("b_processed_at"))
)


async def record_update(
    session: AsyncSession, bot_id: int, update_id: int, payload: dict[str, Any]
) -> InboxStatus:
    """Record a received update (once); say whether it is new, pending or already processed."""
    statuses = await record_updates(session, [(bot_id, update_id, payload)])
    return statuses[(bot_id, update_id)]


async def record_updates(
    session: AsyncSession, updates: Iterable[tuple[int, int, dict[str, Any]]]
) -> dict[Key, InboxStatus]:
    """Record received updates ``(bot id, update id, payload)`` with one INSERT; say of each
    (bot id, update id) whether it is new, pending or already processed.

    Rows that existed already are looked up with one SELECT, only when there are any. An
    update given twice is recorded once, with the first payload. The INSERT comes first, so
    on SQLite the transaction takes the write lock before it reads anything (a transaction
    that read first cannot take the lock after another writer's commit: "database is locked"
    without waiting).
    """
    now = utcnow()
    rows: dict[Key, dict[str, Any]] = {}
    for bot_id, update_id, payload in updates:
        key = (bot_id, update_id)
        if key not in rows:
            rows[key] = {
                "bot_id": bot_id,
                "update_id": update_id,
                "payload": payload,
                "received_at": now,
                "attempts": 0,
            }
    if not rows:
        return {}
    result = await session.execute(_insert_ignore(dialect_name(session)), list(rows.values()))
    statuses = {(int(b), int(u)): InboxStatus.new for b, u in result.all()}
    existing = [key for key in rows if key not in statuses]
    if existing:
        found = await session.execute(
            select(_TABLE.c.bot_id, _TABLE.c.update_id, _TABLE.c.processed_at).where(
                tuple_(_TABLE.c.bot_id, _TABLE.c.update_id).in_(existing)
            )
        )
        processed = {(int(b), int(u)): at is not None for b, u, at in found.all()}
        for key in existing:
            # A row that conflicted but is gone now was pruned, and only processed rows are.
            done = processed.get(key, True)
            statuses[key] = InboxStatus.processed if done else InboxStatus.pending
    return statuses


async def mark_processed(session: AsyncSession, bot_id: int, update_id: int) -> None:
    """The update was handled completely."""
    await session.execute(
        _MARK_PROCESSED,
        {"b_bot_id": bot_id, "b_update_id": update_id, "b_processed_at": utcnow()},
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
