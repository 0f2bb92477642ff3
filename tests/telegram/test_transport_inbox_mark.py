"""The inbox's "processed" mark is written once per update, with the answer it completes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.fakebot import FakeTelegram
from tests.telegram.conftest import StartService
from tests.telegram.test_resident_support import FORM, seed_person, years_ago


async def test_each_answer_marks_its_update_once(
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

    marks: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE INBOX") and "processed_at" in statement:
            marks.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        await user.click("本人")
        await user.click("确认")  # name from the roster
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert "公民身份号码" in user.last_message.text
    assert len(marks) == 2
