"""Residents' invites: unguessable codes for the deep link, and identity checks against them."""

from __future__ import annotations

import enum
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage.models import Channel, Community, Investigator, Invite, Person, Street
from storage.repositories.accounts import looks_like_binding_code, sha256_hex
from storage.repositories.actors import Actor
from storage.repositories.audit import add_event
from storage.repositories.persons import normalise_id_number
from storage.types import utcnow

MAX_FAILED_ATTEMPTS = 5
# What a Telegram deep-link ``start`` parameter may carry.
CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def new_invite_code() -> str:
    """A fresh random code: 128 bits, 22 characters of ``[A-Za-z0-9_-]``."""
    return secrets.token_urlsafe(16)


def is_code_shaped(code: str) -> bool:
    """Whether ``code`` could be a code at all (checked before touching the database)."""
    return CODE_PATTERN.fullmatch(code) is not None


async def ensure_invites(
    session: AsyncSession,
    *,
    district_id: int | None = None,
    street_id: int | None = None,
    community_id: int | None = None,
) -> int:
    """Create an invite for every person in the area who has none; returns how many were made."""
    stmt = (
        select(Person.id)
        .outerjoin(Invite, Invite.person_id == Person.id)
        .where(Invite.id.is_(None))
    )
    if district_id is not None:
        stmt = stmt.where(Person.district_id == district_id)
    if street_id is not None:
        stmt = stmt.where(Person.street_id == street_id)
    if community_id is not None:
        stmt = stmt.where(Person.community_id == community_id)
    person_ids = (await session.scalars(stmt)).all()
    now = utcnow()
    rows = [
        {"person_id": pid, "code": new_invite_code(), "created_at": now, "failed_attempts": 0}
        for pid in person_ids
    ]
    for start in range(0, len(rows), 5000):
        await session.execute(insert(Invite), rows[start : start + 5000])
    return len(rows)


async def ensure_invites_for(session: AsyncSession, person_ids: Sequence[int]) -> int:
    """Create an invite for each of these people who has none; returns how many were made."""
    wanted = sorted(set(person_ids))
    made = 0
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start : start + 5000]
        have = set(
            (
                await session.scalars(select(Invite.person_id).where(Invite.person_id.in_(chunk)))
            ).all()
        )
        rows = [
            {
                "person_id": pid,
                "code": new_invite_code(),
                "created_at": utcnow(),
                "failed_attempts": 0,
            }
            for pid in chunk
            if pid not in have
        ]
        if rows:
            await session.execute(insert(Invite), rows)
        made += len(rows)
    return made


async def find_invite(session: AsyncSession, code: str) -> Invite | None:
    """The invite with that code (its person and the person's community loaded), or None."""
    code = code.strip()
    if not is_code_shaped(code):
        return None
    return await session.scalar(
        select(Invite)
        .where(Invite.code == code)
        .options(joinedload(Invite.person).joinedload(Person.community))
    )


async def invite_for_person(session: AsyncSession, person_id: int) -> Invite | None:
    """The person's invite, if made."""
    return await session.scalar(select(Invite).where(Invite.person_id == person_id))


class VerifyOutcome(enum.StrEnum):
    """Result of an identity proof against an invite."""

    ok = "ok"
    wrong = "wrong"
    locked = "locked"


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """``outcome`` and, for a wrong answer, how many tries are left before the invite locks."""

    outcome: VerifyOutcome
    attempts_left: int


async def verify_identity(
    session: AsyncSession,
    invite: Invite,
    id_number: str,
    *,
    channel: Channel,
    chat_id: str | int,
    address: str | None = None,
) -> VerifyResult:
    """Check the 公民身份号码 someone typed against the invite's person.

    A try is taken in one conditional ``UPDATE … WHERE failed_attempts < 5 RETURNING`` before
    the guess is compared: the row stays locked until the caller commits, so however many
    guesses arrive at once, in however many processes, at most five are ever compared. No try
    left (or a lock) refuses even the right number. A right answer gives its try back; the
    fifth wrong one locks the invite until staff unlock it. Commit even on a wrong answer, and
    answer the person only after the commit.
    """
    actor = Actor.resident(chat_id)
    taken = (
        await session.execute(
            update(Invite)
            .where(
                Invite.id == invite.id,
                Invite.locked_at.is_(None),
                Invite.failed_attempts < MAX_FAILED_ATTEMPTS,
            )
            .values(failed_attempts=Invite.failed_attempts + 1)
            .returning(Invite.failed_attempts)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if taken is None:
        await session.refresh(invite, ["failed_attempts", "locked_at"])
        return VerifyResult(VerifyOutcome.locked, 0)
    person = await session.get(Person, invite.person_id)
    assert person is not None
    typed = normalise_id_number(id_number)
    details: dict[str, object] = {} if address is None else {"ip": address}
    if hmac.compare_digest(typed.encode(), person.id_number.encode()):
        await session.execute(
            update(Invite)
            .where(Invite.id == invite.id)
            .values(
                failed_attempts=Invite.failed_attempts - 1,
                verified_at=utcnow(),
                verified_channel=channel,
                verified_chat_id=str(chat_id),
            )
            .execution_options(synchronize_session=False)
        )
        await session.refresh(
            invite, ["failed_attempts", "verified_at", "verified_channel", "verified_chat_id"]
        )
        add_event(
            session,
            actor,
            "identity_verified",
            person_id=person.id,
            channel=channel,
            details=details or None,
        )
        return VerifyResult(VerifyOutcome.ok, MAX_FAILED_ATTEMPTS - invite.failed_attempts)
    add_event(
        session,
        actor,
        "identity_failed",
        person_id=person.id,
        channel=channel,
        details={"failed_attempts": taken, **details},
    )
    if taken < MAX_FAILED_ATTEMPTS:
        await session.refresh(invite, ["failed_attempts"])
        return VerifyResult(VerifyOutcome.wrong, MAX_FAILED_ATTEMPTS - taken)
    await session.execute(
        update(Invite)
        .where(Invite.id == invite.id)
        .values(locked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    await session.refresh(invite, ["failed_attempts", "locked_at"])
    add_event(session, actor, "invite_locked", person_id=person.id, channel=channel)
    return VerifyResult(VerifyOutcome.locked, 0)


def is_locked(invite: Invite) -> bool:
    """Whether the invite refuses every identity proof until staff unlock it."""
    return invite.locked_at is not None or invite.failed_attempts >= MAX_FAILED_ATTEMPTS


async def unlock_invite(
    session: AsyncSession, invite: Invite, *, actor: Actor, reason: str, channel: str | None = None
) -> None:
    """Unlock a locked invite (staff, after checking the person's identity another way): the
    tries start again from five. Audited with the reason."""
    reason = reason.strip()
    if not reason:
        raise ValueError("解锁时请写明核实身份的方式或原因")
    before = invite.failed_attempts
    await session.execute(
        update(Invite)
        .where(Invite.id == invite.id)
        .values(locked_at=None, failed_attempts=0)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(invite, ["failed_attempts", "locked_at"])
    add_event(
        session,
        actor,
        "invite_unlocked",
        person_id=invite.person_id,
        channel=channel,
        reason=reason[:500],
        details={"failed_attempts": before},
    )


async def locked_invites(
    session: AsyncSession, *, district_id: int | None = None, limit: int = 500
) -> Sequence[Invite]:
    """Locked invites (persons and their communities, streets and districts loaded), most
    recently locked first; ``district_id`` scopes them to a district."""
    stmt = (
        select(Invite)
        .join(Person, Invite.person_id == Person.id)
        .where((Invite.locked_at.is_not(None)) | (Invite.failed_attempts >= MAX_FAILED_ATTEMPTS))
        .options(
            joinedload(Invite.person)
            .joinedload(Person.community)
            .joinedload(Community.street)
            .joinedload(Street.district)
        )
        .order_by(Invite.locked_at.desc(), Invite.id)
        .limit(limit)
    )
    if district_id is not None:
        stmt = stmt.where(Person.district_id == district_id)
    return (await session.scalars(stmt)).all()


async def invites_for_export(
    session: AsyncSession,
    *,
    district_id: int | None = None,
    street_id: int | None = None,
    community_id: int | None = None,
) -> Sequence[tuple[Invite, Person]]:
    """Invites with their persons (household and area loaded), in roster order."""
    stmt = (
        select(Invite, Person)
        .join(Person, Invite.person_id == Person.id)
        .options(
            joinedload(Person.household),
            joinedload(Person.community).joinedload(Community.street).joinedload(Street.district),
        )
        .order_by(Person.district_id, Person.street_id, Person.community_id, Person.household_id)
        .order_by(Person.id)
    )
    if district_id is not None:
        stmt = stmt.where(Person.district_id == district_id)
    if street_id is not None:
        stmt = stmt.where(Person.street_id == street_id)
    if community_id is not None:
        stmt = stmt.where(Person.community_id == community_id)
    result = await session.execute(stmt)
    return [(row[0], row[1]) for row in result.all()]


async def resolve_start_code(session: AsyncSession, code: str) -> Invite | Investigator | None:
    """What a deep-link ``/start CODE`` refers to: a resident's invite, an investigator's
    binding code (not yet used), or nothing."""
    code = code.strip()
    if not is_code_shaped(code):
        return None
    if looks_like_binding_code(code):
        return await session.scalar(
            select(Investigator).where(Investigator.binding_code_hash == sha256_hex(code))
        )
    return await find_invite(session, code)
