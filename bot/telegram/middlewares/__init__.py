"""Update middlewares: retries while the database is unavailable, the FSM data buffered per
update, the inbox (exactly-once handling) and one DB session per update; and the message
middleware that cleans typed text."""

from bot.telegram.middlewares.clean_text import CleanTextMiddleware
from bot.telegram.middlewares.db_retry import DatabaseRetryMiddleware
from bot.telegram.middlewares.db_session import DbSessionMiddleware
from bot.telegram.middlewares.fsm_buffer import BufferedFSMContext, FsmBufferMiddleware
from bot.telegram.middlewares.inbox import INBOX_KEY, REPLAY_KEY, InboxMiddleware

__all__ = [
    "INBOX_KEY",
    "REPLAY_KEY",
    "BufferedFSMContext",
    "CleanTextMiddleware",
    "DatabaseRetryMiddleware",
    "DbSessionMiddleware",
    "FsmBufferMiddleware",
    "InboxMiddleware",
]
