"""A refused answer whose reply is slow to reach Telegram holds up nobody else.

On SQLite the bot's updates share one database connection (``make_engine(...,
for_updates=True)``). Refusing an answer only reads; before the refusal is sent, the read
transaction is ended (:mod:`bot.telegram.release`), so the connection is not held while
Telegram takes its time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram.types import TelegramObject, Update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.telegram.middlewares.db_session import DbSessionMiddleware, current_session
from storage.db import make_engine, make_sessionmaker
from tests.fakebot import FakeTelegram
from tests.telegram.conftest import StartService
from tests.telegram.test_resident_support import FORM, seed_person, years_ago


@pytest.fixture
async def update_sessions(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the test database through an engine made for update handling."""
    updates = make_engine(engine.url, for_updates=True)
    try:
        yield make_sessionmaker(updates)
    finally:
        await updates.dispose()


async def test_a_slow_refusal_does_not_hold_the_connection(
    tg: FakeTelegram,
    start_service: StartService,
    sessions: async_sessionmaker[AsyncSession],
    update_sessions: async_sessionmaker[AsyncSession],
) -> None:
    slow = await seed_person(sessions, "林晓", born=years_ago(30), sex="F", household="0007")
    other = await seed_person(sessions, "周宁", born=years_ago(41), household="0008")
    await start_service(mode="polling", form=FORM, chat_sessionmaker=update_sessions)
    first = tg.user(3501, "林晓")
    await first.send(f"/start {slow.code}")
    await first.send(slow.id_number)
    await first.click("知道了，继续")
    await first.click("本人")
    await first.click("确认")
    assert "公民身份号码" in first.last_message.text

    tg.slow("sendMessage", delay=3.0)
    sent = tg.arrived["sendMessage"]
    await first.send("12345", wait=False)  # not an ID number: refused, nothing written
    await tg.wait_arrived("sendMessage", sent + 1)  # the refusal is on its slow way

    second = tg.user(3502, "周宁")
    await second.send(f"/start {other.code}")
    assert "身份" in second.last_message.text
    # The second resident was answered while the first one's reply was still under way.
    assert first.messages[-1].text == "12345"

    await first.wait_reply()
    assert "公民身份号码" in first.last_message.text


async def test_only_the_task_handling_the_update_sees_its_session(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    seen: dict[str, AsyncSession | None] = {}

    async def peek() -> AsyncSession | None:
        return current_session()

    async def handler(event: TelegramObject, data: dict[str, Any]) -> None:
        seen["handler"] = current_session()
        # A task started from the handler inherits the context, not the right to the session.
        seen["task"] = await asyncio.create_task(peek())

    await DbSessionMiddleware(sessions)(handler, Update(update_id=1), {})
    assert seen["handler"] is not None
    assert seen["task"] is None
    assert current_session() is None
