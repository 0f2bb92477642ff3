"""The inbox's statements per update: one record (shared by the updates that arrive together)
and one "processed" mark, written with the answer it completes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.models import InboxUpdate
from tests.fakebot import FakeTelegram
from tests.telegram.conftest import StartService
from tests.telegram.test_resident_support import FORM, seed_person, years_ago


class InboxStatements:
    """The inbox statements run on an engine, by kind."""

    def __init__(self) -> None:
        self.records: list[str] = []  # INSERT INTO inbox
        self.lookups: list[str] = []  # SELECT ... FROM inbox
        self.marks: list[str] = []  # UPDATE inbox SET processed_at

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        text = " ".join(statement.split()).upper()
        if text.startswith("INSERT INTO INBOX"):
            self.records.append(statement)
        elif text.startswith("SELECT") and " FROM INBOX" in text:
            self.lookups.append(statement)
        elif text.startswith("UPDATE INBOX") and "PROCESSED_AT" in text:
            self.marks.append(statement)


@contextmanager
def inbox_statements(engine: AsyncEngine) -> Iterator[InboxStatements]:
    seen = InboxStatements()
    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)


async def test_each_answer_records_and_marks_its_update_once(
    tg: FakeTelegram,
    start_service: StartService,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    person = await seed_person(sessions, "林晓", born=years_ago(30), sex="F", household="0007")
    await start_service(mode="polling", form=FORM)
    user = tg.user(3301, "林晓")
    await user.send(f"/start {person.code}")
    await user.send(person.id_number)
    await user.click("知道了，继续")

    with inbox_statements(engine) as seen:
        await user.click("本人")
        await user.click("确认")  # name from the roster
    assert "公民身份号码" in user.last_message.text
    # Per update: one INSERT (nothing to look up when the update is new), one mark.
    assert (len(seen.records), len(seen.lookups), len(seen.marks)) == (2, 0, 2)


async def test_updates_arriving_together_share_one_inbox_commit(
    tg: FakeTelegram,
    start_service: StartService,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await start_service(mode="polling", form=FORM)
    users = [tg.user(3400 + n, f"路人{n}") for n in range(12)]
    with inbox_statements(engine) as seen:
        for user in users:  # all queued before the bot's next getUpdates
            await user.send("你好", wait=False)
        for user in users:
            await user.wait_reply()
    assert all(user.last_message.from_bot for user in users)
    # Without group commit this is one INSERT (and commit) per update.
    assert 1 <= len(seen.records) < len(users)
    assert len(seen.marks) == len(users)
    async with sessions() as session:
        unfinished = await session.scalar(
            select(func.count()).select_from(InboxUpdate).where(InboxUpdate.processed_at.is_(None))
        )
        recorded = await session.scalar(select(func.count()).select_from(InboxUpdate))
    assert (recorded, unfinished) == (len(users), 0)
