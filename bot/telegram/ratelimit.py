"""Pacing outgoing messages under Telegram's limits (about 1/s per chat, 30/s overall)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable


class TokenBucket:
    """A token bucket handing out reservations: ``acquire`` waits for the caller's turn.

    With ``capacity=1`` consecutive acquisitions are at least ``1/rate`` seconds apart;
    a larger capacity allows that many at once after an idle spell.
    """

    def __init__(
        self,
        rate: float,
        capacity: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("rate must be > 0 and capacity >= 1")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._tokens = capacity
        self._updated = clock()

    def reserve(self) -> float:
        """Take a token now; return how many seconds the caller must wait before using it."""
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        self._tokens -= 1
        # A negative balance is a queue of reservations: each waits for its share to refill.
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    @property
    def idle(self) -> bool:
        """Whether the bucket is full again (nobody waiting, nothing recent)."""
        refilled = self._tokens + (self._clock() - self._updated) * self.rate
        return refilled >= self.capacity

    async def acquire(self) -> None:
        """Wait until the caller may send."""
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)


class ChatPacer:
    """At least ``1/rate`` seconds between the end of one send to a chat and the start of the
    next, counted from when a send *finished* (retries inside a send included), so the gap
    Telegram sees between two delivered messages is never shorter."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        prune_above: int = 10_000,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self.interval = 1.0 / rate
        self._clock = clock
        self._prune_above = prune_above
        self._next: dict[Hashable, float] = {}

    def delay(self, key: Hashable) -> float:
        """Seconds until ``key`` may be sent to again."""
        return max(0.0, self._next.get(key, 0.0) - self._clock())

    async def wait(self, key: Hashable) -> None:
        """Sleep until ``key`` may be sent to."""
        delay = self.delay(key)
        if delay > 0:
            await asyncio.sleep(delay)

    def sent(self, key: Hashable) -> None:
        """Record that a send to ``key`` just finished (successfully or not)."""
        now = self._clock()
        if len(self._next) >= self._prune_above:
            self._next = {k: t for k, t in self._next.items() if t > now}
        self._next[key] = now + self.interval

    def __len__(self) -> int:
        return len(self._next)


class KeyedBuckets:
    """One :class:`TokenBucket` per key (a chat id), forgetting idle ones to bound memory."""

    def __init__(
        self,
        rate: float,
        capacity: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        prune_above: int = 10_000,
    ) -> None:
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._prune_above = prune_above
        self._buckets: dict[Hashable, TokenBucket] = {}

    def bucket(self, key: Hashable) -> TokenBucket:
        """The bucket for ``key``."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._prune_above:
                self._buckets = {k: b for k, b in self._buckets.items() if not b.idle}
            bucket = TokenBucket(self.rate, self.capacity, clock=self._clock)
            self._buckets[key] = bucket
        return bucket

    async def acquire(self, key: Hashable) -> None:
        """Wait until ``key`` may send."""
        await self.bucket(key).acquire()

    def __len__(self) -> int:
        return len(self._buckets)
