"""FSM storage and event isolation: in memory for one process, Redis for several."""

from __future__ import annotations

from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisStorage

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


def create_isolation(storage: BaseStorage) -> BaseEventIsolation:
    """Per-user serialisation of updates: a Redis lock next to Redis storage (several
    processes), an in-process lock otherwise."""
    if isinstance(storage, RedisStorage):
        return storage.create_isolation()
    return SimpleEventIsolation()
