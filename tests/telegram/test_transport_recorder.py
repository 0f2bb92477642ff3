"""The inbox recorder: updates that arrive together are committed in one transaction, each
waiter learns its own update's status, and a failed flush fails only its own waiters."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.telegram.middlewares.recorder import InboxRecorder
from storage.models import InboxUpdate
from storage.repositories import inbox

BOT = 4242
New, Pending, Processed = (
    inbox.InboxStatus.new,
    inbox.InboxStatus.pending,
    inbox.InboxStatus.processed,
)


# The suite's engine fixture (tests/telegram/conftest.py), on SQLite and on PostgreSQL.
pytestmark = pytest.mark.parametrize(
    "engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


class Commits:
    """Counts the transactions committed on an engine while in use."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.count = 0

    def _commit(self, conn: Any) -> None:
        self.count += 1

    def __enter__(self) -> Commits:
        event.listen(self.engine.sync_engine, "commit", self._commit)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine.sync_engine, "commit", self._commit)


def payload(update_id: int) -> dict[str, Any]:
    return {"update_id": update_id, "message": {"text": f"第{update_id}条"}}


def key(update_id: int) -> inbox.Key:
    return inbox.update_key(BOT, update_id, payload(update_id))


async def record_all(recorder: InboxRecorder, ids: list[int]) -> list[inbox.InboxStatus]:
    return await asyncio.gather(*(recorder.record(key(u), payload(u)) for u in ids))


async def test_concurrent_records_share_one_commit(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    recorder = InboxRecorder(sessions)
    with Commits(engine) as commits:
        statuses = await record_all(recorder, list(range(1, 51)))
    assert statuses == [New] * 50
    assert commits.count == 1 and recorder.flushes == 1
    async with sessions() as session:
        rows = (await session.scalars(select(InboxUpdate).order_by(InboxUpdate.update_id))).all()
    assert [(r.bot_id, r.update_id, r.payload) for r in rows] == [
        (BOT, u, payload(u)) for u in range(1, 51)
    ]


async def test_records_made_during_a_flush_go_in_the_next_one(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    recorder = InboxRecorder(sessions)
    first = asyncio.create_task(recorder.record(key(1), payload(1)))
    await asyncio.sleep(0)  # the flush of update 1 has started
    later = asyncio.gather(*(recorder.record(key(u), payload(u)) for u in range(2, 12)))
    assert await first == New
    assert await later == [New] * 10
    assert recorder.flushes == 2


async def test_each_waiter_gets_its_own_updates_status(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        await inbox.record_update(session, BOT, 1, payload(1))  # received, not finished
        await inbox.record_update(session, BOT, 2, payload(2))
        await inbox.mark_processed(session, key(2))  # handled
    recorder = InboxRecorder(sessions)
    # Update 3 comes twice in the same flush: its second copy is not new.
    assert await record_all(recorder, [1, 2, 3, 3, 4]) == [Pending, Processed, New, Pending, New]
    assert recorder.flushes == 1
    async with sessions() as session:
        count = await session.scalar(select(func.count()).select_from(InboxUpdate))
    assert count == 4


async def test_a_batch_larger_than_the_limit_takes_several_flushes(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    recorder = InboxRecorder(sessions, max_batch=7)
    assert await record_all(recorder, list(range(1, 21))) == [New] * 20
    assert recorder.flushes == 3


class FailingOnce:
    """A sessionmaker whose first session fails on its first statement."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.failed = False

    def __call__(self) -> AsyncSession:
        session = self.sessions()
        if not self.failed:
            self.failed = True

            async def broken(*args: Any, **kwargs: Any) -> Any:
                raise ConnectionResetError("the database went away")

            session.execute = broken  # type: ignore[method-assign]
        return session


async def test_a_failed_flush_fails_its_waiters_and_the_next_flush_works(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    recorder = InboxRecorder(FailingOnce(sessions))  # type: ignore[arg-type]
    first = asyncio.gather(
        *(recorder.record(key(u), payload(u)) for u in (1, 2, 3)), return_exceptions=True
    )
    await asyncio.sleep(0)  # that flush has started and will fail
    second = asyncio.gather(*(recorder.record(key(u), payload(u)) for u in (4, 5)))
    failures = await first
    assert all(isinstance(f, ConnectionResetError) for f in failures)
    assert await second == [New, New]
    # The failed updates were not recorded: delivered again, they are new; 4 is pending.
    assert await record_all(recorder, [1, 4]) == [New, Pending]


async def test_a_cancelled_waiter_does_not_disturb_the_others(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    recorder = InboxRecorder(sessions)
    tasks = [asyncio.create_task(recorder.record(key(u), payload(u))) for u in (1, 2, 3)]
    await asyncio.sleep(0)
    tasks[1].cancel()
    assert await tasks[0] == New and await tasks[2] == New
    with pytest.raises(asyncio.CancelledError):
        await tasks[1]
    # Its row was written all the same: delivered again, it is pending (never handled).
    assert await recorder.record(key(2), payload(2)) == Pending
