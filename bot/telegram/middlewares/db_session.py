"""One database session per update: the update's unit of work."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.telegram.middlewares.inbox import INBOX_KEY, mark_handled

# The session of the update being handled, with the task handling it, for the Bot API client
# (see bot.telegram.release). A task started from a handler inherits the variable but must
# not touch the handler's session, hence the task.
CURRENT_SESSION: ContextVar[tuple[asyncio.Task[Any] | None, AsyncSession] | None] = ContextVar(
    "canbao_session", default=None
)


def current_session() -> AsyncSession | None:
    """The session of the update this task is handling, if any."""
    current = CURRENT_SESSION.get()
    if current is None or current[0] is not asyncio.current_task():
        return None
    return current[1]


class DbSessionMiddleware(BaseMiddleware):
    """Inject an :class:`AsyncSession` as ``session``; commit when the handler returns.

    Handlers may commit earlier themselves (e.g. before a slow call). When the handler raises,
    the open transaction is rolled back. The inbox mark "processed" is written in the same
    final commit as the handler's changes.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with self._sessionmaker() as session:
            data["session"] = session
            token = CURRENT_SESSION.set((asyncio.current_task(), session))
            try:
                result = await handler(event, data)
            finally:
                CURRENT_SESSION.reset(token)
            key = data.get(INBOX_KEY)
            if key is not None:
                await mark_handled(session, key)
            if session.in_transaction():
                await session.commit()
            return result
