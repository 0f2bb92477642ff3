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
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
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
        SimpleRequestHandler(
            dispatcher,
            bot,
            handle_in_background=False,
            secret_token=settings.webhook_secret.get_secret_value(),
        ).register(app, path=settings.webhook_path)
    for setup in _optional_setups():
        setup(app)
    return app


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
