"""Record each update in the store's inbox before handling it.

Polling confirms an update to Telegram before its handler finishes, and a webhook may deliver
an update twice; the inbox is the bot's own memory of what it received:

* a new update is recorded (committed) first, then handled; the updates that arrive
  together are committed in one transaction (:mod:`bot.telegram.middlewares.recorder`);
* an update already processed is a duplicate and is skipped: nothing happens twice;
* an update recorded but not processed (the process died, or its handler failed) is handled
  again when it is delivered again or replayed at start-up (:mod:`bot.telegram.replay`);
* an update older than one already handled for the same user is late (several workers behind
  a Redis lock, which is not first-come-first-served; a lock left by a killed worker; a replay
  after the conversation moved on) and is dropped: applied now it would answer a question the
  user is no longer looking at. Its sender never got a reply to it, so nothing they saw as
  saved is lost; a pressed button gets a short answer.

The mark "processed" is written by :class:`~bot.telegram.middlewares.DbSessionMiddleware` in
the same transaction as the handler's own changes, so the two cannot disagree.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.context import FSMContext
from aiogram.types import TelegramObject, Update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.telegram.middlewares.recorder import InboxRecorder
from storage.repositories import inbox

logger = logging.getLogger(__name__)

# Keys in the handler data: the (bot id, update id) being handled, and "this is a replay".
INBOX_KEY = "inbox_key"
REPLAY_KEY = "inbox_replay"
# In the user's FSM data (shared by every worker, read under the user's lock): the newest
# update id handled for them.
LAST_UPDATE_KEY = "inbox_last_update"
# In ``session.info``: the update whose "processed" mark this session has already written.
_MARKED = "inbox_marked"


async def mark_handled(session: AsyncSession, key: tuple[int, int]) -> None:
    """Write the update's "processed" mark in ``session``'s transaction, once per session:
    a handler that commits its answer early marks it there, and the final commit of the
    per-update session then has nothing more to write."""
    if session.info.get(_MARKED) == key:
        return
    await inbox.mark_processed(session, key[0], key[1])
    session.info[_MARKED] = key


class InboxMiddleware(BaseMiddleware):
    """Outer update middleware giving exactly-once handling across duplicates and restarts."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        self.recorder = InboxRecorder(sessionmaker)
        # Updates being handled by this process right now: a concurrent duplicate waits for
        # nothing and is dropped (the first delivery will finish or fail on its own).
        self._in_flight: set[tuple[int, int]] = set()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        bot: Bot = data["bot"]
        key = (bot.id, event.update_id)
        if key in self._in_flight:
            logger.info("update %d is being handled already; duplicate dropped", event.update_id)
            return UNHANDLED
        self._in_flight.add(key)
        try:
            if not data.get(REPLAY_KEY):
                status = await self._record(key, event)
                if status is inbox.InboxStatus.processed:
                    logger.info("update %d was handled before; duplicate dropped", event.update_id)
                    return UNHANDLED
            state: FSMContext | None = data.get("state")
            if state is not None and await self._late(state, event):
                await self._drop_late(key, event, bot)
                return UNHANDLED
            data[INBOX_KEY] = key
            try:
                return await handler(event, data)
            except Exception as exc:
                await self._failed(key, exc)
                raise
        finally:
            self._in_flight.discard(key)

    @staticmethod
    async def _late(state: FSMContext, event: Update) -> bool:
        last = await state.get_value(LAST_UPDATE_KEY)
        if isinstance(last, int) and event.update_id < last:
            return True
        await state.update_data({LAST_UPDATE_KEY: event.update_id})
        return False

    async def _drop_late(self, key: tuple[int, int], event: Update, bot: Bot) -> None:
        logger.info("update %d arrived after a newer one of the same user; dropped", key[1])
        async with self._sessionmaker() as session, session.begin():
            await inbox.mark_processed(session, key[0], key[1])
        if event.callback_query is not None:
            try:
                await event.callback_query.answer("这个操作已过期，请看最新的消息。")
            except TelegramAPIError:
                logger.info("could not answer late callback of update %d", key[1])

    async def _record(self, key: tuple[int, int], event: Update) -> inbox.InboxStatus:
        payload = event.model_dump(mode="json", exclude_none=True, by_alias=True)
        return await self.recorder.record(key, payload)

    async def _failed(self, key: tuple[int, int], exc: Exception) -> None:
        # Only the exception type is kept: its text may quote what the user typed.
        try:
            async with self._sessionmaker() as session, session.begin():
                await inbox.mark_failed(session, key[0], key[1], type(exc).__name__)
        except Exception as mark_exc:  # the database is often why it failed: keep the cause
            logger.warning(
                "update %d: could not count the failed attempt (%s)",
                key[1],
                type(mark_exc).__name__,
            )
