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
  saved is lost; a pressed button gets a short answer. "Older" is what Telegram's message
  ids and dates say (:mod:`bot.telegram.middlewares.ordering`), because update ids may start
  again lower after a quiet week; when they do, one warning is logged.

An update is known by its update id and a fingerprint of its content
(:func:`storage.repositories.inbox.update_key`), for the same reason.

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

from bot.telegram.middlewares import ordering
from bot.telegram.middlewares.recorder import InboxRecorder
from storage.repositories import inbox
from storage.types import utcnow

logger = logging.getLogger(__name__)

# Keys in the handler data: the inbox key of the update being handled, and "this is a replay"
# (its value: the stored update's inbox key).
INBOX_KEY = "inbox_key"
REPLAY_KEY = "inbox_replay"
# An update id this far below the highest one seen means that the sequence started again
# (late updates trail by what is in flight: hundreds, not a hundred thousand).
JUMP_BACK = 100_000
# In ``session.info``: the update whose "processed" mark this session has already written.
_MARKED = "inbox_marked"


async def mark_handled(session: AsyncSession, key: inbox.Key) -> None:
    """Write the update's "processed" mark in ``session``'s transaction, once per session:
    a handler that commits its answer early marks it there, and the final commit of the
    per-update session then has nothing more to write."""
    if session.info.get(_MARKED) == key:
        return
    await inbox.mark_processed(session, key)
    session.info[_MARKED] = key


class InboxMiddleware(BaseMiddleware):
    """Outer update middleware giving exactly-once handling across duplicates and restarts."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        self.recorder = InboxRecorder(sessionmaker)
        # Updates being handled by this process right now: a concurrent duplicate waits for
        # nothing and is dropped (the first delivery will finish or fail on its own).
        self._in_flight: set[inbox.Key] = set()
        # The highest update id seen (read from the inbox once), to notice a restart.
        self._newest: int | None = None
        self._newest_loaded = False
        self._warned_below: int | None = None

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        bot: Bot = data["bot"]
        replay = data.get(REPLAY_KEY)
        payload: dict[str, Any] | None = None
        if isinstance(replay, tuple):
            key: inbox.Key = replay
        else:
            payload = event.model_dump(mode="json", exclude_none=True, by_alias=True)
            key = inbox.update_key(bot.id, event.update_id, payload)
        if key in self._in_flight:
            logger.info("update %d is being handled already; duplicate dropped", event.update_id)
            return UNHANDLED
        self._in_flight.add(key)
        try:
            if payload is not None and not replay:
                await self._watch(bot.id, event.update_id)
                status = await self.recorder.record(key, payload)
                if status is inbox.InboxStatus.processed:
                    logger.info("update %d was handled before; duplicate dropped", event.update_id)
                    return UNHANDLED
            state: FSMContext | None = data.get("state")
            if state is not None and await self._late(state, event):
                await self._drop_late(key, event)
                return UNHANDLED
            data[INBOX_KEY] = key
            try:
                return await handler(event, data)
            except Exception as exc:
                await self._failed(key, exc)
                raise
        finally:
            self._in_flight.discard(key)

    async def _watch(self, bot_id: int, update_id: int) -> None:
        """Notice update ids that jump far back (Telegram started the sequence again)."""
        if not self._newest_loaded:
            self._newest_loaded = True
            try:
                async with self._sessionmaker() as session:
                    self._newest = await inbox.newest_update_id(session, bot_id)
            except Exception as exc:  # only a diagnostic: the update goes on
                logger.info("could not read the newest update id (%s)", type(exc).__name__)
        newest = self._newest
        if newest is not None and update_id < newest - JUMP_BACK:
            self._restarted(update_id, newest)
        if newest is None or update_id > newest or update_id < newest - JUMP_BACK:
            self._newest = update_id

    def _restarted(self, update_id: int, before: int) -> None:
        """One warning per restart: the ids of the new sequence that follow stay above it."""
        if self._warned_below is not None and update_id >= self._warned_below:
            return
        self._warned_below = update_id
        logger.warning(
            "update ids started again lower (%d after %d): Telegram restarts them after a "
            "week without updates; duplicates and order are told by content and date",
            update_id,
            before,
        )

    async def _late(self, state: FSMContext, event: Update) -> bool:
        last = await state.get_value(ordering.LAST_KEY)
        position = ordering.position_of(event, utcnow().timestamp())
        verdict = ordering.judge(position, last)
        if verdict.late:
            return True
        if verdict.restarted and isinstance(last, dict):
            self._restarted(event.update_id, int(last["u"]))
        await state.update_data({ordering.LAST_KEY: ordering.remember(position, last)})
        return False

    async def _drop_late(self, key: inbox.Key, event: Update) -> None:
        logger.info("update %d arrived after a newer one of the same user; dropped", key[1])
        async with self._sessionmaker() as session, session.begin():
            await inbox.mark_processed(session, key)
        if event.callback_query is not None:
            try:
                await event.callback_query.answer("这个操作已过期，请看最新的消息。")
            except TelegramAPIError:
                logger.info("could not answer late callback of update %d", key[1])

    async def _failed(self, key: inbox.Key, exc: Exception) -> None:
        # Only the exception type is kept: its text may quote what the user typed.
        try:
            async with self._sessionmaker() as session, session.begin():
                await inbox.mark_failed(session, key, type(exc).__name__)
        except Exception as mark_exc:  # the database is often why it failed: keep the cause
            logger.warning(
                "update %d: could not count the failed attempt (%s)",
                key[1],
                type(mark_exc).__name__,
            )
