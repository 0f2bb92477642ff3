"""The aiohttp application: health check, the Telegram webhook, and the other web parts.

Other packages plug their routes in through :data:`OPTIONAL_SETUPS`: each entry names a
``setup(app)`` function that is called when its module exists.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import security
from bot.appkeys import BOT, FORM, SESSIONMAKER, SETTINGS
from bot.settings import Settings

logger = logging.getLogger(__name__)

# "module:function" setups adding sub-apps and routes; a missing module is skipped.
# Append yours here.
OPTIONAL_SETUPS: list[str] = [
    "bot.console:setup",
    "bot.api:setup",
    "bot.webchat:setup",
    "bot.badges:setup",
    "bot.investigator_web:setup",
]


def create_app(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    form: Any,
    *,
    bot: Bot | None = None,
    dispatcher: Dispatcher | None = None,
) -> web.Application:
    """Build the web application.

    With ``bot`` and ``dispatcher`` and ``settings.webhook_url`` set, Telegram's updates are
    accepted at ``settings.webhook_path``, only with the right secret token header (else 401);
    the answer is sent after the update is handled, so Telegram redelivers what failed.
    """
    app = web.Application()
    security.install(app)
    app[SETTINGS] = settings
    app[SESSIONMAKER] = sessionmaker
    app[FORM] = form
    app[BOT] = bot
    app.router.add_get("/healthz", healthz)
    if settings.webhook_url and bot is not None and dispatcher is not None:
        if settings.webhook_secret is None or not settings.webhook_secret.get_secret_value():
            raise ValueError("webhook mode needs CANBAO_WEBHOOK_SECRET")
        CheckedRequestHandler(
            dispatcher,
            bot,
            handle_in_background=False,
            secret_token=settings.webhook_secret.get_secret_value(),
        ).register(app, path=settings.webhook_path)
    for setup in _optional_setups():
        setup(app)
    return app


class CheckedRequestHandler(SimpleRequestHandler):
    """aiogram's webhook handler, answering 400 to a body that is not a Telegram update.

    aiogram parses the body inside the handler, so bytes that are not JSON, or JSON that is
    not an ``Update``, end as a 500 — and a 5xx tells Telegram to deliver the same bytes
    again and again. The body is checked here first; an update that parses and then fails
    in a handler still answers 500, so Telegram redelivers what really failed.
    """

    async def _handle_request(self, bot: Bot, request: web.Request) -> web.Response:
        update = await parse_update(request, bot)
        if update is None:
            return web.json_response({"ok": False, "error": "not a Telegram update"}, status=400)
        result: TelegramMethod[Any] | None = await self.dispatcher.feed_webhook_update(
            bot, update, **self.data
        )
        return web.Response(body=self._build_response_writer(bot=bot, result=result))


async def parse_update(request: web.Request, bot: Bot) -> Update | None:
    """The request body as an ``Update``, or ``None`` when it is not one (never raises)."""
    try:
        raw = await request.read()
        data = bot.session.json_loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            return None
        return Update.model_validate(data, context={"bot": bot})
    except (UnicodeDecodeError, ValueError, ValidationError, TypeError, RecursionError):
        # ValueError covers json's and orjson's decode errors.
        return None


async def healthz(request: web.Request) -> web.Response:
    """``200 {"status": "ok", ...}`` when the database answers, 503 otherwise."""
    settings = request.app[SETTINGS]
    body: dict[str, Any] = {
        "status": "ok",
        "telegram": "off"
        if request.app[BOT] is None
        else ("webhook" if settings.webhook_url else "polling"),
    }
    try:
        async with request.app[SESSIONMAKER]() as session:
            await session.execute(text("SELECT 1"))
        body["database"] = "ok"
    except Exception as exc:  # any driver error means "not healthy", never a 500 page
        logger.warning("health check: database unavailable (%s)", type(exc).__name__)
        body.update(status="unavailable", database=type(exc).__name__)
        return web.json_response(body, status=503)
    return web.json_response(body)


def _optional_setups() -> list[Callable[[web.Application], None]]:
    found = []
    for spec in OPTIONAL_SETUPS:
        module_name, _, func_name = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        found.append(getattr(module, func_name))
    return found
