"""Console sign-ins kept in the store: started at login, checked on every request, ended by
logout, a password change, disabling the account, or the idle and absolute timeouts.

The browser holds only a random token (inside the console's encrypted cookie); its SHA-256 is
the row's key, so a copy of the database opens no session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Staff, StaffSession
from storage.types import utcnow

# ``last_seen_at`` is written at most this often, so reading pages does not mean writing rows.
TOUCH_INTERVAL = dt.timedelta(seconds=60)
# Ended and timed-out rows are deleted after this long (they are kept a while for the audit).
KEEP_ENDED = dt.timedelta(days=30)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Timeouts:
    """How long a sign-in lasts without a request (``idle``) and at most (``absolute``)."""

    idle: dt.timedelta
    absolute: dt.timedelta


async def start_session(session: AsyncSession, staff: Staff, *, address: str | None = None) -> str:
    """A new sign-in of ``staff``; returns the token to put in the browser's cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        StaffSession(
            token_hash=_hash(token),
            staff_id=staff.id,
            created_at=now,
            last_seen_at=now,
            address=(address or None) and address[:64],
        )
    )
    await session.execute(
        delete(StaffSession).where(
            or_(
                StaffSession.ended_at < now - KEEP_ENDED, StaffSession.created_at < now - KEEP_ENDED
            )
        )
    )
    await session.flush()
    return token


async def resume_session(session: AsyncSession, token: object, timeouts: Timeouts) -> Staff | None:
    """The active staff member of a live sign-in, or None (unknown token, ended, timed out or
    the account disabled). A timed-out sign-in is ended on the way; ``last_seen_at`` moves on."""
    if not isinstance(token, str) or not token:
        return None
    found = (
        await session.execute(
            select(StaffSession, Staff)
            .join(Staff, Staff.id == StaffSession.staff_id)
            .where(StaffSession.token_hash == _hash(token))
        )
    ).first()
    if found is None:
        return None
    row, staff = found
    if row.ended_at is not None:
        return None
    now = utcnow()
    reason = None
    if not staff.active:
        reason = "disabled"
    elif now - row.created_at >= timeouts.absolute:
        reason = "expired"
    elif now - row.last_seen_at >= timeouts.idle:
        reason = "idle"
    if reason is not None:
        row.ended_at, row.end_reason = now, reason
        await session.flush()
        return None
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
        await session.flush()
    return staff


async def end_sessions(session: AsyncSession, staff_id: int, *, reason: str) -> int:
    """End every live sign-in of the account at once; returns how many there were."""
    result = await session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == staff_id, StaffSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
