"""A Telegram user talking to the bot, for tests that read like a conversation.

    user = server.user(1001, "张三")
    await user.send("/start CODE")
    await user.click("从未参保")
    assert "公民身份号码" in user.last_message.text

Each action queues an update and (by default) waits until the bot has finished it.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from tests.fakebot.model import ChatMessage

if TYPE_CHECKING:
    from tests.fakebot.server import FakeTelegram

_query_ids = itertools.count(5_000_000_001)


class FakeUser:
    """One user and their private chat with the bot."""

    def __init__(
        self, server: FakeTelegram, user_id: int, first_name: str, language_code: str
    ) -> None:
        self.server = server
        self.id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.blocked = False
        self.update_ids: list[int] = []
        self.last_query_id: str | None = None

    @property
    def wire(self) -> dict[str, Any]:
        """The ``User`` object."""
        return {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }

    # -- what the user sees ----------------------------------------------------------------
    @property
    def messages(self) -> list[ChatMessage]:
        """Every message still visible in the chat, both sides, oldest first."""
        return self.server.chats.visible(self.id)

    @property
    def bot_messages(self) -> list[ChatMessage]:
        """The bot's visible messages, oldest first."""
        return [m for m in self.messages if m.from_bot]

    @property
    def last_message(self) -> ChatMessage:
        """The bot's latest visible message."""
        messages = self.bot_messages
        if not messages:
            raise AssertionError(f"the bot has sent no message to user {self.id}")
        return messages[-1]

    @property
    def last_answer(self) -> dict[str, Any] | None:
        """The ``answerCallbackQuery`` answer to the last click (``text``, ``show_alert``)."""
        if self.last_query_id is None:
            return None
        query = self.server.callback_queries[self.last_query_id]
        return query if query.get("answered") else None

    # -- what the user does ----------------------------------------------------------------
    async def send(self, text: str, *, wait: bool = True) -> ChatMessage:
        """Type a text message (a leading ``/command`` gets its entity, as clients do)."""
        fields: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return await self._message("text", fields, label=f"message {text[:40]!r}", wait=wait)

    async def send_sticker(self, *, wait: bool = True) -> ChatMessage:
        """Send a sticker."""
        sticker = {
            "file_id": "STICKER1",
            "file_unique_id": "USTICKER1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return await self._message("sticker", {"sticker": sticker}, label="sticker", wait=wait)

    async def send_photo(self, *, caption: str | None = None, wait: bool = True) -> ChatMessage:
        """Send a photo (optionally with a caption)."""
        sizes = [
            {"file_id": f"PHOTO{n}", "file_unique_id": f"UPHOTO{n}", "width": w, "height": w}
            for n, w in ((1, 90), (2, 800))
        ]
        fields: dict[str, Any] = {"photo": sizes}
        if caption:
            fields["caption"] = caption
        return await self._message("photo", fields, label="photo", wait=wait)

    async def send_voice(self, *, wait: bool = True) -> ChatMessage:
        """Send a voice message."""
        voice = {"file_id": "VOICE1", "file_unique_id": "UVOICE1", "duration": 3}
        return await self._message("voice", {"voice": voice}, label="voice", wait=wait)

    async def click(
        self, text: str, *, message: ChatMessage | None = None, wait: bool = True
    ) -> ChatMessage:
        """Press the inline button ``text`` on ``message`` (default: the last bot message
        that has such a button). Returns the message whose button was pressed."""
        target = message or self._message_with_button(text)
        button = target.button(text)
        if button is None:
            raise AssertionError(
                f"message #{target.message_id} has no button {text!r}; buttons: {target.buttons}"
            )
        if button.callback_data is None:
            raise AssertionError(f"button {text!r} is a link ({button.url}), not a callback")
        await self._callback(target, button.callback_data, label=f"click {text!r}", wait=wait)
        return target

    async def double_click(self, text: str) -> None:
        """Press a button twice in quick succession (two updates), then wait for both."""
        target = self._message_with_button(text)
        button = target.button(text)
        assert button is not None and button.callback_data is not None
        await self._callback(target, button.callback_data, label=f"click {text!r}", wait=False)
        await self._callback(target, button.callback_data, label=f"click {text!r}", wait=False)
        for update_id in self.update_ids[-2:]:
            await self.server.wait_handled(update_id)

    async def forge_click(
        self, data: str, *, message: ChatMessage | None = None, wait: bool = True
    ) -> None:
        """Send a callback query with made-up ``data`` (as a modified client could)."""
        target = message or self.last_message
        await self._callback(target, data, label=f"forged callback {data!r}", wait=wait)

    async def repeat_last(self, *, wait: bool = True) -> int:
        """Deliver this user's last update again, with the same ``update_id``."""
        if not self.update_ids:
            raise AssertionError(f"user {self.id} has sent nothing to repeat")
        update_id = self.update_ids[-1]
        # The first delivery's completion must not count for the second one.
        self.server.forget_handled(update_id)
        self.server.updates.redeliver(update_id)
        if wait:
            await self.server.wait_handled(update_id)
        return update_id

    async def wait_reply(self, within: float | None = None) -> None:
        """Wait until the bot has finished this user's latest update."""
        if not self.update_ids:
            raise AssertionError(f"user {self.id} has sent nothing to wait for")
        await self.server.wait_handled(self.update_ids[-1], within)

    def block(self) -> None:
        """Block the bot: sends to this chat get 403 from now on."""
        self.blocked = True

    # -- plumbing --------------------------------------------------------------------------
    def _message_with_button(self, text: str) -> ChatMessage:
        for message in reversed(self.bot_messages):
            if message.button(text) is not None:
                return message
        shown = [(m.message_id, m.buttons) for m in self.bot_messages if m.buttons][-5:]
        last = self.bot_messages[-1].text if self.bot_messages else None
        raise AssertionError(
            f"no button {text!r} in the chat with user {self.id}; last bot message: {last!r}; "
            f"buttons on recent messages: {shown or 'none'}"
        )

    async def _message(
        self, kind: str, fields: dict[str, Any], *, label: str, wait: bool
    ) -> ChatMessage:
        text = fields.get("text", fields.get("caption"))
        stored = self.server.chats.add(self.id, from_bot=False, kind=kind, text=text)
        wire = self.server.message_wire(stored)
        wire.pop("text", None)
        wire.update(fields)
        await self._push({"message": wire}, label, wait)
        return stored

    async def _callback(self, message: ChatMessage, data: str, *, label: str, wait: bool) -> None:
        query_id = str(next(_query_ids))
        self.server.callback_queries[query_id] = {"user": self.id, "answered": False}
        self.last_query_id = query_id
        query = {
            "id": query_id,
            "from": self.wire,
            "chat_instance": f"ci{self.id}",
            "message": self.server.message_wire(message),
            "data": data,
        }
        await self._push({"callback_query": query}, label, wait)

    async def _push(self, body: dict[str, Any], label: str, wait: bool) -> None:
        update_id = self.server.updates.push(body, f"{label} from user {self.id}")
        self.update_ids.append(update_id)
        if wait:
            await self.server.wait_handled(update_id)
