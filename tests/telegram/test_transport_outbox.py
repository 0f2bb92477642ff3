"""The outbox sender against the fake Bot API: exactly once, in order, paced per chat."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections import Counter
from collections.abc import AsyncIterator, Callable

import pytest
from aiogram import Bot
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings
from bot.telegram import create_bot
from bot.telegram.outbox import OutboxSender
from storage.models import Outbox
from storage.repositories import outbox
from storage.types import utcnow
from tests.fakebot import Call, FakeTelegram, echo
from tests.telegram.conftest import FAST_RETRY, StartService

PER_CHAT = 4.0  # messages per second per chat: 0.25 s apart
OVERALL = 10.0  # messages per second in all: 0.1 s apart
# Arrival times are taken by the server; the request before may have been a little slower
# on the wire than the one after, so gaps are compared with a small allowance.
WIRE_JITTER = 0.03


@pytest.fixture
async def bot(make_settings: Callable[..., Settings]) -> AsyncIterator[Bot]:
    bot = create_bot(make_settings(), retry=FAST_RETRY)
    yield bot
    await bot.session.close()


async def _enqueue(
    sessions: async_sessionmaker[AsyncSession], chat_id: int, texts: list[str]
) -> None:
    async with sessions() as session, session.begin():
        for text in texts:
            await outbox.enqueue(
                session,
                channel="telegram",
                chat_id=chat_id,
                kind="test",
                payload={"text": text},
                dedup_key=f"t:{chat_id}:{text}",
            )


async def _rows(sessions: async_sessionmaker[AsyncSession]) -> list[Outbox]:
    async with sessions() as session:
        return list((await session.scalars(select(Outbox).order_by(Outbox.id))).all())


async def _until_settled(sessions: async_sessionmaker[AsyncSession], within: float = 20) -> None:
    """Wait until every row is sent, given up, or rescheduled far ahead after a failure
    (a claimed row in flight also has a far ``next_attempt_at``: its lease)."""
    async with asyncio.timeout(within):
        while True:
            rows = await _rows(sessions)
            now = utcnow()
            if all(
                r.sent_at
                or r.gave_up_at
                or (r.last_error and r.next_attempt_at > now + dt.timedelta(seconds=30))
                for r in rows
            ):
                return
            await asyncio.sleep(0.05)


def _gaps(calls: list[Call]) -> list[float]:
    return [b.at - a.at for a, b in itertools.pairwise(calls)]


async def test_each_message_once_in_order_and_paced(
    tg: FakeTelegram, bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    alice, bob = tg.user(3001, "张三"), tg.user(3002, "李四")
    await _enqueue(sessions, alice.id, [f"A{n}" for n in range(5)])
    await _enqueue(sessions, bob.id, [f"B{n}" for n in range(5)])
    tg.fail("sendMessage", status=429, retry_after=1, times=1)
    tg.fail("sendMessage", status=500, times=1)
    tg.drop("sendMessage", times=1)
    sender = OutboxSender(bot, sessions, per_chat_rate=PER_CHAT, overall_rate=OVERALL)

    task = asyncio.create_task(sender.run())
    await _until_settled(sessions)
    task.cancel()

    assert [m.text for m in alice.bot_messages] == [f"A{n}" for n in range(5)]
    assert [m.text for m in bob.bot_messages] == [f"B{n}" for n in range(5)]
    assert all(r.sent_at is not None for r in await _rows(sessions))
    assert sender.stats.sent == 10
    delivered = [c for c in tg.calls_of("sendMessage", ok_only=True)]
    assert Counter(c.params["text"] for c in delivered) == {
        f"{p}{n}": 1 for p in "AB" for n in range(5)
    }
    for user in (alice, bob):
        per_chat = [c for c in delivered if c.chat_id == user.id]
        assert min(_gaps(per_chat)) >= 1 / PER_CHAT - WIRE_JITTER
    # New messages (first attempts) start at most OVERALL per second.
    first_attempts = list(
        {c.params["text"]: c for c in reversed(tg.calls_of("sendMessage"))}.values()
    )
    first_attempts.sort(key=lambda c: c.at)
    assert min(_gaps(first_attempts)) >= 1 / OVERALL - WIRE_JITTER
    assert [c.status for c in tg.calls_of("sendMessage")].count(429) == 1


async def test_blocked_or_missing_chat_is_given_up(
    tg: FakeTelegram, bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    blocked = tg.user(3003, "王五")
    blocked.block()
    await _enqueue(sessions, blocked.id, ["给已屏蔽的人"])
    await _enqueue(sessions, 3999, ["没有这个聊天"])
    sender = OutboxSender(bot, sessions, per_chat_rate=PER_CHAT, overall_rate=OVERALL)

    assert await sender.run_once() == 2
    assert await sender.run_once() == 0  # given up: never claimed again

    rows = {r.chat_id: r for r in await _rows(sessions)}
    assert rows[str(blocked.id)].gave_up_at is not None
    assert rows[str(blocked.id)].last_error == "TelegramForbiddenError"
    assert rows["3999"].gave_up_at is not None
    assert rows["3999"].last_error == "TelegramBadRequest"
    assert sender.stats.given_up == 2
    assert blocked.bot_messages == []


async def test_long_flood_wait_is_rescheduled_not_waited(
    tg: FakeTelegram, bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = tg.user(3004, "赵六")
    await _enqueue(sessions, user.id, ["限流很久"])
    # Longer than the retry policy waits in place (60 s): the outbox reschedules instead.
    tg.fail("sendMessage", status=429, retry_after=120)
    sender = OutboxSender(bot, sessions, per_chat_rate=PER_CHAT, overall_rate=OVERALL)

    before = utcnow()
    assert await sender.run_once() == 1

    (row,) = await _rows(sessions)
    assert row.sent_at is None and row.gave_up_at is None
    assert row.attempts == 1 and row.last_error == "TelegramRetryAfter"
    assert row.next_attempt_at >= before + dt.timedelta(seconds=120)
    assert len(tg.calls_of("sendMessage")) == 1
    assert user.bot_messages == []


# Several senders means several processes, which means PostgreSQL (rows leased FOR UPDATE
# SKIP LOCKED); the embedded SQLite store is for one process.
@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
async def test_two_senders_never_send_a_message_twice(
    tg: FakeTelegram,
    make_settings: Callable[..., Settings],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    users = [tg.user(3100 + n, f"用户{n}") for n in range(6)]
    for user in users:
        await _enqueue(sessions, user.id, [f"{user.id}-{n}" for n in range(3)])
    bots = [create_bot(make_settings(), retry=FAST_RETRY) for _ in range(2)]
    senders = [
        OutboxSender(b, sessions, per_chat_rate=20, overall_rate=100, batch=4, idle_interval=0.05)
        for b in bots
    ]

    tasks = [asyncio.create_task(s.run()) for s in senders]
    await _until_settled(sessions)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for b in bots:
        await b.session.close()

    texts = Counter(c.params["text"] for c in tg.calls_of("sendMessage", ok_only=True))
    assert texts == {f"{u.id}-{n}": 1 for u in users for n in range(3)}
    assert sum(s.stats.sent for s in senders) == 18


async def test_handler_queues_in_its_transaction_and_the_service_sends(
    tg: FakeTelegram, start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    echo.reset()
    await start_service(router=echo.router, settings_overrides={"send_rate_per_chat": PER_CHAT})
    user = tg.user(3201, "孙八")

    await user.send("/notify 3")
    await user.repeat_last()  # a duplicate must not queue (or send) anything twice
    await _until_settled(sessions)

    assert echo.control.calls["notify"] == 1
    expected = ["已排队 3 条", "通知 1/3", "通知 2/3", "通知 3/3"]
    assert [m.text for m in user.bot_messages] == expected
    notices = [c for c in tg.calls_of("sendMessage", ok_only=True) if "通知" in c.params["text"]]
    assert min(_gaps(notices)) >= 1 / PER_CHAT - WIRE_JITTER


async def test_a_stop_request_ends_the_sender_between_messages(
    tg: FakeTelegram, bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    carol = tg.user(3003, "王五")
    await _enqueue(sessions, carol.id, [f"C{n}" for n in range(3)])
    # Paced one a second: the stop arrives while the batch is being sent.
    sender = OutboxSender(bot, sessions, per_chat_rate=1.0, overall_rate=OVERALL)
    task = asyncio.create_task(sender.run())
    await tg.wait_call("sendMessage")
    sender.request_stop()
    async with asyncio.timeout(10):
        await task  # returns by itself, no cancellation
    assert not task.cancelled()
    sent = [r for r in await _rows(sessions) if r.sent_at is not None]
    assert 1 <= len(sent) < 3
    assert [m.text for m in carol.bot_messages] == [f"C{n}" for n in range(len(sent))]
