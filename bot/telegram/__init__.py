"""The Telegram transport: the bot, the dispatcher, retries, the inbox and the outbox sender.

The conversation itself lives in :mod:`bot.telegram.handlers`; this package carries updates
to it exactly once and carries replies back under Telegram's limits.
"""

from bot.telegram.dispatcher import TASKS_CONCURRENCY_LIMIT, create_dispatcher
from bot.telegram.factory import BotNotConfiguredError, create_bot
from bot.telegram.retry import RetryPolicy, RetryRequests

__all__ = [
    "TASKS_CONCURRENCY_LIMIT",
    "BotNotConfiguredError",
    "RetryPolicy",
    "RetryRequests",
    "create_bot",
    "create_dispatcher",
]
