"""Login rate limiting: failed attempts per username + address, and per address alone."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60
# Guessing many usernames from one address is refused too, a little later.
MAX_FAILURES_PER_ADDRESS = 20


class LoginLimiter:
    """Counts failed logins in a sliding window, in memory.

    ``clock`` returns seconds (monotonic); tests pass their own to move time without sleeping.
    Kept per process: several workers each allow the limit, which still bounds guessing.
    """

    def __init__(
        self,
        *,
        max_failures: int = MAX_FAILURES,
        max_per_address: int = MAX_FAILURES_PER_ADDRESS,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.max_per_address = max_per_address
        self.window = window
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        now = self.clock()
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return deque()
        return times

    def retry_after(self, username: str, address: str) -> float | None:
        """Seconds until another attempt is allowed, or None when it is allowed now."""
        waits = []
        for key, limit in (
            ((username.casefold(), address), self.max_failures),
            (("", address), self.max_per_address),
        ):
            times = self._recent(key)
            if len(times) >= limit:
                waits.append(times[-limit] + self.window - self.clock())
        return max(waits) if waits else None

    def failed(self, username: str, address: str) -> None:
        """Count a failed attempt."""
        now = self.clock()
        for key in ((username.casefold(), address), ("", address)):
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, username: str, address: str) -> None:
        """Forget the username's failures from this address after a good login."""
        self._failures.pop((username.casefold(), address), None)
