"""Sending, editing and deleting messages, tolerant of what the chat may have lost."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram.handlers.context import note_asked
from bot.telegram.render import Screen

logger = logging.getLogger(__name__)


async def send(bot: Bot, chat_id: int, screen: Screen) -> Message:
    """Send a screen as a new message."""
    return await bot.send_message(chat_id, screen.text, reply_markup=screen.markup)


async def ask(bot: Bot, session: AsyncSession, chat_id: int, screen: Screen) -> Message:
    """Send a screen of the conversation; a question is remembered as asked there."""
    message = await send(bot, chat_id, screen)
    await note_asked(session, screen, message.message_id)
    return message


async def edit(
    bot: Bot,
    chat_id: int,
    message_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> int:
    """Edit a message's text (and keyboard); a message that cannot be edited any more (gone,
    too old) gets the text as a new message instead, an unchanged one is left alone. Returns
    the id of the message that shows the text."""
    try:
        await bot.edit_message_text(
            text=text, chat_id=chat_id, message_id=message_id, reply_markup=markup
        )
    except TelegramBadRequest as exc:
        if "not modified" in exc.message:
            return message_id
        logger.info("message %d could not be edited (%s); sending anew", message_id, exc.message)
        sent = await bot.send_message(chat_id, text, reply_markup=markup)
        return sent.message_id
    return message_id


async def delete_quietly(bot: Bot, chat_id: int, message_id: int) -> None:
    """Delete a message; one already gone (or too old to delete) is not an error."""
    try:
        await bot.delete_message(chat_id, message_id)
    except TelegramBadRequest as exc:
        logger.info("message %d could not be deleted: %s", message_id, exc.message)
