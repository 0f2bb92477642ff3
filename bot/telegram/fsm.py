"""FSM storage and event isolation: in memory for one process, Redis for several."""

from __future__ import annotations

import os
import secrets
import socket
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


# Frees the lock at KEYS[1] if its token starts with ARGV[1] (this worker's name and "/").
_RELEASE_OWN = """
local token = redis.call('get', KEYS[1])
if token and string.sub(token, 1, string.len(ARGV[1])) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


def worker_name(settings: Settings) -> str:
    """This worker's name among the bot's workers: ``CANBAO_WORKER_NAME``, else the host name
    and the port it listens on (a restarted worker keeps both)."""
    return settings.worker_name or f"{socket.gethostname()}:{settings.port}"


class OrderedRedisIsolation(RedisEventIsolation):
    """The Redis lock, entered first-come-first-served within this process.

    Redis locks are taken by polling, not in arrival order: without the local lock, two
    updates of one user handled by this process could take the shared lock in either order.

    Each lock's token starts with the worker's name (``owner``), so that a worker restarted
    after being killed can free the locks its earlier run held (:meth:`release_own`) instead
    of leaving their users waiting until the locks expire (60 s).
    """

    def __init__(self, storage: RedisStorage, owner: str = "") -> None:
        super().__init__(redis=storage.redis, key_builder=storage.key_builder)
        self._local = SimpleEventIsolation()
        self.owner = owner or f"{socket.gethostname()}:pid{os.getpid()}"

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        async with self._local.lock(key):
            lock = self.redis.lock(name=self.key_builder.build(key, "lock"), **self.lock_kwargs)
            await lock.acquire(token=f"{self.owner}/{secrets.token_hex(8)}")
            try:
                yield
            finally:
                await lock.release()

    async def release_own(self, bot_id: int) -> int:
        """Free the bot's per-user locks held under this worker's name: left by an earlier run
        of this worker that died holding them. Call it before taking updates. Returns how many
        were freed."""
        builder = self.key_builder
        assert isinstance(builder, DefaultKeyBuilder)
        pattern = builder.separator.join([builder.prefix, str(bot_id), "*", "lock"])
        release = self.redis.register_script(_RELEASE_OWN)
        freed = 0
        async for key in self.redis.scan_iter(match=pattern, count=1000):
            freed += int(await release(keys=[key], args=[f"{self.owner}/"]))
        return freed

    async def close(self) -> None:
        await self._local.close()
        await super().close()


def create_isolation(storage: BaseStorage, owner: str = "") -> BaseEventIsolation:
    """Per-user serialisation of updates: a Redis lock next to Redis storage (several
    processes), entered in arrival order within each process, its tokens naming ``owner``
    (:func:`worker_name`); an in-process lock otherwise."""
    if isinstance(storage, RedisStorage):
        return OrderedRedisIsolation(storage, owner)
    return SimpleEventIsolation()
