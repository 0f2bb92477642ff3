"""The last resort for a failing handler: log it, tell the user briefly, never a traceback."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from bot.telegram.i18n import gettext as _

logger = logging.getLogger(__name__)

router = Router(name="errors")


@router.error()
async def on_error(event: ErrorEvent, bot: Bot) -> bool:
    """Log the failure and send the user a one-line apology; the update stays unprocessed
    in the inbox, so it is handled again after a restart."""
    update = event.update
    logger.error(
        "update %d failed: %s",
        update.update_id,
        type(event.exception).__name__,
        exc_info=event.exception,
    )
    chat_id = None
    if update.message is not None:
        chat_id = update.message.chat.id
    elif update.callback_query is not None and update.callback_query.message is not None:
        chat_id = update.callback_query.message.chat.id
    if chat_id is not None:
        try:
            await bot.send_message(
                chat_id, _("抱歉，系统暂时出了点问题，请稍后再试。已填写的内容不会丢失。")
            )
        except TelegramAPIError:
            logger.warning("could not tell chat about the failure of update %d", update.update_id)
    return True
