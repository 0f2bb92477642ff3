"""The links people are given: the web chat's ``/c/<code>``, the bot's ``t.me`` deep link, and
an investigator's sign-in link ``/i/login/<token>``.

The bot's username comes from Telegram (``getMe``, see :mod:`bot.telegram.username`); a web
page that shows links asks once per process and keeps the answer (a failed ask is retried after
a few minutes), so no page waits on Telegram more than once.
"""

from __future__ import annotations

import time

from bot.settings import Settings
from bot.telegram.username import bot_username, telegram_link

__all__ = ["investigator_link", "known_bot_username", "telegram_link", "web_link"]

# How long a failed getMe is remembered before it is tried again (seconds).
RETRY_AFTER = 300.0
_known: dict[str, tuple[str | None, float]] = {}


def web_link(code: str, settings: Settings) -> str:
    """The web chat link for ``code``."""
    return f"{settings.public_url.rstrip('/')}/c/{code}"


def investigator_link(token: str, settings: Settings) -> str:
    """An investigator's one-time sign-in link for their phone's browser."""
    return f"{settings.public_url.rstrip('/')}/i/login/{token}"


async def known_bot_username(settings: Settings) -> str | None:
    """The bot's username for links shown on pages: asked once per process and token."""
    token = settings.bot_token.get_secret_value() if settings.bot_token else ""
    key = f"{token}|{settings.telegram_api_url}|{settings.bot_username}"
    found = _known.get(key)
    if found is not None and (found[0] is not None or time.monotonic() < found[1]):
        return found[0]
    name = await bot_username(settings)
    _known[key] = (name, time.monotonic() + RETRY_AFTER)
    return name
