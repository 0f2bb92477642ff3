"""The bot's conversation handlers, one named Router per file, gathered in :data:`router`."""

from __future__ import annotations

from aiogram import Router

router = Router(name="handlers")
