"""The Bot object: token and Bot API server from the settings, retries on every call."""

from __future__ import annotations

from typing import Any, cast

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile
from aiohttp import ClientError, ClientTimeout

from bot import speedups
from bot.settings import Settings
from bot.telegram.release import ReleaseReadTransaction
from bot.telegram.retry import RetryPolicy, RetryRequests


class BotNotConfiguredError(RuntimeError):
    """``CANBAO_BOT_TOKEN`` is not set."""


class PinnedResponseSession(AiohttpSession):
    """An :class:`AiohttpSession` that keeps each ``Response[T]`` model class alive and sends
    calls without a file as a JSON body.

    aiogram parametrises ``Response[method.__returning__]`` for every answer; pydantic caches
    parametrised classes only weakly, so each garbage collection dropped them and the next
    call rebuilt the class (milliseconds of schema building, several times per update under
    load, measured in bench/load.py). Holding one reference per return type keeps the cache warm.

    aiogram sends every call as an HTML form: each field JSON-encoded on its own, then the
    whole form percent-encoded byte by byte in Python (every Chinese character becomes nine
    bytes of ``%XX``). The Bot API takes ``application/json`` as well, which costs half the CPU
    (a question with its keyboard: ~45 instead of ~85 µs per call). The fields are prepared by
    aiogram's own ``prepare_value`` (defaults, enums, dates, nested objects) as for a form, and
    the same fields are left out (None, empty). A call carrying a file still goes as multipart.
    """

    _pinned: dict[Any, Any] = {}  # noqa: RUF012 (process-wide on purpose)

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's signature)
    ) -> TelegramType:
        files: dict[str, InputFile] = {}
        fields: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is not None and prepared != "":  # what the form leaves out too
                fields[key] = prepared
        if files:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        # As aiogram's own make_request: the same timeout and the same errors.
        try:
            async with session.post(
                url,
                data=self.json_dumps(fields),
                headers={"Content-Type": "application/json"},
                timeout=ClientTimeout(total=self.timeout if timeout is None else timeout),
            ) as resp:
                raw_result = await resp.text()
        except TimeoutError as exc:
            raise TelegramNetworkError(method=method, message="Request timeout error") from exc
        except ClientError as exc:
            message = f"{type(exc).__name__}: {exc}"
            raise TelegramNetworkError(method=method, message=message) from exc
        response = self.check_response(
            bot=bot, method=method, status_code=resp.status, content=raw_result
        )
        return cast(TelegramType, response.result)

    def check_response(
        self, bot: Bot, method: TelegramMethod[Any], status_code: int, content: str
    ) -> Response[Any]:
        returning = method.__returning__
        if returning not in self._pinned:
            self._pinned[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)


def create_bot(settings: Settings, *, retry: RetryPolicy | None = None) -> Bot:
    """A :class:`Bot` talking to ``settings.telegram_api_url`` with :class:`RetryRequests`
    (after :class:`~bot.telegram.release.ReleaseReadTransaction`).

    Raises :class:`BotNotConfiguredError` when there is no bot token.
    """
    if settings.bot_token is None or not settings.bot_token.get_secret_value():
        raise BotNotConfiguredError("CANBAO_BOT_TOKEN is not set")
    session = PinnedResponseSession(
        api=TelegramAPIServer.from_base(settings.telegram_api_url),
        json_loads=speedups.json_loads,
        json_dumps=speedups.json_dumps,
    )
    # Outermost: a read-only transaction is ended before the call and its retries.
    session.middleware(ReleaseReadTransaction())
    session.middleware(RetryRequests(retry))
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(link_preview_is_disabled=True),
    )
