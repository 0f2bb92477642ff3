"""Per-chat message history with message ids, as both sides of a private chat see it."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from tests.fakebot.model import ChatMessage
from tests.fakebot.wire import ApiError


class ChatStore:
    """Messages of every private chat; ids count up per chat for both sides, as in Telegram."""

    def __init__(self) -> None:
        self._messages: dict[int, list[ChatMessage]] = defaultdict(list)
        self._next_id: dict[int, int] = defaultdict(lambda: 1)
        # Seconds added to the wall clock for message dates (a test can let a week pass).
        self.clock_offset = 0

    def add(self, chat_id: int, *, from_bot: bool, **fields: Any) -> ChatMessage:
        """Append a message to a chat and give it the chat's next message id."""
        message_id = self._next_id[chat_id]
        self._next_id[chat_id] = message_id + 1
        markup = fields.pop("reply_markup", None)
        message = ChatMessage(
            message_id=message_id,
            chat_id=chat_id,
            from_bot=from_bot,
            date=int(time.time()) + self.clock_offset,
            **fields,
        )
        message.set_markup(markup)
        self._messages[chat_id].append(message)
        return message

    def history(self, chat_id: int) -> list[ChatMessage]:
        """Every message of a chat, deleted ones included (marked)."""
        return list(self._messages.get(chat_id, []))

    def visible(self, chat_id: int) -> list[ChatMessage]:
        """The messages a user still sees."""
        return [m for m in self._messages.get(chat_id, []) if not m.deleted]

    def get(self, chat_id: int, message_id: int, *, purpose: str) -> ChatMessage:
        """A message that still exists, or the 400 Telegram gives for ``purpose``."""
        for message in self._messages.get(chat_id, []):
            if message.message_id == message_id and not message.deleted:
                return message
        raise ApiError(400, f"Bad Request: message to {purpose} not found")

    def chats(self) -> list[int]:
        """Ids of chats that have messages."""
        return list(self._messages)
