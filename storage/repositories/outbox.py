"""The outbox: notifications to chat users, written in the same transaction as the change.

A sender loop does, each in its own short transaction::

    rows = await claim_due(session)          # leases the rows (commit right after)
    ... send each row ...
    await mark_sent(session, row.id)         # or mark_failed(session, row.id, error)

A claimed row is leased (its ``next_attempt_at`` moves ``lease`` ahead), so two senders never
take the same row at once and a sender that dies mid-send leaves the row to be claimed again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Channel, Outbox
from storage.repositories._sql import dialect_name, insert_ignore
from storage.types import utcnow

DEFAULT_LEASE = dt.timedelta(seconds=60)
BACKOFF_BASE = dt.timedelta(seconds=5)
BACKOFF_CAP = dt.timedelta(hours=1)
MAX_ATTEMPTS = 12


async def enqueue(
    session: AsyncSession,
    *,
    channel: Channel | str,
    chat_id: str | int,
    kind: str,
    payload: dict[str, Any],
    dedup_key: str,
    record_id: int | None = None,
    not_before: dt.datetime | None = None,
) -> bool:
    """Queue a message; False (and nothing queued) when ``dedup_key`` was queued before."""
    now = utcnow()
    return await insert_ignore(
        session,
        Outbox.__table__,  # type: ignore[arg-type]
        {
            "channel": Channel(channel),
            "chat_id": str(chat_id),
            "kind": kind,
            "payload": payload,
            "dedup_key": dedup_key,
            "record_id": record_id,
            "created_at": now,
            "attempts": 0,
            "next_attempt_at": not_before or now,
        },
        ["dedup_key"],
    )


async def claim_due(
    session: AsyncSession,
    *,
    limit: int = 50,
    lease: dt.timedelta = DEFAULT_LEASE,
    channel: Channel | str | None = None,
    now: dt.datetime | None = None,
) -> Sequence[Outbox]:
    """Lease up to ``limit`` due messages (oldest first) and return them.

    Commit right after claiming, before sending, so the lease is visible to other senders.
    """
    now = now or utcnow()
    stmt = (
        select(Outbox)
        .where(
            Outbox.sent_at.is_(None),
            Outbox.gave_up_at.is_(None),
            Outbox.next_attempt_at <= now,
        )
        .order_by(Outbox.next_attempt_at, Outbox.id)
        .limit(limit)
    )
    if channel is not None:
        stmt = stmt.where(Outbox.channel == Channel(channel))
    if dialect_name(session) == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    candidates = (await session.scalars(stmt)).all()
    if not candidates:
        return candidates
    claimed = set(await lease_due(session, [r.id for r in candidates], now=now, lease=lease))
    rows = [r for r in candidates if r.id in claimed]
    for row in rows:
        await session.refresh(row)
    return rows


async def lease_due(
    session: AsyncSession,
    ids: Sequence[int],
    *,
    now: dt.datetime,
    lease: dt.timedelta = DEFAULT_LEASE,
) -> list[int]:
    """Lease those of ``ids`` that are still due; returns the ids this caller now holds.

    A conditional UPDATE takes the lease: on SQLite the candidates' SELECT runs before the
    write transaction starts, so two senders may both see a row; only one UPDATE still finds it
    due.
    """
    result = await session.scalars(
        update(Outbox)
        .where(
            Outbox.id.in_(ids),
            Outbox.sent_at.is_(None),
            Outbox.gave_up_at.is_(None),
            Outbox.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + lease, attempts=Outbox.attempts + 1)
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    )
    return list(result.all())


async def withdraw(
    session: AsyncSession,
    record_id: int,
    *,
    kind_prefix: str,
    reason: str,
    now: dt.datetime | None = None,
) -> int:
    """Give up the unsent messages of ``record_id`` whose kind starts with ``kind_prefix``
    (a reminder to finish a form that has just been submitted); returns how many."""
    result = await session.execute(
        update(Outbox)
        .where(
            Outbox.record_id == record_id,
            Outbox.kind.startswith(kind_prefix),
            Outbox.sent_at.is_(None),
            Outbox.gave_up_at.is_(None),
        )
        .values(gave_up_at=now or utcnow(), last_error=reason)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def mark_sent(
    session: AsyncSession, outbox_id: int, *, now: dt.datetime | None = None
) -> None:
    """The message was delivered."""
    await session.execute(
        update(Outbox)
        .where(Outbox.id == outbox_id)
        .values(sent_at=now or utcnow(), last_error=None)
        .execution_options(synchronize_session=False)
    )


def backoff(attempts: int) -> dt.timedelta:
    """Delay before the next try after ``attempts`` failed ones: 5 s, 10 s, 20 s … at most 1 h."""
    delay: dt.timedelta = BACKOFF_BASE * (2 ** max(attempts - 1, 0))
    return min(delay, BACKOFF_CAP)


async def mark_failed(
    session: AsyncSession,
    outbox_id: int,
    error: str,
    *,
    retry_after: float | None = None,
    permanent: bool = False,
    now: dt.datetime | None = None,
) -> Outbox:
    """The send failed: retry later (exponential backoff, or the server's ``retry_after``).

    After :data:`MAX_ATTEMPTS` tries, or when ``permanent`` (e.g. the user blocked the bot),
    the message is given up (``gave_up_at``) and never claimed again.
    """
    now = now or utcnow()
    row = await session.get(Outbox, outbox_id, populate_existing=True)
    if row is None:
        raise LookupError(f"outbox row {outbox_id} not found")
    row.last_error = error[:2000]
    if permanent or row.attempts >= MAX_ATTEMPTS:
        row.gave_up_at = now
    else:
        delay = (
            dt.timedelta(seconds=retry_after) if retry_after is not None else backoff(row.attempts)
        )
        row.next_attempt_at = now + delay
    await session.flush()
    return row


async def pending_count(session: AsyncSession) -> int:
    """How many messages are waiting (due or not)."""
    count = await session.scalar(
        select(func.count())
        .select_from(Outbox)
        .where(Outbox.sent_at.is_(None), Outbox.gave_up_at.is_(None))
    )
    return int(count or 0)
