"""Reminders: one after a draft is left idle, one before the deadline, none twice, none after
submitting; investigators' morning list. Delivered by the real outbox sender to the chat."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.settings import Settings
from bot.telegram.reminders import Queued, scan
from storage.models import Outbox, Record
from storage.repositories.accounts import bind_investigator, revoke_investigator
from storage.repositories.actors import Actor
from storage.types import utcnow
from tests.fakebot import FakeTelegram
from tests.telegram.conftest import StartService
from tests.telegram.test_resident_support import (
    FORM,
    live_record,
    seed_investigator,
    seed_person,
    years_ago,
)


async def _age(sessions: async_sessionmaker[AsyncSession], record_id: int, hours: float) -> None:
    """Pretend the record was last touched ``hours`` ago."""
    async with sessions() as session, session.begin():
        await session.execute(
            update(Record)
            .where(Record.id == record_id)
            .values(updated_at=utcnow() - dt.timedelta(hours=hours))
        )


async def _eventually(check: Callable[[], bool], within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        if loop.time() > deadline:
            raise AssertionError("the reminder did not arrive")
        await asyncio.sleep(0.02)


async def _kinds(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return list((await session.scalars(select(Outbox.kind).order_by(Outbox.id))).all())


async def test_idle_and_deadline_reminders_once_each_and_never_after_submitting(
    tg: FakeTelegram,
    start_service: StartService,
    sessions: async_sessionmaker[AsyncSession],
    make_settings: Callable[..., Settings],
) -> None:
    wu = await seed_person(sessions, "吴十", born=years_ago(33), household="0201")
    await start_service(form=FORM)
    user = tg.user(5001, "吴十")
    await user.send(f"/start {wu.code}")
    await user.send(wu.id_number)
    await user.click("知道了，继续")
    await user.click("本人")
    question = user.last_message.text.split("\n\n")[-1]  # below "填表人：本人"
    assert question.startswith("第 2/")
    record = await live_record(sessions, wu.person_id)

    far = make_settings(community_deadline=dt.date.today() + dt.timedelta(days=30))
    # Touched just now: nothing to remind yet.
    assert await scan(sessions, far) == Queued()

    await _age(sessions, record.id, hours=far.reminder_after_hours + 1)
    assert await scan(sessions, far) == Queued(idle=1)
    assert await scan(sessions, far) == Queued()  # never twice
    await _eventually(lambda: "还没有填写完" in (user.last_message.text or ""))
    assert "吴十" in user.last_message.text

    # Two days before the deadline: one more reminder, also only once.
    near = make_settings(community_deadline=dt.date.today() + dt.timedelta(days=2))
    assert await scan(sessions, near) == Queued(deadline=1)
    assert await scan(sessions, near) == Queued()
    await _eventually(lambda: "截止" in (user.last_message.text or ""))

    # Coming back resumes at the same question.
    await user.send("/start")
    assert "欢迎回来" in user.last_message.text
    assert question in user.last_message.text

    await user.click("确认")
    await user.click("确认")
    await user.click("确认")
    await user.click("在外地参保（或享受社保待遇）")
    await user.click("上海市")
    await user.send("上海")
    await user.click("跳过")
    await user.click("职工医保")
    await user.click("跳过")
    await user.click("确认无误")
    await user.click("确认")
    await user.click("确认")
    await user.click("提交")
    assert "提交成功" in user.last_message.text

    # Submitted: however old, and however close the deadline, no reminder.
    await _age(sessions, record.id, hours=100)
    later = make_settings(community_deadline=dt.date.today() + dt.timedelta(days=1))
    assert await scan(sessions, later) == Queued()
    assert await _kinds(sessions) == ["reminder_idle", "reminder_deadline"]


async def test_morning_reminder_lists_open_households_once_a_day(
    sessions: async_sessionmaker[AsyncSession], make_settings: Callable[..., Settings]
) -> None:
    await seed_person(sessions, "郑一", born=years_ago(40), household="0301")
    await seed_person(sessions, "郑二", born=years_ago(41), household="0302")
    investigator_id, code = await seed_investigator(sessions, "冯调查")
    unbound_id, _code = await seed_investigator(sessions, "未绑定")
    settings = make_settings(community_deadline=dt.date(2030, 12, 10))
    async with sessions() as session, session.begin():
        await bind_investigator(session, code, 6001)

    def at(day: int, hour: int) -> dt.datetime:
        return dt.datetime(2030, 12, day, hour, 30, tzinfo=clock.zone())

    assert await scan(sessions, settings, now=at(1, 7)) == Queued()  # before the morning
    assert await scan(sessions, settings, now=at(1, 9)) == Queued(morning=1)
    assert await scan(sessions, settings, now=at(1, 15)) == Queued()  # once a day
    async with sessions() as session:
        (row,) = (await session.scalars(select(Outbox))).all()
    assert row.chat_id == "6001"
    assert "未联系 2 人" in row.payload["text"]
    assert "0301、0302" in row.payload["text"]
    assert "还剩 9 天" in row.payload["text"]
    assert await scan(sessions, settings, now=at(2, 8)) == Queued(morning=1)  # the next day

    # A revoked investigator is not reminded; the unbound one never was.
    async with sessions() as session, session.begin():
        from storage.repositories.accounts import get_investigator

        investigator = await get_investigator(session, investigator_id)
        assert investigator is not None
        await revoke_investigator(session, investigator, actor=Actor.system())
    assert await scan(sessions, settings, now=at(3, 9)) == Queued()
    async with sessions() as session:
        chats = set((await session.scalars(select(Outbox.chat_id))).all())
    assert chats == {"6001"}
    assert unbound_id != investigator_id
