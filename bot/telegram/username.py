"""The bot's @username as Telegram knows it (``getMe``), for the ``t.me`` links people get.

A link built from a configured name goes nowhere when the name is wrong; the Bot API says
which bot the token belongs to. ``CANBAO_BOT_USERNAME`` is used only when there is no token
or Telegram cannot be reached.
"""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramAPIError

from bot.settings import Settings
from bot.telegram.factory import create_bot
from bot.telegram.retry import RetryPolicy

logger = logging.getLogger(__name__)
# A command line waits a few seconds at most for Telegram, then falls back.
QUICK = RetryPolicy(attempts=2, base_delay=0.2, max_delay=1.0)


def _has_token(settings: Settings) -> bool:
    return settings.bot_token is not None and bool(settings.bot_token.get_secret_value())


async def fetch_username(settings: Settings) -> str | None:
    """``getMe``'s username of the configured bot, or None (no token, Telegram unreachable)."""
    if not _has_token(settings):
        return None
    bot = create_bot(settings, retry=QUICK)
    try:
        me = await bot.get_me()
    except (TimeoutError, TelegramAPIError, OSError) as exc:
        logger.warning("getMe failed (%s): the bot's username is not known", type(exc).__name__)
        return None
    finally:
        await bot.session.close()
    return me.username


async def bot_username(settings: Settings) -> str | None:
    """The username for ``t.me`` links: from ``getMe``, else ``CANBAO_BOT_USERNAME``."""
    return await fetch_username(settings) or settings.bot_username or None


def telegram_link(username: str | None, code: str) -> str:
    """The deep link opening the bot with ``code`` (empty when the bot's name is unknown)."""
    return f"https://t.me/{username}?start={code}" if username else ""
