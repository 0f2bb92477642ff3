"""The outbox sender: delivers queued notifications under Telegram's rate limits.

Rows are claimed (leased) in one short transaction, sent, and each marked sent or failed in
its own transaction. Messages to one chat go out in order, ``1/per_chat_rate`` seconds apart
(counted from the end of the previous send); new messages start at most ``overall_rate`` per
second in all. Retries of one message inside the bot's retry policy follow its backoff.

With several sender processes (PostgreSQL), each message is still sent once (rows are leased
with ``SKIP LOCKED``), but pacing and order are kept per process only. A failed send is retried with
the store's backoff (or after Telegram's ``retry_after``); a chat that blocked the bot or no
longer exists is given up at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings
from bot.telegram.ratelimit import ChatPacer, TokenBucket
from storage.models import Channel, Outbox
from storage.repositories import outbox

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingMessage:
    """What one outbox row becomes in the chat."""

    text: str
    reply_markup: InlineKeyboardMarkup | None = None
    parse_mode: str | None = None


def render_payload(row: Outbox) -> OutgoingMessage:
    """The default rendering: ``payload["text"]``, with an optional ``reply_markup`` object
    (``InlineKeyboardMarkup`` JSON) and ``parse_mode``."""
    payload = row.payload
    text = payload.get("text")
    if not isinstance(text, str) or not text:
        raise ValueError(f"outbox row {row.id} ({row.kind}) has no text")
    markup = payload.get("reply_markup")
    return OutgoingMessage(
        text=text,
        reply_markup=InlineKeyboardMarkup.model_validate(markup) if markup else None,
        parse_mode=payload.get("parse_mode"),
    )


Renderer = Callable[[Outbox], OutgoingMessage]


@dataclass
class SenderStats:
    """Counters since start (for logs and benchmarks)."""

    sent: int = 0
    failed: int = 0
    given_up: int = 0
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class OutboxSender:
    """Claims due Telegram outbox rows and sends them; run it as a task with :meth:`run`."""

    def __init__(
        self,
        bot: Bot,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        per_chat_rate: float = 1.0,
        overall_rate: float = 25.0,
        render: Renderer = render_payload,
        batch: int = 100,
        idle_interval: float = 1.0,
    ) -> None:
        self._bot = bot
        self._sessionmaker = sessionmaker
        self._render = render
        self._batch = batch
        self._idle_interval = idle_interval
        # The lease must outlast the slowest round: a whole batch paced into one chat.
        self._lease = dt.timedelta(seconds=60 + batch / min(per_chat_rate, overall_rate))
        self._per_chat = ChatPacer(per_chat_rate)
        self._overall = TokenBucket(overall_rate)
        self._wakeup = asyncio.Event()
        self._stopping = False
        self.stats = SenderStats()

    @classmethod
    def from_settings(
        cls,
        bot: Bot,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        **kwargs: Any,
    ) -> OutboxSender:
        """A sender with the rates from the settings."""
        return cls(
            bot,
            sessionmaker,
            per_chat_rate=settings.send_rate_per_chat,
            overall_rate=settings.send_rate_overall,
            **kwargs,
        )

    def wake(self) -> None:
        """Look for due rows now instead of after the idle interval (after an enqueue)."""
        self._wakeup.set()

    def request_stop(self) -> None:
        """Let :meth:`run` return after the message in hand, never in the middle of a database
        call (a cancelled call leaves a half-reset pooled connection behind). Rows claimed but
        not sent are sent again when their lease runs out."""
        self._stopping = True
        self._wakeup.set()

    async def run(self) -> None:
        """Send until :meth:`request_stop` (or cancelled); a failing round is logged and retried
        after a pause."""
        while not self._stopping:
            try:
                sent = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("outbox round failed; retrying")
                sent = 0
            if sent == 0 and not self._stopping:
                self._wakeup.clear()
                # asyncio.timeout, not wait_for: wait_for in 3.11 can swallow a cancellation.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._idle_interval):
                        await self._wakeup.wait()

    async def run_once(self) -> int:
        """Claim one batch of due rows and send them; returns how many were claimed."""
        async with self._sessionmaker() as session, session.begin():
            rows = list(
                await outbox.claim_due(
                    session, limit=self._batch, lease=self._lease, channel=Channel.telegram
                )
            )
        by_chat: dict[str, list[Outbox]] = defaultdict(list)
        for row in rows:
            by_chat[row.chat_id].append(row)
        await asyncio.gather(*(self._send_chat(chat_rows) for chat_rows in by_chat.values()))
        return len(rows)

    async def _send_chat(self, rows: Sequence[Outbox]) -> None:
        # In order; after a failure the chat's later rows wait for their lease to run out,
        # so a chat never receives notifications out of order.
        for row in rows:
            if self._stopping or not await self._send(row):
                return

    async def _send(self, row: Outbox) -> bool:
        try:
            message = self._render(row)
            await self._per_chat.wait(row.chat_id)
            await self._overall.acquire()
            try:
                await self._bot.send_message(
                    int(row.chat_id),
                    message.text,
                    reply_markup=message.reply_markup,
                    parse_mode=message.parse_mode,
                )
            finally:
                self._per_chat.sent(row.chat_id)
        except TelegramRetryAfter as exc:
            await self._failed(row, exc, retry_after=exc.retry_after)
            return False
        except (TelegramForbiddenError, TelegramNotFound, ValueError) as exc:
            await self._failed(row, exc, permanent=True)
            return False
        except TelegramBadRequest as exc:
            # "chat not found" will not heal; other bad requests are a rendering bug.
            await self._failed(row, exc, permanent=True)
            return False
        except Exception as exc:
            await self._failed(row, exc)
            return False
        async with self._sessionmaker() as session, session.begin():
            await outbox.mark_sent(session, row.id)
        self.stats.sent += 1
        return True

    async def _failed(
        self,
        row: Outbox,
        exc: Exception,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
    ) -> None:
        reason = type(exc).__name__
        self.stats.failed += 1
        self.stats.errors[reason] += 1
        async with self._sessionmaker() as session, session.begin():
            updated = await outbox.mark_failed(
                session, row.id, reason, retry_after=retry_after, permanent=permanent
            )
        if updated.gave_up_at is not None:
            self.stats.given_up += 1
            logger.warning("outbox %d to a chat given up after %s", row.id, reason)
        else:
            logger.info(
                "outbox %d failed (%s); retry at %s", row.id, reason, updated.next_attempt_at
            )
