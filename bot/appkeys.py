"""Typed keys for what the aiohttp application shares with its views."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
SESSIONMAKER: web.AppKey[async_sessionmaker[AsyncSession]] = web.AppKey("sessionmaker")
# The compiled form (flows.Form); typed loosely to keep this module import-light.
FORM: web.AppKey[Any] = web.AppKey("form")
# The Telegram bot, or None when the process runs without a bot token (web only).
BOT: web.AppKey[Bot | None] = web.AppKey("bot")
