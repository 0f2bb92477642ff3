"""The bot over long polling against the fake Bot API: replies, faults, duplicates, restarts."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import InboxUpdate
from storage.repositories import inbox
from tests.fakebot import FakeTelegram, echo
from tests.telegram.conftest import StartService


@pytest.fixture(autouse=True)
def fresh_control() -> None:
    echo.reset()


async def _inbox_rows(sessions: async_sessionmaker[AsyncSession]) -> list[InboxUpdate]:
    async with sessions() as session:
        return list((await session.scalars(select(InboxUpdate).order_by(InboxUpdate.id))).all())


async def test_replies_and_buttons(tg: FakeTelegram, start_service: StartService) -> None:
    await start_service(router=echo.router)
    user = tg.user(1001, "张三")

    await user.send("你好")
    assert user.last_message.text == "echo: 你好"
    assert user.last_message.buttons == ["好的"]

    await user.click("好的")
    assert user.last_message.text == "已确认"
    assert user.last_message.buttons == []
    assert user.last_answer is not None and user.last_answer["text"] == "收到"
    # getUpdates long polls (no busy loop): a handful of calls for two updates.
    assert tg.call_counts["sendMessage"] == 1
    assert tg.call_counts["editMessageText"] == 1


async def test_click_on_missing_button_lists_what_is_there(
    tg: FakeTelegram, start_service: StartService
) -> None:
    await start_service(router=echo.router)
    user = tg.user(1002, "李四")
    await user.send("x")
    with pytest.raises(AssertionError, match=r"no button '不存在'.*'好的'"):
        await user.click("不存在")


async def test_every_update_is_recorded_and_marked_processed(
    tg: FakeTelegram, start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await start_service(router=echo.router)
    user = tg.user(1003, "王五")
    await user.send("一")
    await user.click("好的")
    rows = await _inbox_rows(sessions)
    assert [r.update_id for r in rows] == user.update_ids
    assert all(r.processed_at is not None for r in rows)
    assert rows[0].payload["message"]["text"] == "一"


async def test_429_waits_retry_after(tg: FakeTelegram, start_service: StartService) -> None:
    await start_service(router=echo.router)
    user = tg.user(1004, "赵六")
    tg.fail("sendMessage", status=429, retry_after=1, times=1)

    await user.send("限流")

    assert user.last_message.text == "echo: 限流"
    calls = tg.calls_of("sendMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= 1.0


async def test_5xx_is_retried(tg: FakeTelegram, start_service: StartService) -> None:
    await start_service(router=echo.router)
    user = tg.user(1005, "钱七")
    tg.fail("sendMessage", status=500, times=2)
    tg.fail("sendMessage", status=502, times=1)

    await user.send("重试")

    assert user.last_message.text == "echo: 重试"
    assert [c.status for c in tg.calls_of("sendMessage")] == [500, 500, 502, 200]
    # Exponential backoff with jitter: pause n is at least base * 2**(n-1) * (1 - jitter).
    times = [c.at for c in tg.calls_of("sendMessage")]
    for n, (before, after) in enumerate(itertools.pairwise(times), start=1):
        assert after - before >= 0.05 * 2 ** (n - 1) * 0.5


async def test_retries_are_bounded(tg: FakeTelegram, start_service: StartService) -> None:
    await start_service(router=echo.router)
    user = tg.user(1006, "孙八")
    tg.fail("sendMessage", status=500, times=None, seconds=60)

    await user.send("一直失败")

    # 5 tries for the echo, then the error handler's apology tries 5 times too; no more.
    assert len(tg.calls_of("sendMessage")) == 10
    assert user.bot_messages == []


async def test_dropped_connections_are_recovered(
    tg: FakeTelegram, start_service: StartService
) -> None:
    await start_service(router=echo.router)
    user = tg.user(1007, "周九")
    # The cuts below are for the polls after the one already waiting: on a busy machine the
    # bot may not have sent its first getUpdates yet.
    await tg.wait_arrived("getUpdates", 1)
    tg.drop("sendMessage", times=2)
    tg.drop("getUpdates", times=2)

    # The long poll already waiting delivers this one; its reply survives two cut sends.
    await user.send("断线")
    assert user.last_message.text == "echo: 断线"
    assert [c.status for c in tg.calls_of("sendMessage")] == ["dropped", "dropped", 200]

    # The next two polls are cut; polling backs off and comes back for this one.
    await user.send("恢复", wait=False)
    await user.wait_reply(within=15)
    assert user.last_message.text == "echo: 恢复"
    assert [c.status for c in tg.calls_of("getUpdates")].count("dropped") == 2


async def test_duplicate_update_is_handled_once(
    tg: FakeTelegram, start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await start_service(router=echo.router)
    user = tg.user(1008, "吴十")
    await user.send("只一次")
    first = user.update_ids[-1]

    assert await user.repeat_last() == first

    assert echo.control.calls["echo"] == 1
    assert len(tg.sends_to(user.id)) == 1
    assert [r.update_id for r in await _inbox_rows(sessions)] == [first]


async def test_failed_update_is_apologised_and_kept_for_retry(
    tg: FakeTelegram, start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await start_service(router=echo.router)
    echo.control.fail_times = 1
    user = tg.user(1009, "郑一", language_code="en")

    await user.send("boom")

    assert user.last_message.text is not None
    assert user.last_message.text.startswith("Sorry, something went wrong")
    (row,) = await _inbox_rows(sessions)
    assert row.processed_at is None and row.attempts == 1
    assert row.last_error == "RuntimeError"


async def test_apology_is_chinese_by_default(tg: FakeTelegram, start_service: StartService) -> None:
    await start_service(router=echo.router)
    echo.control.fail_times = 1
    user = tg.user(1010, "冯二", language_code="zh-hans")
    await user.send("boom")
    assert user.last_message.text == "抱歉，系统暂时出了点问题，请稍后再试。已填写的内容不会丢失。"


@pytest.mark.parametrize(
    "engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
async def test_update_unfinished_at_a_crash_is_handled_after_restart(
    tg: FakeTelegram, start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    first = await start_service(router=echo.router)
    user = tg.user(1011, "陈三")
    await user.send("hang", wait=False)
    await echo.control.hung.wait()
    # The process dies mid-update: polling already confirmed the update to Telegram.
    await first.stop()
    assert echo.control.hanging_task is not None
    echo.control.hanging_task.cancel()
    (row,) = await _inbox_rows(sessions)
    assert row.processed_at is None
    assert user.bot_messages == []

    await start_service(router=echo.router)
    await user.wait_reply()

    assert [m.text for m in user.bot_messages] == ["处理完毕"]
    assert echo.control.calls["hang"] == 2  # the interrupted run and the replay
    (row,) = await _inbox_rows(sessions)
    assert row.processed_at is not None


async def test_unconfirmed_update_redelivered_after_restart_runs_once(
    tg: FakeTelegram, start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # Recorded and processed, but Telegram never saw the next offset (the process died):
    # a restarted bot polls without an offset and gets the update again.
    first = await start_service(router=echo.router)
    user = tg.user(1012, "褚四")
    await user.send("一次就好")
    await first.stop()
    update_id = user.update_ids[-1]
    tg.forget_handled(update_id)
    tg.updates.redeliver(update_id)

    await start_service(router=echo.router)
    await tg.wait_handled(update_id)

    assert echo.control.calls["echo"] == 1
    assert len(tg.sends_to(user.id)) == 1


async def test_replay_skips_updates_that_failed_too_often(
    tg: FakeTelegram, start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session, session.begin():
        payload = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 1013, "type": "private"},
                "from": {"id": 1013, "is_bot": False, "first_name": "卫五"},
                "text": "boom",
            },
        }
        await inbox.record_update(session, tg.bot_id, 1, payload)
        for _ in range(inbox.MAX_ATTEMPTS):
            await inbox.mark_failed(
                session, inbox.update_key(tg.bot_id, 1, payload), "RuntimeError"
            )
    echo.control.fail_times = 0

    await start_service(router=echo.router)

    assert echo.control.calls["boom"] == 0
