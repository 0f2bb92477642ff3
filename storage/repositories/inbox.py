"""The inbox: every chat update is recorded before it is handled, and marked when done.

The transport does, per update::

    key = update_key(bot_id, update_id, payload)
    status = (await record_updates(session, [(key, payload)]))[key]    # commit
    if status is InboxStatus.processed: skip (a duplicate delivery)
    ... handle it ...
    await mark_processed(session, key)                                  # commit

An update is known by its bot, its ``update_id`` *and* a fingerprint of its content
(:func:`fingerprint`). Update ids are not forever: after a week without updates Telegram may
start the sequence again at any number, and with the id alone the first new update that
reused an id still stored would have been taken for a duplicate and dropped. A redelivery is
the same JSON, so it is still recognised; a new update with an old id is not.

:func:`record_updates` records many updates in one statement (the bot commits the updates
that arrive together in one transaction). After a crash, :func:`unprocessed` lists what was
received but not finished.

The statements run for every update are built once, with bound parameters: building a
SQLAlchemy statement costs more CPU than executing a cached one.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

from storage.models import InboxUpdate
from storage.repositories._sql import dialect_name
from storage.types import utcnow

MAX_ATTEMPTS = 5

_TABLE: Table = InboxUpdate.__table__  # type: ignore[assignment]
# One update's row: (bot id, update id, fingerprint of its content).
Key = tuple[int, int, int]


class InboxStatus(enum.StrEnum):
    """What :func:`record_update` found."""

    new = "new"  # first time seen: handle it
    pending = "pending"  # seen before but not finished (crash, or being handled now)
    processed = "processed"  # already handled: a duplicate, do nothing


def fingerprint(payload: dict[str, Any]) -> int:
    """A signed 64-bit digest of an update's content (key order does not matter)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))  # ASCII only
    digest = hashlib.blake2b(canonical.encode("ascii"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def update_key(bot_id: int, update_id: int, payload: dict[str, Any]) -> Key:
    """The inbox key of an update."""
    return (bot_id, update_id, fingerprint(payload))


@cache
def _insert_ignore(dialect: str) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING the keys of the rows actually inserted."""
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt: Insert = (
        module.insert(_TABLE)
        .on_conflict_do_nothing(index_elements=["bot_id", "update_id", "fingerprint"])
        .returning(_TABLE.c.bot_id, _TABLE.c.update_id, _TABLE.c.fingerprint)
    )
    return stmt


_MARK_PROCESSED = (
    update(_TABLE)
    .where(
        _TABLE.c.bot_id == bindparam("b_bot_id"),
        _TABLE.c.update_id == bindparam("b_update_id"),
        _TABLE.c.fingerprint == bindparam("b_fingerprint"),
    )
    .values(processed_at=bindparam("b_processed_at"))
)


async def record_update(
    session: AsyncSession, bot_id: int, update_id: int, payload: dict[str, Any]
) -> InboxStatus:
    """Record a received update (once); say whether it is new, pending or already processed."""
    key = update_key(bot_id, update_id, payload)
    statuses = await record_updates(session, [(key, payload)])
    return statuses[key]


async def record_updates(
    session: AsyncSession, updates: Iterable[tuple[Key, dict[str, Any]]]
) -> dict[Key, InboxStatus]:
    """Record received updates ``(key, payload)`` (keys from :func:`update_key`) with one
    INSERT; say of each key whether it is new, pending or already processed.

    Rows that existed already are looked up with one SELECT, only when there are any. An
    update given twice is recorded once, with the first payload. The INSERT comes first, so
    on SQLite the transaction takes the write lock before it reads anything (a transaction
    that read first cannot take the lock after another writer's commit: "database is locked"
    without waiting).
    """
    now = utcnow()
    rows: dict[Key, dict[str, Any]] = {}
    for key, payload in updates:
        if key not in rows:
            rows[key] = {
                "bot_id": key[0],
                "update_id": key[1],
                "fingerprint": key[2],
                "payload": payload,
                "received_at": now,
                "attempts": 0,
            }
    if not rows:
        return {}
    result = await session.execute(_insert_ignore(dialect_name(session)), list(rows.values()))
    statuses = {(int(b), int(u), int(f)): InboxStatus.new for b, u, f in result.all()}
    existing = [key for key in rows if key not in statuses]
    if existing:
        found = await session.execute(
            select(
                _TABLE.c.bot_id, _TABLE.c.update_id, _TABLE.c.fingerprint, _TABLE.c.processed_at
            ).where(tuple_(_TABLE.c.bot_id, _TABLE.c.update_id, _TABLE.c.fingerprint).in_(existing))
        )
        processed = {(int(b), int(u), int(f)): at is not None for b, u, f, at in found.all()}
        for key in existing:
            # A row that conflicted but is gone now was pruned, and only processed rows are.
            done = processed.get(key, True)
            statuses[key] = InboxStatus.processed if done else InboxStatus.pending
    return statuses


async def mark_processed(session: AsyncSession, key: Key) -> None:
    """The update was handled completely."""
    await session.execute(
        _MARK_PROCESSED,
        {
            "b_bot_id": key[0],
            "b_update_id": key[1],
            "b_fingerprint": key[2],
            "b_processed_at": utcnow(),
        },
    )


async def mark_failed(session: AsyncSession, key: Key, error: str) -> None:
    """Handling failed: count the attempt; after :data:`MAX_ATTEMPTS` it is no longer retried."""
    await session.execute(
        update(InboxUpdate)
        .where(
            InboxUpdate.bot_id == key[0],
            InboxUpdate.update_id == key[1],
            InboxUpdate.fingerprint == key[2],
        )
        .values(attempts=InboxUpdate.attempts + 1, last_error=error[:2000])
        .execution_options(synchronize_session=False)
    )


async def unprocessed(
    session: AsyncSession, bot_id: int, *, limit: int = 100
) -> Sequence[InboxUpdate]:
    """Updates received but not processed (and not failed too often), in the order they
    arrived (not by update id: the ids may have started again lower since)."""
    result = await session.scalars(
        select(InboxUpdate)
        .where(
            InboxUpdate.bot_id == bot_id,
            InboxUpdate.processed_at.is_(None),
            InboxUpdate.attempts < MAX_ATTEMPTS,
        )
        .order_by(InboxUpdate.id)
        .limit(limit)
    )
    return result.all()


def key_of(row: InboxUpdate) -> Key:
    """The key of a stored update."""
    return (row.bot_id, row.update_id, row.fingerprint)


async def newest_update_id(session: AsyncSession, bot_id: int) -> int | None:
    """The highest update id recorded for ``bot_id`` (None for none)."""
    value = await session.scalar(
        select(func.max(_TABLE.c.update_id)).where(_TABLE.c.bot_id == bot_id)
    )
    return None if value is None else int(value)


async def prune_processed(session: AsyncSession, older_than: dt.timedelta) -> int:
    """Delete processed updates older than ``older_than``; returns how many."""
    cutoff = utcnow() - older_than
    result = await session.execute(
        delete(InboxUpdate)
        .where(InboxUpdate.processed_at.is_not(None), InboxUpdate.processed_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
