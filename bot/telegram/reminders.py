"""Reminders through the outbox: idle drafts, the coming deadline, and investigators' mornings.

Each reminder has a dedup key, so however often the scan runs nobody is reminded twice for the
same thing:

* ``reminder:idle:<record>`` — a resident's draft untouched for ``reminder_after_hours``: once;
* ``reminder:deadline:<record>:<deadline>`` — a draft still open within
  ``reminder_before_deadline_days`` of the community deadline: once;
* ``reminder:morning:<investigator>:<date>`` — an investigator's open households, once a day
  from :data:`MORNING_HOUR` (China time).

Only drafts are reminded: a submitted record is never. A reminder is queued as due at once, so
the sender delivers it within moments of the scan; the scan itself runs every few minutes
(:func:`run_reminders`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot import clock
from bot.deadlines import deadline_for
from bot.settings import Settings
from storage import people
from storage.models import Channel, FilledBy, Investigator, Person, Record, RecordStatus
from storage.person_status import DONE, PersonStatus
from storage.repositories.outbox import enqueue
from storage.types import utcnow

logger = logging.getLogger(__name__)

MORNING_HOUR = 8
SCAN_INTERVAL = 300.0  # seconds between scans
_MAX_HOUSEHOLDS_LISTED = 10


@dataclass(frozen=True)
class Queued:
    """How many reminders one scan queued (repeats of earlier ones are not counted)."""

    idle: int = 0
    deadline: int = 0
    morning: int = 0


def _open_drafts(channels: Sequence[Channel]) -> Select[Record, str]:
    return (
        select(Record, Person.name)
        .join(Person, Record.person_id == Person.id)
        .where(
            Record.status == RecordStatus.draft,
            Record.discarded_at.is_(None),
            Record.filled_by == FilledBy.resident,
            Record.notify_channel.in_(list(channels)),
            Record.notify_chat_id.is_not(None),
        )
        .order_by(Record.id)
    )


async def queue_draft_reminders(
    session: AsyncSession,
    settings: Settings,
    *,
    now: dt.datetime | None = None,
    channels: Sequence[Channel] = (Channel.telegram,),
) -> tuple[int, int]:
    """Queue the idle and before-deadline reminders of residents' drafts; returns how many of
    each were newly queued."""
    now = now or utcnow()
    today = clock.local_date(now)
    idle_before = now - dt.timedelta(hours=settings.reminder_after_hours)
    deadline = settings.community_deadline
    near_deadline = (
        dt.timedelta(0)
        <= deadline - today
        <= dt.timedelta(days=settings.reminder_before_deadline_days)
    )
    idle = due = 0
    rows = (await session.execute(_open_drafts(channels))).all()
    for record, name in rows:
        assert record.notify_channel is not None and record.notify_chat_id is not None
        if record.updated_at <= idle_before:
            text = (
                f"您好！{name} 的全民参保登记还没有填写完，已填写的内容都已保存。"
                "发送 /start 即可从上次的位置继续。"
            )
            idle += await _queue(
                session, record, "reminder_idle", f"reminder:idle:{record.id}", text
            )
        if near_deadline:
            text = (
                f"提醒：全民参保登记将于 {deadline.isoformat()} 截止，{name} 的登记还没有提交。"
                "发送 /start 继续填写。"
            )
            key = f"reminder:deadline:{record.id}:{deadline.isoformat()}"
            due += await _queue(session, record, "reminder_deadline", key, text)
    return idle, due


async def _queue(session: AsyncSession, record: Record, kind: str, key: str, text: str) -> int:
    assert record.notify_channel is not None and record.notify_chat_id is not None
    queued = await enqueue(
        session,
        channel=record.notify_channel,
        chat_id=record.notify_chat_id,
        kind=kind,
        payload={"text": text, "record_id": record.id},
        dedup_key=key,
        record_id=record.id,
    )
    return int(queued)


def morning_text(
    investigator: Investigator,
    rows: Sequence[people.HouseholdLine],
    settings: Settings,
    today: dt.date,
) -> str | None:
    """An investigator's morning list of what is still open, or None when nothing is."""
    open_rows = [row for row in rows if not row.complete]
    if not open_rows:
        return None
    counts = people.total_counts(open_rows)
    left = sum(n for status, n in counts.items() if status not in DONE)
    listed = "、".join(row.number for row in open_rows[:_MAX_HOUSEHOLDS_LISTED])
    more = "等" if len(open_rows) > _MAX_HOUSEHOLDS_LISTED else ""
    deadline = deadline_for("community", settings, today)
    return (
        f"早上好，{investigator.name}！今天还需采集 {left} 人"
        f"（未联系 {counts.get(PersonStatus.not_contacted, 0)} 人，"
        f"填写中 {counts.get(PersonStatus.in_progress, 0)} 人，"
        f"已退回 {counts.get(PersonStatus.returned, 0)} 人），共 {len(open_rows)} 户未完成"
        f"（{listed}{more}）。\n"
        f"社区完成采集期限：{deadline.text}。"
        "发送 /households 开始。"
    )


async def queue_morning_reminders(
    session: AsyncSession, settings: Settings, *, now: dt.datetime | None = None
) -> int:
    """Queue today's morning reminder for every bound, active investigator with open work
    (from :data:`MORNING_HOUR` in the survey's zone); returns how many were newly queued."""
    local = clock.local(now or utcnow())
    if local.hour < MORNING_HOUR:
        return 0
    today = local.date()
    investigators = (
        await session.scalars(
            select(Investigator)
            .where(Investigator.telegram_user_id.is_not(None), Investigator.revoked_at.is_(None))
            .options(selectinload(Investigator.communities))
            .order_by(Investigator.id)
        )
    ).all()
    queued = 0
    for investigator in investigators:
        rows = await people.household_lines(session, [c.id for c in investigator.communities])
        text = morning_text(investigator, rows, settings, today)
        if text is None:
            continue
        queued += int(
            await enqueue(
                session,
                channel=Channel.telegram,
                chat_id=str(investigator.telegram_user_id),
                kind="reminder_morning",
                payload={"text": text},
                dedup_key=f"reminder:morning:{investigator.id}:{today.isoformat()}",
            )
        )
    return queued


async def scan(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    now: dt.datetime | None = None,
) -> Queued:
    """One scan, in one transaction: every kind of reminder that is due."""
    async with sessionmaker() as session, session.begin():
        idle, deadline = await queue_draft_reminders(session, settings, now=now)
        morning = await queue_morning_reminders(session, settings, now=now)
    return Queued(idle, deadline, morning)


async def run_reminders(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    interval: float = SCAN_INTERVAL,
    stop: asyncio.Event | None = None,
) -> None:
    """Scan every ``interval`` seconds until ``stop`` is set or the task is cancelled (the first
    scan after one interval); a scan in progress is finished first."""
    stop = stop or asyncio.Event()
    while True:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval):
                await stop.wait()
        if stop.is_set():
            return
        try:
            queued = await scan(sessionmaker, settings)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("reminder scan failed; trying again next time")
            continue
        if queued != Queued():
            logger.info("reminders queued: %s", queued)
