"""The audit log: append-only events, written in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEvent
from storage.repositories.actors import Actor


def add_event(
    session: AsyncSession,
    actor: Actor,
    action: str,
    *,
    record_id: int | None = None,
    person_id: int | None = None,
    channel: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit event to the session (flushed with the caller's other changes)."""
    event = AuditEvent(
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label,
        action=action,
        record_id=record_id,
        person_id=person_id,
        channel=channel,
        reason=reason,
        details=details or {},
    )
    session.add(event)
    return event


async def events_for_record(session: AsyncSession, record_id: int) -> Sequence[AuditEvent]:
    """A record's audit trail, oldest first."""
    result = await session.scalars(
        select(AuditEvent)
        .where(AuditEvent.record_id == record_id)
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return result.all()


async def events_for_person(session: AsyncSession, person_id: int) -> Sequence[AuditEvent]:
    """Everything logged about a person (invites, identity checks, records), oldest first."""
    result = await session.scalars(
        select(AuditEvent)
        .where(AuditEvent.person_id == person_id)
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return result.all()
