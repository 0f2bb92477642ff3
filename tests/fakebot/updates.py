"""The queue of updates waiting for the bot, with ``getUpdates`` offset semantics.

An update stays pending until it is confirmed: in polling by a later ``getUpdates`` whose
``offset`` is above its id, in webhook mode by a 2xx answer from the bot's URL. A bot that
restarts without an offset therefore gets its unconfirmed updates again, as with Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

FIRST_UPDATE_ID = 700_000_001


@dataclass
class PendingUpdate:
    """An update not yet confirmed by the bot."""

    update_id: int
    payload: dict[str, Any]
    forced: bool = False  # a duplicate delivered once more regardless of the offset
    in_flight: bool = False  # being POSTed to the webhook
    retry_at: float = 0.0


class UpdateQueue:
    """Updates the bot has not confirmed, and when each was first handed out."""

    def __init__(self) -> None:
        self._next_id = FIRST_UPDATE_ID
        self._pending: list[PendingUpdate] = []
        self._changed = asyncio.Event()
        self._closed = False
        self.payloads: dict[int, dict[str, Any]] = {}
        self.labels: dict[int, str] = {}
        self.delivered_at: dict[int, float] = {}

    def push(self, body: dict[str, Any], label: str) -> int:
        """Queue a new update (``body`` without ``update_id``); returns the id given to it."""
        update_id = self._next_id
        self._next_id += 1
        payload = {"update_id": update_id, **body}
        self.payloads[update_id] = payload
        self.labels[update_id] = label
        self._pending.append(PendingUpdate(update_id, payload))
        self._changed.set()
        return update_id

    def restart_ids(self, first: int) -> None:
        """Number the next updates from ``first`` again, as Telegram may after a quiet week
        (the ids of earlier updates may come back)."""
        self._next_id = first
        for known in (self.payloads, self.labels, self.delivered_at):
            known.clear()

    def redeliver(self, update_id: int) -> None:
        """Hand out an already delivered update again, with the same ``update_id``."""
        self._pending.append(PendingUpdate(update_id, self.payloads[update_id], forced=True))
        self._changed.set()

    def drop_all(self) -> None:
        """Forget every pending update (``drop_pending_updates``)."""
        self._pending.clear()

    @property
    def pending_count(self) -> int:
        """How many updates are not confirmed yet."""
        return len(self._pending)

    def _mark_delivered(self, update: PendingUpdate) -> None:
        self.delivered_at.setdefault(update.update_id, asyncio.get_running_loop().time())

    async def poll(
        self,
        *,
        offset: int | None,
        limit: int,
        wait_seconds: int,
        connected: Callable[[], bool] = lambda: True,
    ) -> list[dict[str, Any]]:
        """``getUpdates``: confirm below ``offset``, then return up to ``limit`` updates,
        waiting up to ``wait_seconds`` for one to arrive."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        # The offset confirms what is pending when the call arrives, not updates that come
        # while it waits (their ids may be lower: Telegram restarts them after a quiet week).
        if offset is not None:
            self._pending = [u for u in self._pending if u.forced or u.update_id >= offset]
        while True:
            if not connected():
                # The bot gave up this poll (stopped, restarted): hand nothing to a dead socket.
                return []
            batch = [u for u in self._pending if not u.in_flight][:limit]
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._closed:
                break
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._changed.wait()
        for update in batch:
            self._mark_delivered(update)
            if update.forced:
                # A forced duplicate is handed out once; the offset cannot confirm it.
                self._pending.remove(update)
        return [u.payload for u in batch]

    def take_due(self, now: float, limit: int) -> list[PendingUpdate]:
        """Updates to POST to the webhook now (marked in flight)."""
        due = [u for u in self._pending if not u.in_flight and u.retry_at <= now][:limit]
        for update in due:
            update.in_flight = True
            self._mark_delivered(update)
        return due

    def in_flight_count(self) -> int:
        """Updates being POSTed right now."""
        return sum(1 for u in self._pending if u.in_flight)

    def next_retry(self) -> float | None:
        """When the earliest failed webhook delivery may be retried."""
        times = [u.retry_at for u in self._pending if not u.in_flight]
        return min(times) if times else None

    def confirm(self, update: PendingUpdate) -> None:
        """The webhook answered 2xx: the update is done."""
        if update in self._pending:
            self._pending.remove(update)
        self._changed.set()

    def release(self, update: PendingUpdate, retry_at: float) -> None:
        """The webhook failed: try again at ``retry_at``."""
        update.in_flight = False
        update.retry_at = retry_at
        self._changed.set()

    async def wait_changed(self, within: float) -> None:
        """Sleep until the queue changes or ``within`` seconds pass."""
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                await self._changed.wait()

    def close(self) -> None:
        """Release long-polling waiters (server shutdown)."""
        self._closed = True
        self._changed.set()
