"""The fake Bot API server of the tests, instrumented for load: per-chat wake-ups and latency.

A simulated user sends an update and waits until what it needs shows in its chat (the next
question, a button), as a person would. The server notes, per chat, the first Bot API call
after each update the user sent: that gap is the update→reply latency.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from tests.fakebot import FakeTelegram

# Methods that show the user something: a reply, in the latency's sense.
REPLY_METHODS = frozenset(
    {
        "sendmessage",
        "editmessagetext",
        "editmessagereplymarkup",
        "answercallbackquery",
        "senddocument",
        "deletemessage",
    }
)


class LoadTelegram(FakeTelegram):
    """:class:`FakeTelegram` plus chat wake-ups and reply latencies for a load driver."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._changed: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self._sent_at: dict[int, float] = {}
        self.latencies: list[float] = []
        # (moment sent, latency) of every timed update: an open-loop run keeps only the updates
        # sent inside its measuring window.
        self.latency_log: list[tuple[float, float]] = []
        self.recording = True

    async def start(self) -> LoadTelegram:
        """Listen on 127.0.0.1 at a free port."""
        await super().start()
        return self

    async def __aenter__(self) -> LoadTelegram:
        return await self.start()

    def note_sent(self, chat_id: int) -> None:
        """The user of ``chat_id`` just sent an update: time the bot's next call to it."""
        self._sent_at[chat_id] = asyncio.get_running_loop().time()

    def _record(self, method: str, values: dict[str, Any], at: float, status: int | str) -> None:
        super()._record(method, values, at, status)
        chat = values.get("chat_id")
        if chat is None and method.lower() == "answercallbackquery":
            query = self.callback_queries.get(str(values.get("callback_query_id")))
            chat = query["user"] if query else None
        if not isinstance(chat, int):
            return
        if method.lower() in REPLY_METHODS:
            sent = self._sent_at.pop(chat, None)
            if sent is not None and self.recording:
                self.latencies.append(at - sent)
                self.latency_log.append((sent, at - sent))
        self._changed[chat].set()

    async def wait_chat(
        self, chat_id: int, ready: Callable[[], bool], within: float, what: str = ""
    ) -> None:
        """Wait until ``ready()`` is true, re-checking whenever the bot calls about this chat."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        event = self._changed[chat_id]
        while not ready():
            remaining = deadline - loop.time()
            if remaining <= 0:
                last = self.chats.visible(chat_id)[-3:]
                raise TimeoutError(
                    f"chat {chat_id}: no {what or 'reply'} within {within} s; {last}"
                )
            event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)
