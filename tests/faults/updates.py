"""Raw updates for feeding the dispatcher directly, in Telegram's wire format.

Messages are put into the fake server's chat history first, so the bot can edit or delete
them and its replies land in the right chat, exactly as when the server delivers them.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from tests.fakebot import ChatMessage, FakeTelegram, FakeUser

_update_ids = itertools.count(900_000_001)
_query_ids = itertools.count(7_000_000_001)

CONTENT: dict[str, dict[str, Any]] = {
    "sticker": {
        "sticker": {
            "file_id": "S1",
            "file_unique_id": "US1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    },
    "photo": {"photo": [{"file_id": "P1", "file_unique_id": "UP1", "width": 90, "height": 90}]},
    "voice": {"voice": {"file_id": "V1", "file_unique_id": "UV1", "duration": 2}},
    "document": {"document": {"file_id": "D1", "file_unique_id": "UD1", "file_name": "a.pdf"}},
    "location": {"location": {"latitude": 31.3, "longitude": 120.6}},
    "contact": {"contact": {"phone_number": "+8613800000000", "first_name": "某"}},
}


def next_update_id() -> int:
    """A fresh update id (above those the fake server hands out)."""
    return next(_update_ids)


def text_update(server: FakeTelegram, user: FakeUser, text: str) -> dict[str, Any]:
    """A text message from ``user`` (a leading ``/command`` gets its entity)."""
    stored = server.chats.add(user.id, from_bot=False, text=text)
    wire = server.message_wire(stored)
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0] if text.split() else text
        wire["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return {"update_id": next_update_id(), "message": wire}


def content_update(server: FakeTelegram, user: FakeUser, kind: str) -> dict[str, Any]:
    """A non-text message (sticker, photo, voice, document, location, contact)."""
    stored = server.chats.add(user.id, from_bot=False, kind=kind, text=None)
    wire = server.message_wire(stored)
    wire.pop("text", None)
    wire.update(CONTENT[kind])
    return {"update_id": next_update_id(), "message": wire}


def edited_update(server: FakeTelegram, user: FakeUser, text: str) -> dict[str, Any]:
    """The user edits their latest message (or a fresh one) to ``text``."""
    own = [m for m in user.messages if not m.from_bot and m.kind == "text"]
    target = own[-1] if own else server.chats.add(user.id, from_bot=False, text="…")
    target.text = text
    target.edits += 1
    wire = server.message_wire(target)
    wire["edit_date"] = int(time.time())
    return {"update_id": next_update_id(), "edited_message": wire}


def callback_update(
    server: FakeTelegram, user: FakeUser, data: str, message: ChatMessage | None = None
) -> dict[str, Any]:
    """A button press with ``data`` on ``message`` (default: the bot's latest message)."""
    target = message
    if target is None:
        bot_messages = user.bot_messages
        target = (
            bot_messages[-1]
            if bot_messages
            else server.chats.add(user.id, from_bot=True, text="（旧消息）")
        )
    query_id = str(next(_query_ids))
    server.callback_queries[query_id] = {"user": user.id, "answered": False}
    return {
        "update_id": next_update_id(),
        "callback_query": {
            "id": query_id,
            "from": user.wire,
            "chat_instance": f"ci{user.id}",
            "message": server.message_wire(target),
            "data": data,
        },
    }


def group_update(server: FakeTelegram, user: FakeUser, text: str) -> dict[str, Any]:
    """A message in a group the bot was added to (the bot serves private chats only)."""
    return {
        "update_id": next_update_id(),
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": -100_000_000_000 - user.id, "type": "supergroup", "title": "某群"},
            "from": user.wire,
            "text": text,
        },
    }
