"""Investigators in a browser: one-time sign-in links, server-side sessions, applied actions.

A sign-in link carries a random token (only its SHA-256 is stored) and signs in once: its use
records the browser's device cookie (a random value, also kept as a hash), and the session it
starts is bound to that device. A session is a console-like server-side sign-in
(:mod:`storage.repositories.staff_sessions`: the same idle and absolute timeouts, ended when
the account is revoked). Every action the page sends carries an id of its own
(:class:`~storage.models.InvestigatorAction`), recorded in the transaction that applies it, so a
repeated delivery changes nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import (
    Investigator,
    InvestigatorAction,
    InvestigatorLink,
    InvestigatorSession,
)
from storage.repositories.accounts import sha256_hex
from storage.repositories.actors import Actor
from storage.repositories.audit import add_event
from storage.repositories.staff_sessions import KEEP_ENDED, TOUCH_INTERVAL, Timeouts
from storage.types import utcnow

LINK_TTL = dt.timedelta(days=3)
# Tokens and device ids are URL-safe base64 of 32 random bytes (43 characters).
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
# An action id chosen by the page (a UUID, or any id of its own of this shape).
ACTION_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,64}")
# Applied action ids are forgotten after this long (a page never queues for that long).
KEEP_ACTIONS = dt.timedelta(days=30)


def new_token() -> str:
    """A random token: link, session and device ids all have this shape."""
    return secrets.token_urlsafe(32)


def is_token_shaped(value: object) -> bool:
    """Whether ``value`` could be a token (anything else never reaches a query)."""
    return isinstance(value, str) and TOKEN_PATTERN.fullmatch(value) is not None


async def issue_link(
    session: AsyncSession,
    investigator: Investigator,
    *,
    actor: Actor,
    ttl: dt.timedelta = LINK_TTL,
) -> str:
    """A new one-time sign-in link token for ``investigator`` (shown once, stored hashed)."""
    if not investigator.active:
        raise ValueError("a revoked investigator gets no sign-in link")
    token = new_token()
    now = utcnow()
    session.add(
        InvestigatorLink(
            token_hash=sha256_hex(token),
            investigator_id=investigator.id,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    await session.flush()
    add_event(
        session,
        actor,
        "investigator_link_issued",
        details={"investigator_id": investigator.id, "expires": (now + ttl).isoformat()},
    )
    return token


class LinkOutcome(enum.StrEnum):
    """What opening a sign-in link came to."""

    signed_in = "signed_in"
    unknown = "unknown"  # no such link (or not token-shaped): counts as a failed try
    expired = "expired"
    used = "used"  # signed in once already (on the device it names)
    revoked = "revoked"


@dataclass(frozen=True, slots=True)
class LinkResult:
    """The outcome and, when signed in, the investigator."""

    outcome: LinkOutcome
    investigator: Investigator | None = None


async def use_link(session: AsyncSession, token: str, device: str) -> LinkResult:
    """Open the link ``token`` on the browser whose device cookie is ``device``."""
    if not is_token_shaped(token) or not is_token_shaped(device):
        return LinkResult(LinkOutcome.unknown)
    link = await session.scalar(
        select(InvestigatorLink)
        .where(InvestigatorLink.token_hash == sha256_hex(token))
        .with_for_update()
    )
    if link is None:
        return LinkResult(LinkOutcome.unknown)
    investigator = await get_investigator(session, link.investigator_id)
    if investigator is None or not investigator.active:
        return LinkResult(LinkOutcome.revoked)
    now = utcnow()
    if now >= link.expires_at:
        return LinkResult(LinkOutcome.expired)
    device_hash = sha256_hex(device)
    if link.used_at is not None:
        add_event(
            session,
            Actor.investigator(investigator),
            "investigator_link_refused",
            channel="web",
            details={"link_id": link.id, "same_device": link.device_hash == device_hash},
        )
        return LinkResult(LinkOutcome.used, investigator)
    link.used_at, link.device_hash = now, device_hash
    await session.flush()
    return LinkResult(LinkOutcome.signed_in, investigator)


async def get_investigator(session: AsyncSession, investigator_id: int) -> Investigator | None:
    """The investigator with their communities loaded."""
    return await session.scalar(
        select(Investigator)
        .where(Investigator.id == investigator_id)
        .options(selectinload(Investigator.communities))
    )


async def start_session(
    session: AsyncSession, investigator: Investigator, device: str, *, address: str | None = None
) -> str:
    """A new sign-in of ``investigator`` on the device; returns the cookie's token."""
    token = new_token()
    now = utcnow()
    session.add(
        InvestigatorSession(
            token_hash=sha256_hex(token),
            investigator_id=investigator.id,
            device_hash=sha256_hex(device),
            created_at=now,
            last_seen_at=now,
            address=(address or None) and address[:64],
        )
    )
    old = now - KEEP_ENDED
    await session.execute(
        delete(InvestigatorSession).where(
            (InvestigatorSession.ended_at < old) | (InvestigatorSession.created_at < old)
        )
    )
    await session.execute(delete(InvestigatorAction).where(InvestigatorAction.created_at < old))
    add_event(
        session,
        Actor.investigator(investigator),
        "investigator_signed_in",
        channel="web",
        details={"ip": address},
    )
    await session.flush()
    return token


async def resume_session(
    session: AsyncSession, token: object, device: object, timeouts: Timeouts
) -> Investigator | None:
    """The active investigator of a live sign-in on this device, or None (unknown token,
    another device's cookie, ended, timed out, or the account revoked)."""
    if not is_token_shaped(token) or not is_token_shaped(device):
        return None
    assert isinstance(token, str) and isinstance(device, str)
    row = await session.scalar(
        select(InvestigatorSession).where(InvestigatorSession.token_hash == sha256_hex(token))
    )
    if row is None or row.ended_at is not None or row.device_hash != sha256_hex(device):
        return None
    investigator = await get_investigator(session, row.investigator_id)
    now = utcnow()
    reason = None
    if investigator is None or not investigator.active:
        reason = "revoked"
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
    return investigator


async def end_session(session: AsyncSession, token: object, *, reason: str = "logout") -> bool:
    """End the sign-in of ``token`` (sign out); whether there was a live one."""
    if not is_token_shaped(token):
        return False
    assert isinstance(token, str)
    result = await session.execute(
        update(InvestigatorSession)
        .where(
            InvestigatorSession.token_hash == sha256_hex(token),
            InvestigatorSession.ended_at.is_(None),
        )
        .values(ended_at=utcnow(), end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


# ------------------------------------------------------------------------------ applied actions


def is_action_id(value: object) -> bool:
    """Whether ``value`` has the shape of a page's action id."""
    return isinstance(value, str) and ACTION_ID_PATTERN.fullmatch(value) is not None


async def find_action(
    session: AsyncSession, investigator_id: int, action_id: str
) -> InvestigatorAction | None:
    """The action already applied under this id, or None."""
    return await session.scalar(
        select(InvestigatorAction).where(
            InvestigatorAction.investigator_id == investigator_id,
            InvestigatorAction.action_id == action_id,
        )
    )


async def note_action(
    session: AsyncSession,
    investigator_id: int,
    action_id: str,
    op: str,
    *,
    record_id: int | None = None,
    person_id: int | None = None,
    result_version: int | None = None,
) -> None:
    """Record that ``action_id`` was applied, in the caller's transaction (a second delivery
    racing this one fails its flush on the unique key and is answered as a replay)."""
    session.add(
        InvestigatorAction(
            investigator_id=investigator_id,
            action_id=action_id,
            op=op,
            record_id=record_id,
            person_id=person_id,
            result_version=result_version,
        )
    )
    await session.flush()
