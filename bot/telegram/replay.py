"""At start-up, handle again what was received but never finished (a crash, a failure)."""

from __future__ import annotations

import logging

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.telegram.middlewares import REPLAY_KEY
from storage.repositories import inbox

logger = logging.getLogger(__name__)


async def replay_unprocessed(
    dispatcher: Dispatcher,
    bot: Bot,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    batch: int = 100,
) -> int:
    """Feed every unprocessed inbox update of ``bot`` through ``dispatcher`` again, in the
    order they arrived.

    Run before polling starts (or before the webhook is set). An update that fails again has
    its attempt counted; the store stops offering it after a few attempts. Returns how many
    updates were replayed.
    """
    replayed = 0
    seen: set[inbox.Key] = set()
    while True:
        async with sessionmaker() as session:
            rows = await inbox.unprocessed(session, bot.id, limit=batch)
        fresh = [row for row in rows if inbox.key_of(row) not in seen]
        if not fresh:
            break
        for row in fresh:
            seen.add(inbox.key_of(row))
            update = Update.model_validate(row.payload, context={"bot": bot})
            logger.info("replaying update %d received before a restart", row.update_id)
            try:
                # The stored key: a fingerprint taken again might not match the row's.
                await dispatcher.feed_update(bot, update, **{REPLAY_KEY: inbox.key_of(row)})
            except Exception:  # one bad update must not stop the others
                logger.exception("replaying update %d failed", row.update_id)
            replayed += 1
    return replayed
