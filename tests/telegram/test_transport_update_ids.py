"""Update ids are not forever: after a week without updates Telegram may number them afresh.

The inbox knew an update by (bot id, update id) and the bot dropped any update of a person
whose id was below the newest one handled for them; when the fake server started its ids at
1001 again against a used database, every update was ignored and the bot went mute.
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from aiogram.fsm.storage.memory import MemoryStorage
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import InboxUpdate
from storage.types import frozen_time, utcnow
from tests.fakebot import FakeTelegram
from tests.telegram.conftest import StartService
from tests.telegram.test_resident_support import FORM, live_record, seed_person, years_ago

RESTART_WARNING = "update ids started again lower"


async def _inbox(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """(rows, rows not processed)."""
    async with sessions() as session:
        rows = await session.scalar(select(func.count()).select_from(InboxUpdate))
        open_rows = await session.scalar(
            select(func.count()).select_from(InboxUpdate).where(InboxUpdate.processed_at.is_(None))
        )
    return int(rows or 0), int(open_rows or 0)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and RESTART_WARNING in r.getMessage()
    ]


async def test_ids_that_start_again_at_1001_are_all_handled_and_duplicates_still_do_nothing(
    tg: FakeTelegram,
    start_service: StartService,
    sessions: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    person = await seed_person(sessions, "林晓", born=years_ago(30), sex="F", household="0009")
    other = await seed_person(sessions, "周敏", born=years_ago(50), household="0010")
    tg.updates.restart_ids(1001)  # the first phase numbered from 1001 too
    # Webhook delivery. A poller that keeps running asks with its old, higher offset, which
    # would confirm a low id already waiting when the call arrives (what Telegram itself does
    # then is not documented); a poller that starts again is the next test.
    await start_service(mode="webhook", form=FORM)
    user = tg.user(3601, "林晓")
    await user.send(f"/start {person.code}")
    await user.send(person.id_number)
    await user.click("知道了，继续")
    await user.click("本人")
    assert "预填信息：林晓" in user.last_message.text
    stranger = tg.user(3602, "周敏")
    await stranger.send(f"/start {other.code}")
    used, _ = await _inbox(sessions)
    assert used == 5

    # A quiet week between the survey's phases; Telegram starts the ids at 1001 again.
    tg.quiet_week(first_update_id=1001)
    with frozen_time(utcnow() + dt.timedelta(days=8)):
        await user.click("确认")  # update 1001: a button, like the old update 1001 was not
        assert user.update_ids[-1] == 1001
        assert "公民身份号码" in user.last_message.text
        await user.click("确认")
        assert "手机号码" in user.last_message.text
        await user.send("13912345678")  # a typed answer, update 1003
        assert "手机号码" not in user.last_message.text
        record = await live_record(sessions, person.person_id)
        assert record.state["answers"]["mobile"] == "13912345678"
        await stranger.send(other.id_number)
        assert "身份核对成功" in stranger.last_message.text

        # A duplicate delivery of a new update still changes nothing.
        shown = len(user.bot_messages)
        version = (await live_record(sessions, person.person_id)).version
        await user.repeat_last()
        assert len(user.bot_messages) == shown
        assert (await live_record(sessions, person.person_id)).version == version

    rows, open_rows = await _inbox(sessions)
    assert (rows, open_rows) == (used + 4, 0)  # every new update recorded and handled
    assert len(_warnings(caplog)) == 1


async def test_a_restarted_worker_on_a_used_database_handles_the_new_lower_ids(
    tg: FakeTelegram,
    start_service: StartService,
    sessions: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The FSM data outlives the worker (as in Redis); the inbox holds the high ids."""
    caplog.set_level(logging.INFO)
    person = await seed_person(sessions, "吴刚", born=years_ago(35), household="0011")
    fsm = MemoryStorage()
    first = await start_service(mode="polling", form=FORM, fsm_storage=fsm)
    user = tg.user(3603, "吴刚")
    await user.send(f"/start {person.code}")
    await user.send(person.id_number)
    assert user.update_ids[-1] > 700_000_000
    await first.stop()

    tg.quiet_week(first_update_id=1001)
    with frozen_time(utcnow() + dt.timedelta(days=8)):
        await start_service(mode="polling", form=FORM, fsm_storage=fsm)
        await user.click("知道了，继续")
        assert "填表人" in user.last_message.text
        await user.click("本人")
        assert "预填信息：吴刚" in user.last_message.text
    assert user.update_ids[-2:] == [1001, 1002]
    assert len(_warnings(caplog)) == 1
    assert (await _inbox(sessions))[1] == 0
