"""FSM storage and per-user isolation in the real Redis (several processes share them)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.memory import DisabledEventIsolation
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis
from redis.exceptions import LockNotOwnedError

from bot.settings import Settings
from bot.telegram.fsm import KEY_PREFIX, OrderedRedisIsolation, create_fsm_storage, create_isolation
from tests.fakebot import FakeTelegram, echo
from tests.telegram.conftest import StartService

pytestmark = pytest.mark.redis


@pytest.fixture
async def prefix(redis_url: str) -> AsyncIterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    name = f"canbao-test-{secrets.token_hex(4)}"
    yield name
    redis = Redis.from_url(redis_url)
    keys = [key async for key in redis.scan_iter(f"{name}:*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


def _storage(redis_url: str, prefix: str) -> RedisStorage:
    return RedisStorage.from_url(
        redis_url, key_builder=DefaultKeyBuilder(prefix=prefix, with_bot_id=True)
    )


async def test_settings_choose_redis(
    redis_url: str, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(redis_url=redis_url)
    storage, other = create_fsm_storage(settings), create_fsm_storage(settings)
    try:
        assert isinstance(storage, RedisStorage)
        key = StorageKey(bot_id=1, chat_id=-secrets.randbelow(10**9) - 1, user_id=1)
        await storage.set_state(key, "step:name")
        await storage.set_data(key, {"n": 1})
        assert await other.get_state(key) == "step:name"
        assert await other.get_data(key) == {"n": 1}
        await storage.set_state(key, None)
        await storage.set_data(key, {})

        # The lock holds across processes: a second storage (another worker) must wait.
        mine, theirs = create_isolation(storage), create_isolation(other)
        async with mine.lock(key):
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.5), theirs.lock(key):
                    pass
        async with asyncio.timeout(10), theirs.lock(key):
            pass
        assert KEY_PREFIX == "canbao"
    finally:
        await storage.close()
        await other.close()


async def test_isolation_serialises_one_users_updates_and_state_survives_restart(
    tg: FakeTelegram, start_service: StartService, redis_url: str, prefix: str
) -> None:
    echo.reset()
    first = await start_service(router=echo.router, fsm_storage=_storage(redis_url, prefix))
    user = tg.user(4001, "张三")

    for _ in range(5):
        await user.send("/count", wait=False)
    for update_id in user.update_ids:
        await tg.wait_handled(update_id)

    assert [m.text for m in user.bot_messages] == [f"计数 {n}" for n in range(1, 6)]

    await first.stop()
    await start_service(router=echo.router, fsm_storage=_storage(redis_url, prefix))
    await user.send("/count")
    assert user.last_message.text == "计数 6"


async def test_without_isolation_the_same_updates_race(
    tg: FakeTelegram, start_service: StartService, redis_url: str, prefix: str
) -> None:
    # The control experiment: it shows the test above can fail.
    echo.reset()
    storage = _storage(redis_url, prefix)
    service = await start_service(router=echo.router, fsm_storage=storage)
    assert service.dispatcher is not None
    service.dispatcher.fsm.events_isolation = DisabledEventIsolation()
    user = tg.user(4002, "李四")

    for _ in range(5):
        await user.send("/count", wait=False)
    for update_id in user.update_ids:
        await tg.wait_handled(update_id)

    data = await storage.get_data(StorageKey(bot_id=tg.bot_id, chat_id=user.id, user_id=user.id))
    assert data["n"] < 5


async def test_the_service_frees_its_earlier_runs_locks_before_taking_updates(
    tg: FakeTelegram, start_service: StartService, redis_url: str, prefix: str
) -> None:
    echo.reset()
    storage = _storage(redis_url, prefix)
    bot_id = int(tg.token.split(":")[0])
    stale = storage.key_builder.build(StorageKey(bot_id=bot_id, chat_id=4003, user_id=4003), "lock")
    # What a killed run of worker "w-test" left: this person's lock, for another minute.
    await storage.redis.set(stale, "w-test/killed", ex=60)
    await start_service(
        router=echo.router, fsm_storage=storage, settings_overrides={"worker_name": "w-test"}
    )
    user = tg.user(4003, "王五")
    await user.send("/count", wait=False)
    await user.wait_reply(within=5)
    assert user.last_message.text == "计数 1"


async def test_a_restarted_worker_frees_the_locks_its_killed_run_left(
    redis_url: str, prefix: str
) -> None:
    storage = _storage(redis_url, prefix)
    try:
        killed = create_isolation(storage, "host:8081")
        other = create_isolation(storage, "host:8082")
        restarted = create_isolation(storage, "host:8081")
        assert isinstance(restarted, OrderedRedisIsolation)
        mine = StorageKey(bot_id=5, chat_id=101, user_id=101)
        theirs = StorageKey(bot_id=5, chat_id=102, user_id=102)
        other_bot = StorageKey(bot_id=6, chat_id=103, user_id=103)
        lock_key = storage.key_builder.build
        with pytest.raises(LockNotOwnedError):  # the killed run's lock is not its own any more
            async with killed.lock(mine), other.lock(theirs), killed.lock(other_bot):
                # The killed run holds these; a restart of the same worker frees its own.
                assert await restarted.release_own(5) == 1
                async with asyncio.timeout(1), restarted.lock(mine):
                    pass  # at once, not after the lock's 60 s
                # Another worker's lock, and this worker's lock for another bot, stay.
                assert await storage.redis.exists(lock_key(theirs, "lock"))
                assert await storage.redis.exists(lock_key(other_bot, "lock"))
                assert not await storage.redis.exists(lock_key(mine, "lock"))
    finally:
        await storage.close()
