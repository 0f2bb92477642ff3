"""Free text from Telegram is cleaned where it enters: one function for every channel.

A message's text (and a caption) reaches the handlers through :func:`flows.values.clean_text`:
no control characters, zero-width or bidi-override characters, no lone surrogates (which a
Bot API update can carry as JSON escapes), NFC. Entities are dropped from a message whose text
changed: their offsets would no longer fit, and no handler reads them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject

from flows.values import clean_text


def cleaned(message: Message) -> Message:
    """The message with its text and caption cleaned (the same object when nothing changes)."""
    changes: dict[str, Any] = {}
    if message.text is not None and (text := clean_text(message.text)) != message.text:
        changes.update(text=text, entities=None)
    if message.caption is not None and (caption := clean_text(message.caption)) != message.caption:
        changes.update(caption=caption, caption_entities=None)
    return message.model_copy(update=changes) if changes else message


class CleanTextMiddleware(BaseMiddleware):
    """Outer middleware of the message observer: handlers and filters see cleaned text."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, Message):
            event = cleaned(event)
        return await handler(event, data)
