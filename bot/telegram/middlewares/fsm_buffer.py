"""The user's FSM data read once per update and written back once, when the update is done.

The data holds only pointers (the active record, the newest update handled) and is read and
changed several times while one update is handled; with Redis each read or write is a round
trip. The update runs under the user's lock (aiogram's event
isolation, entered before this middleware), so nobody else can change the data meanwhile and
buffering it changes nothing another update could see. Writes are kept even when the handler
fails, as they would have been if written at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.types import TelegramObject


class BufferedFSMContext(FSMContext):
    """An :class:`FSMContext` whose data is loaded on first use and saved by :meth:`flush`
    (the state itself is written through)."""

    def __init__(self, storage: BaseStorage, key: StorageKey) -> None:
        super().__init__(storage, key)
        self._data: dict[str, Any] | None = None
        self._dirty = False

    async def get_data(self) -> dict[str, Any]:
        if self._data is None:
            self._data = await super().get_data()
        return dict(self._data)  # a copy: callers change what they get before set_data

    async def get_value(self, key: str, default: Any | None = None) -> Any | None:
        return (await self.get_data()).get(key, default)

    async def set_data(self, data: Mapping[str, Any]) -> None:
        self._data = dict(data)
        self._dirty = True

    async def update_data(
        self, data: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        current = await self.get_data()
        current.update(data or {}, **kwargs)
        await self.set_data(current)
        return dict(current)

    async def flush(self) -> None:
        """Write the data back if it changed."""
        if self._dirty and self._data is not None:
            await super().set_data(self._data)
            self._dirty = False


class FsmBufferMiddleware(BaseMiddleware):
    """Outer update middleware, inside aiogram's FSM middleware (so under the user's lock):
    hands the handlers a :class:`BufferedFSMContext` and flushes it when the update is done."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        state = data.get("state")
        if not isinstance(state, FSMContext):
            return await handler(event, data)
        buffered = BufferedFSMContext(state.storage, state.key)
        data["state"] = buffered
        try:
            return await handler(event, data)
        finally:
            await buffered.flush()
