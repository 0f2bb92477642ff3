"""The Bot object: token and Bot API server from the settings, retries on every call."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import Response, TelegramMethod

from bot.settings import Settings
from bot.telegram.retry import RetryPolicy, RetryRequests


class BotNotConfiguredError(RuntimeError):
    """``CANBAO_BOT_TOKEN`` is not set."""


class PinnedResponseSession(AiohttpSession):
    """An :class:`AiohttpSession` that keeps each ``Response[T]`` model class alive.

    aiogram parametrises ``Response[method.__returning__]`` for every answer; pydantic caches
    parametrised classes only weakly, so each garbage collection dropped them and the next
    call rebuilt the class (milliseconds of schema building, several times per update under
    load, measured in bench/load.py). Holding one reference per return type keeps the cache warm.
    """

    _pinned: dict[Any, Any] = {}  # noqa: RUF012 (process-wide on purpose)

    def check_response(
        self, bot: Bot, method: TelegramMethod[Any], status_code: int, content: str
    ) -> Response[Any]:
        returning = method.__returning__
        if returning not in self._pinned:
            self._pinned[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)


def create_bot(settings: Settings, *, retry: RetryPolicy | None = None) -> Bot:
    """A :class:`Bot` talking to ``settings.telegram_api_url`` with :class:`RetryRequests`.

    Raises :class:`BotNotConfiguredError` when there is no bot token.
    """
    if settings.bot_token is None or not settings.bot_token.get_secret_value():
        raise BotNotConfiguredError("CANBAO_BOT_TOKEN is not set")
    session = PinnedResponseSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    session.middleware(RetryRequests(retry))
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(link_preview_is_disabled=True),
    )
