"""FSM storage and event isolation: in memory for one process, Redis for several."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

from bot.settings import Settings

KEY_PREFIX = "canbao"


def create_fsm_storage(settings: Settings) -> BaseStorage:
    """:class:`RedisStorage` when ``CANBAO_REDIS_URL`` is set, else :class:`MemoryStorage`."""
    if settings.redis_url:
        return RedisStorage.from_url(
            settings.redis_url,
            key_builder=DefaultKeyBuilder(prefix=KEY_PREFIX, with_bot_id=True),
        )
    return MemoryStorage()


class OrderedRedisIsolation(RedisEventIsolation):
    """The Redis lock, entered first-come-first-served within this process.

    Redis locks are taken by polling, not in arrival order: without the local lock, two
    updates of one user handled by this process could take the shared lock in either order.
    """

    def __init__(self, storage: RedisStorage) -> None:
        super().__init__(redis=storage.redis, key_builder=storage.key_builder)
        self._local = SimpleEventIsolation()

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        async with self._local.lock(key), super().lock(key):
            yield

    async def close(self) -> None:
        await self._local.close()
        await super().close()


def create_isolation(storage: BaseStorage) -> BaseEventIsolation:
    """Per-user serialisation of updates: a Redis lock next to Redis storage (several
    processes), entered in arrival order within each process; an in-process lock otherwise."""
    if isinstance(storage, RedisStorage):
        return OrderedRedisIsolation(storage)
    return SimpleEventIsolation()
