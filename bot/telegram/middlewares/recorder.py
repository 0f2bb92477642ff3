"""Group commit of inbox records: the updates that arrive together share one transaction.

Every update must be committed to the inbox before its handler runs (a crash after Telegram
considers it delivered must lose nothing). Committing each one in its own transaction costs a
connection checkout, a statement and a commit (on SQLite also a turn at the single write lock)
per update. Updates arrive in bursts (a getUpdates answer carries up to a hundred; webhook
calls overlap), so :class:`InboxRecorder` writes them together::

    status = await recorder.record(key, payload)   # committed on return (key: inbox.update_key)

The first record starts a flush; records made while it runs wait for the next one, which
starts as soon as it is done. There is no timer: a lone update is written at once, and under
load a flush takes everything that queued up meanwhile. One flush runs at a time, so the
recorder is one writer, never several competing for SQLite's lock.

The guarantee is that of one transaction per update: :meth:`InboxRecorder.record` returns
only once the update's row is committed, with the status the row had (new, pending or
processed); when the flush fails, every update in it gets the error, none is handled, and the
next flush is tried afresh.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.repositories import inbox

# At most this many updates in one transaction (a few hundred keep the statement small).
MAX_BATCH = 200


class RecorderStoppedError(RuntimeError):
    """The flush writing this update was cancelled (the process is shutting down)."""


@dataclass
class _Waiting:
    key: inbox.Key
    payload: dict[str, Any]
    future: asyncio.Future[inbox.InboxStatus] = field(repr=False)


class InboxRecorder:
    """Writes inbox records in batches, one transaction per batch, one batch at a time."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, max_batch: int = MAX_BATCH
    ) -> None:
        self._sessionmaker = sessionmaker
        self._max_batch = max_batch
        self._queue: list[_Waiting] = []
        self._flusher: asyncio.Task[None] | None = None
        self.flushes = 0  # transactions committed (or tried), for tests and diagnostics

    async def record(self, key: inbox.Key, payload: dict[str, Any]) -> inbox.InboxStatus:
        """Record the update ``key`` (:func:`~storage.repositories.inbox.update_key`); return
        once it is committed.

        Raises what the flush that carried it raised (the update is then not recorded, or
        not known to be).
        """
        future: asyncio.Future[inbox.InboxStatus] = asyncio.get_running_loop().create_future()
        self._queue.append(_Waiting(key, payload, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._run(), name="inbox-recorder")
        # A waiter that is cancelled leaves the flush alone: its row is written (and, never
        # handled, it is pending for a replay), the other updates in the batch are not hurt.
        return await future

    async def _run(self) -> None:
        batch: list[_Waiting] = []
        try:
            while self._queue:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                try:
                    statuses = await self._write(batch)
                except Exception as exc:  # the batch's updates fail; the next batch is new
                    for waiting in batch:
                        if not waiting.future.done():
                            waiting.future.set_exception(exc)
                else:
                    _resolve(batch, statuses)
                batch = []
        finally:
            self._flusher = None
            # Only when this task was cancelled: nobody is left to write these updates.
            orphans, self._queue = [*batch, *self._queue], []
            for waiting in orphans:
                if not waiting.future.done():
                    waiting.future.set_exception(RecorderStoppedError("inbox recorder stopped"))

    async def _write(self, batch: list[_Waiting]) -> dict[inbox.Key, inbox.InboxStatus]:
        self.flushes += 1
        async with self._sessionmaker() as session, session.begin():
            return await inbox.record_updates(session, [(w.key, w.payload) for w in batch])


def _resolve(batch: list[_Waiting], statuses: dict[inbox.Key, inbox.InboxStatus]) -> None:
    seen: set[inbox.Key] = set()
    for waiting in batch:
        status = statuses[waiting.key]
        if waiting.key in seen and status is inbox.InboxStatus.new:
            # A second copy of an update in the same batch: the first copy is the new one.
            status = inbox.InboxStatus.pending
        seen.add(waiting.key)
        if not waiting.future.done():
            waiting.future.set_result(status)
