"""Buttons no other router understands: forged or from an older version of the bot."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery

from bot.telegram.i18n import gettext as _

router = Router(name="fallback")


@router.callback_query()
async def on_unknown_button(query: CallbackQuery) -> None:
    """Answer briefly; nothing changes."""
    await query.answer(_("这个按钮无效或已过期。"), show_alert=True)
