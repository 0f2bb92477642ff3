"""A fake Telegram Bot API server and conversation client for end-to-end tests."""

from tests.fakebot.model import Button, Call, ChatMessage
from tests.fakebot.server import DEFAULT_TOKEN, FakeTelegram
from tests.fakebot.user import FakeUser

__all__ = ["DEFAULT_TOKEN", "Button", "Call", "ChatMessage", "FakeTelegram", "FakeUser"]
