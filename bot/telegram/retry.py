"""Retrying Bot API calls: flood control, network errors and Telegram's 5xx.

A 429 is retried after exactly the ``retry_after`` Telegram asks for; a network error or a 5xx
after an exponential backoff with jitter. Attempts are bounded, and a flood wait longer than
``max_retry_after`` is not slept through here (the error goes up, e.g. to the outbox, which
reschedules), so no call ever blocks without limit.

A retried call whose first answer was lost on the wire may have been executed by Telegram;
a second message is then possible. Sending is at-least-once by design.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import AnswerCallbackQuery, GetUpdates, TelegramMethod
from aiogram.methods.base import Response, TelegramType

if TYPE_CHECKING:
    from aiogram import Bot

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry one call."""

    attempts: int = 5  # tries in all, the first included
    base_delay: float = 0.5  # backoff before the 2nd try; doubles after each failure
    max_delay: float = 20.0
    jitter: float = 0.5  # each backoff is scaled by a random factor in [1 - jitter, 1]
    max_retry_after: float = 60.0

    def backoff(self, failures: int, rand: Callable[[], float] = random.random) -> float:
        """The pause after ``failures`` consecutive network/5xx failures."""
        delay: float = min(self.max_delay, self.base_delay * 2.0 ** (failures - 1))
        return delay * (1.0 - self.jitter * rand())


class RetryRequests(BaseRequestMiddleware):
    """Session request middleware applying a :class:`RetryPolicy` to every call.

    ``getUpdates`` is passed through: the polling loop has its own backoff and a long poll
    must not be stretched by retries. Answering a button press that Telegram no longer accepts
    (answered already, or too old: an update handled again after a restart) counts as done:
    the answer only stops the button's spinner, and failing the update for it would hold up
    the conversation.
    """

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self._sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if method.__api_method__ == GetUpdates.__api_method__:
            return await make_request(bot, method)
        if method.__api_method__ == AnswerCallbackQuery.__api_method__:
            try:
                return await self._retried(make_request, bot, method)
            except TelegramBadRequest as exc:
                if (
                    "query is too old" not in exc.message
                    and "query ID is invalid" not in exc.message
                ):
                    raise
                logger.info("button press no longer answerable (%s); skipped", exc.message)
                return Response[TelegramType](ok=True, result=True)
        return await self._retried(make_request, bot, method)

    async def _retried(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        name = method.__api_method__
        failures = 0
        attempt = 1
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if attempt >= self.policy.attempts or exc.retry_after > self.policy.max_retry_after:
                    raise
                delay = float(exc.retry_after)
                reason = f"flood control, retry after {exc.retry_after} s"
            except (TelegramNetworkError, TelegramServerError) as exc:
                if attempt >= self.policy.attempts:
                    raise
                failures += 1
                delay = self.policy.backoff(failures)
                reason = type(exc).__name__
            # Only the method name is logged: parameters may carry personal data.
            logger.warning(
                "Bot API %s failed (%s); try %d of %d in %.2f s",
                name,
                reason,
                attempt + 1,
                self.policy.attempts,
                delay,
            )
            await self._sleep(delay)
            attempt += 1
