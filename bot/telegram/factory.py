"""The Bot object: token and Bot API server from the settings, retries on every call."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.settings import Settings
from bot.telegram.retry import RetryPolicy, RetryRequests


class BotNotConfiguredError(RuntimeError):
    """``CANBAO_BOT_TOKEN`` is not set."""


def create_bot(settings: Settings, *, retry: RetryPolicy | None = None) -> Bot:
    """A :class:`Bot` talking to ``settings.telegram_api_url`` with :class:`RetryRequests`.

    Raises :class:`BotNotConfiguredError` when there is no bot token.
    """
    if settings.bot_token is None or not settings.bot_token.get_secret_value():
        raise BotNotConfiguredError("CANBAO_BOT_TOKEN is not set")
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    session.middleware(RetryRequests(retry))
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(link_preview_is_disabled=True),
    )
