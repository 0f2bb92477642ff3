"""Investigators' badges (工作牌, 五.2): issue, revoke, list, and what a resident's check of one
shows. Every change and every check is audited.

A badge number is 16 characters of a 32-letter alphabet without look-alikes (80 random bits),
printed in groups (``K7QF-3M9X-P2WD-8HNA``), so a badge is not guessed from another one.
Checks are limited per client address in the shared ``login_limits`` table (key
``badge:<address>``): every worker counts together and a restart forgets nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Badge, Community, Investigator
from storage.repositories import Actor
from storage.repositories.audit import add_event
from storage.repositories.errors import StorageError
from storage.repositories.login_limits import Throttled, take_slot
from storage.types import utcnow

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LENGTH = 16
_NUMBER_RE = re.compile(rf"[{ALPHABET}]{{{LENGTH}}}")
CHECKS_PER_WINDOW = 30
CHECK_WINDOW = dt.timedelta(minutes=10)
MAX_PHONE = 32


class BadgeState(enum.StrEnum):
    """What a check of a badge says today."""

    valid = "valid"
    revoked = "revoked"
    expired = "expired"
    not_yet_valid = "not_yet_valid"


STATE_LABELS = {
    BadgeState.valid: "有效",
    BadgeState.revoked: "已注销",
    BadgeState.expired: "已过期",
    BadgeState.not_yet_valid: "尚未生效",
}


class BadgeError(StorageError):
    """A badge cannot be issued or revoked as asked (the message says why, in Chinese)."""


def new_number() -> str:
    """A fresh random badge number, grouped for reading aloud."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, LENGTH, 4))


def normal_number(text: str) -> str | None:
    """A typed or scanned number in its stored form, or None when it cannot be one."""
    raw = re.sub(r"[\s\-]", "", text or "").upper()
    if not _NUMBER_RE.fullmatch(raw):
        return None
    return "-".join(raw[i : i + 4] for i in range(0, LENGTH, 4))


def state_of(badge: Badge, today: dt.date) -> BadgeState:
    """Valid today, revoked (the badge or its investigator), expired or not yet valid."""
    if badge.revoked_at is not None or badge.investigator.revoked_at is not None:
        return BadgeState.revoked
    if today > badge.valid_until:
        return BadgeState.expired
    if today < badge.valid_from:
        return BadgeState.not_yet_valid
    return BadgeState.valid


def _loaded() -> list[object]:
    return [selectinload(Badge.investigator), selectinload(Badge.community)]


async def issue_badge(
    session: AsyncSession,
    investigator: Investigator,
    community: Community,
    *,
    office_phone: str,
    valid_from: dt.date,
    valid_until: dt.date,
    actor: Actor,
    channel: str,
    photo: bytes | None = None,
) -> Badge:
    """A new badge for an investigator working in ``community``; audited. ``photo`` is the
    card's picture, already checked and re-encoded by the caller."""
    phone = (office_phone or "").strip()
    if not phone or len(phone) > MAX_PHONE or not re.fullmatch(r"[0-9０-９+\-() 转]+", phone):
        raise BadgeError("请填写社区办公电话（数字，可含 - 和区号），例如 0512-65223456。")
    if valid_until < valid_from:
        raise BadgeError("有效期的结束日期不能早于开始日期。")
    if investigator.revoked_at is not None:
        raise BadgeError("该调查员已停用，不能发放工作牌。")
    ids = {c.id for c in investigator.communities}
    if community.id not in ids:
        raise BadgeError("该调查员不负责这个社区。")
    badge = Badge(
        number=new_number(),
        investigator_id=investigator.id,
        community_id=community.id,
        office_phone=phone,
        valid_from=valid_from,
        valid_until=valid_until,
        issued_by=actor.label,
        photo=photo,
    )
    session.add(badge)
    await session.flush()
    add_event(
        session,
        actor,
        "badge_issued",
        channel=channel,
        details={
            "badge_id": badge.id,
            "investigator_id": investigator.id,
            "community_id": community.id,
            "valid_from": valid_from.isoformat(),
            "valid_until": valid_until.isoformat(),
            "photo": photo is not None,
        },
    )
    return badge


async def revoke_badge(
    session: AsyncSession, badge: Badge, *, reason: str, actor: Actor, channel: str
) -> None:
    """Revoke a badge at once (an investigator leaving, a lost card); audited."""
    if badge.revoked_at is not None:
        raise BadgeError("这张工作牌已注销。")
    badge.revoked_at = utcnow()
    badge.revoke_reason = reason.strip() or None
    add_event(
        session,
        actor,
        "badge_revoked",
        channel=channel,
        reason=badge.revoke_reason,
        details={"badge_id": badge.id, "investigator_id": badge.investigator_id},
    )


async def badge_by_number(session: AsyncSession, number: str) -> Badge | None:
    """The badge with this (normal) number, its investigator and community loaded."""
    stmt = select(Badge).where(Badge.number == number).options(*_loaded())  # type: ignore[arg-type]
    return (await session.scalars(stmt)).first()


async def badge_in_scope(session: AsyncSession, scope: int | None, badge_id: int) -> Badge | None:
    """A badge whose community lies within ``scope`` (None: also when outside it)."""
    stmt = select(Badge).join(Community, Community.id == Badge.community_id)
    stmt = stmt.where(Badge.id == badge_id).options(*_loaded())  # type: ignore[arg-type]
    if scope is not None:
        stmt = stmt.where(Community.district_id == scope)
    return (await session.scalars(stmt)).first()


async def badges_in(session: AsyncSession, scope: int | None) -> list[Badge]:
    """Badges of communities within ``scope``, newest first."""
    stmt = select(Badge).join(Community, Community.id == Badge.community_id)
    stmt = stmt.options(*_loaded()).order_by(Badge.issued_at.desc(), Badge.id.desc())  # type: ignore[arg-type]
    if scope is not None:
        stmt = stmt.where(Community.district_id == scope)
    return list((await session.scalars(stmt)).all())


@dataclass(frozen=True, slots=True)
class Check:
    """What a verification page shows: the state and, for a known badge, the three facts."""

    found: bool
    state: BadgeState | None = None
    name: str = ""
    community: str = ""
    office_phone: str = ""
    valid_until: dt.date | None = None


class TooManyChecks(Exception):
    """The address has used its checks for now; ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"{retry_after:.0f} s")
        self.retry_after = retry_after


async def _take_check(session: AsyncSession, address: str) -> None:
    key = f"badge:{(address or '?')[:64]}"
    try:
        await take_slot(session, key, limit=CHECKS_PER_WINDOW, window=CHECK_WINDOW, kind="badge")
    except Throttled as exc:
        raise TooManyChecks(exc.retry_after) from None


async def check_badge(session: AsyncSession, text: str, *, today: dt.date, address: str) -> Check:
    """A resident's check of the badge numbered ``text`` from ``address``: limited per
    address (raises :class:`TooManyChecks`), audited (the state, never who is behind the
    address beyond the address itself)."""
    await _take_check(session, address)
    number = normal_number(text)
    badge = await badge_by_number(session, number) if number else None
    actor = Actor.system("工作牌核验")
    if badge is None:
        add_event(
            session, actor, "badge_checked", channel="web", details={"found": False, "ip": address}
        )
        return Check(found=False)
    state = state_of(badge, today)
    add_event(
        session,
        actor,
        "badge_checked",
        channel="web",
        details={"found": True, "badge_id": badge.id, "state": str(state), "ip": address},
    )
    return Check(
        True,
        state,
        badge.investigator.name,
        badge.community.name,
        badge.office_phone,
        badge.valid_until,
    )
