"""Outbox (claim, lease, backoff, give up) and inbox (record once, reprocess), both engines."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Channel
from storage.repositories import inbox, outbox
from storage.types import utcnow

T0 = dt.datetime(2014, 11, 1, 8, 0, tzinfo=dt.UTC)


async def test_enqueue_is_deduplicated(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s, s.begin():
        assert await outbox.enqueue(
            s, channel=Channel.telegram, chat_id=1, kind="k", payload={"text": "a"}, dedup_key="x"
        )
        assert not await outbox.enqueue(
            s, channel=Channel.telegram, chat_id=1, kind="k", payload={"text": "b"}, dedup_key="x"
        )
        assert await outbox.pending_count(s) == 1


async def test_claim_lease_backoff_and_give_up(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s, s.begin():
        for i in range(3):
            await outbox.enqueue(
                s,
                channel=Channel.telegram,
                chat_id=i,
                kind="k",
                payload={"n": i},
                dedup_key=f"m{i}",
                not_before=T0 + dt.timedelta(seconds=i),
            )
    async with sessions() as s, s.begin():
        # Only what is due, oldest first, and at most the limit.
        rows = await outbox.claim_due(s, limit=1, now=T0 + dt.timedelta(seconds=1))
        assert [r.payload["n"] for r in rows] == [0]
        assert rows[0].attempts == 1
        assert rows[0].next_attempt_at == T0 + dt.timedelta(seconds=1) + outbox.DEFAULT_LEASE
    async with sessions() as s, s.begin():
        # The leased row is not claimed again by another sender.
        rows = await outbox.claim_due(s, now=T0 + dt.timedelta(seconds=10))
        assert [r.payload["n"] for r in rows] == [1, 2]
        await outbox.mark_sent(s, rows[0].id)
        failed = await outbox.mark_failed(
            s, rows[1].id, "HTTP 500", now=T0 + dt.timedelta(seconds=10)
        )
        assert failed.next_attempt_at == T0 + dt.timedelta(seconds=15)  # first backoff: 5 s
    async with sessions() as s, s.begin():
        assert await outbox.claim_due(s, now=T0 + dt.timedelta(seconds=14)) == []
        rows = await outbox.claim_due(s, now=T0 + dt.timedelta(seconds=15))
        assert [r.payload["n"] for r in rows] == [2] and rows[0].attempts == 2
        retried = await outbox.mark_failed(
            s, rows[0].id, "429", retry_after=30, now=T0 + dt.timedelta(seconds=15)
        )
        assert retried.next_attempt_at == T0 + dt.timedelta(seconds=45)
        gone = await outbox.mark_failed(s, rows[0].id, "blocked", permanent=True)
        assert gone.gave_up_at is not None
    async with sessions() as s, s.begin():
        # The lease of row 0 ran out (its sender died): it is claimed again.
        later = T0 + dt.timedelta(hours=2)
        rows = await outbox.claim_due(s, now=later)
        assert [r.payload["n"] for r in rows] == [0] and rows[0].attempts == 2
        assert await outbox.pending_count(s) == 1


def test_backoff_grows_and_is_capped() -> None:
    delays = [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 4, 20)]
    assert delays == [5, 10, 20, 40, 3600]


async def test_inbox_records_once_and_lists_unprocessed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        assert await inbox.record_update(s, 7, 100, {"update_id": 100}) == inbox.InboxStatus.new
        assert await inbox.record_update(s, 7, 101, {"update_id": 101}) == inbox.InboxStatus.new
        # Same update id from another bot is a different update.
        assert await inbox.record_update(s, 8, 100, {"update_id": 100}) == inbox.InboxStatus.new
    first, second = {"update_id": 100}, {"update_id": 101}
    async with sessions() as s, s.begin():
        # The same update delivered again (the same content) is the one recorded.
        assert await inbox.record_update(s, 7, 100, dict(first)) == inbox.InboxStatus.pending
        await inbox.mark_processed(s, inbox.update_key(7, 100, first))
    async with sessions() as s, s.begin():
        assert await inbox.record_update(s, 7, 100, first) == inbox.InboxStatus.processed
        pending = await inbox.unprocessed(s, 7)
        assert [(u.update_id, u.payload) for u in pending] == [(101, second)]
        for _ in range(inbox.MAX_ATTEMPTS):
            await inbox.mark_failed(s, inbox.key_of(pending[0]), "boom")
        assert await inbox.unprocessed(s, 7) == []
        assert await inbox.prune_processed(s, dt.timedelta(0)) == 1
        assert utcnow() > T0


async def test_a_row_seen_by_two_senders_is_leased_by_one(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        for i in range(3):
            await outbox.enqueue(
                s,
                channel=Channel.telegram,
                chat_id=i,
                kind="k",
                payload={"n": i},
                dedup_key=f"c{i}",
                not_before=T0,
            )
    now = T0 + dt.timedelta(seconds=1)
    async with sessions() as s, s.begin():
        first = await outbox.claim_due(s, now=now)
    ids = [r.id for r in first]
    assert len(ids) == 3
    # A second sender that read the same rows before the first one's lease was written.
    async with sessions() as s, s.begin():
        assert await outbox.lease_due(s, ids, now=now) == []
    async with sessions() as s, s.begin():
        assert await outbox.claim_due(s, now=now) == []
