"""Handle an update again when the database was not there for it (a restart, a crash).

Without this, an update whose handling met a restarting PostgreSQL server failed for good: the
user got the apology, and the update, recorded in the inbox but never finished, waited for the
next start of the bot to be replayed (polling does not deliver it again, and the error handler
answers a webhook call with success). A restart takes a second or two; trying the update again
through that time turns the outage into a slower reply.

The middleware sits inside the per-user lock (aiogram's FSM middleware), so the user's later
updates wait and keep their order, and outside the inbox, so every try is recorded and checked
again: a try whose commit did reach the database before the connection broke is found
processed and not applied twice. Each try starts over with a new database session. When the
database stays away longer than ``within`` seconds the error goes on to the error handler, as
before: the user is told to try again later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from storage.db import database_unavailable

logger = logging.getLogger(__name__)

RETRY_WITHIN = 15.0  # seconds an update keeps being tried while the database is unavailable
FIRST_DELAY = 0.25  # pause before the 2nd try; doubles up to MAX_DELAY
MAX_DELAY = 2.0


class DatabaseRetryMiddleware(BaseMiddleware):
    """Outer update middleware: when handling fails because the database could not be reached
    (:func:`storage.db.database_unavailable`), try the whole update again after a pause, for up
    to ``within`` seconds; any other error goes up at once."""

    def __init__(
        self,
        *,
        within: float = RETRY_WITHIN,
        first_delay: float = FIRST_DELAY,
        max_delay: float = MAX_DELAY,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._within = within
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._sleep = sleep

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        delay = self._first_delay
        waited = 0.0
        while True:
            try:
                # A copy: what the inner middlewares put in (the session, the inbox key) belongs
                # to one try.
                return await handler(event, dict(data))
            except Exception as exc:
                if not database_unavailable(exc) or waited + delay > self._within:
                    raise
                # Only the type: the message may quote the statement's parameters.
                logger.warning(
                    "update %d: database unavailable (%s); trying again in %.2f s",
                    event.update_id,
                    type(exc).__name__,
                    delay,
                )
            await self._sleep(delay)
            waited += delay
            delay = min(delay * 2, self._max_delay)
