"""``storage.retention``: after the survey, handled updates, sent notifications and drafts
never handed in go; records handed in stay; every purge is audited."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import AuditEvent, InboxUpdate, Outbox, Record, RecordStatus
from storage.repositories import inbox, outbox
from storage.repositories.actors import Actor
from storage.retention import PurgeCounts, purge, purge_counts
from tests.storage.conftest import Factory
from tests.storage.test_records import start_resident


async def test_purge_removes_what_the_survey_no_longer_needs(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    factory = Factory(sessions)
    async with sessions() as session, session.begin():
        draft_person = await factory.person(session)
        kept_person = await factory.person(session, household="000002")
        draft = (await start_resident(session, draft_person, chat=1)).record
        kept = (await start_resident(session, kept_person, chat=2)).record
        kept.status = RecordStatus.submitted
        kept.submitted_at = kept.created_at
        done = inbox.update_key(1, 10, {"update_id": 10})
        await inbox.record_update(session, 1, 10, {"update_id": 10})
        await inbox.mark_processed(session, done)
        await inbox.record_update(session, 1, 11, {"update_id": 11})  # not handled yet
        for n in (1, 2):
            await outbox.enqueue(
                session,
                channel="telegram",
                chat_id=n,
                kind="k",
                payload={"text": "x"},
                dedup_key=f"d{n}",
            )
        sent = await session.scalar(select(Outbox.id).where(Outbox.dedup_key == "d1"))
        assert sent is not None
        await outbox.mark_sent(session, sent)

    async with sessions() as session, session.begin():
        assert await purge_counts(session) == PurgeCounts(inbox=1, outbox=1, drafts=1)
        assert await purge(session, Actor.system(), reason="调查结束") == PurgeCounts(1, 1, 1)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(InboxUpdate)) == 1
        assert await session.scalar(select(Outbox.dedup_key)) == "d2"
        gone = await session.get(Record, draft.id)
        assert gone is not None and gone.state == {} and gone.discarded_at is not None
        assert gone.live_person_id is None
        still = await session.get(Record, kept.id)
        assert still is not None and still.state != {} and still.discarded_at is None
        event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "data_purged"))
        assert event is not None and event.details == {"inbox": 1, "outbox": 1, "drafts": 1}
        assert await purge_counts(session) == PurgeCounts(0, 0, 0)
