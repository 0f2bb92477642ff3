"""Hand the update's database connection back before talking to Telegram.

A handler that has only read (a refused answer, a help text, a stale button) would otherwise
keep its transaction, and with it a pooled connection, open through the Bot API call and its
retries: on SQLite the bot's updates share one connection (``storage.db.make_engine``,
``for_updates``), so every other update would wait on Telegram too. Before each call this
request middleware ends the current update's transaction if it has written nothing
(:func:`storage.db.release_if_read_only`); one that has written is left to commit as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)

from bot.telegram.middlewares.db_session import current_session
from storage.db import release_if_read_only

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import TelegramMethod
    from aiogram.methods.base import Response, TelegramType


class ReleaseReadTransaction(BaseRequestMiddleware):
    """Bot API request middleware: end a read-only transaction of the update being handled."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        session = current_session()
        if session is not None:
            await release_if_read_only(session)
        return await make_request(bot, method)
