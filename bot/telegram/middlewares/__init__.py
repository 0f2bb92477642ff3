"""Update middlewares: the inbox (exactly-once handling) and one DB session per update."""

from bot.telegram.middlewares.db_session import DbSessionMiddleware
from bot.telegram.middlewares.inbox import INBOX_KEY, REPLAY_KEY, InboxMiddleware

__all__ = ["INBOX_KEY", "REPLAY_KEY", "DbSessionMiddleware", "InboxMiddleware"]
