"""Fault injection: error answers and cut connections on chosen methods."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tests.fakebot.wire import ApiError

_DESCRIPTIONS = {
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass
class Fault:
    """One injected fault; applies to ``methods`` (lower-case; ``None`` = every method)."""

    kind: Literal["status", "drop", "slow"]
    methods: frozenset[str] | None
    status: int = 500
    retry_after: int | None = None
    remaining: int | None = None  # how many more calls it hits; None = no count limit
    until: float | None = None  # monotonic deadline; None = no time limit
    delay: float = 0.0  # a slow fault: seconds before the call is answered normally

    def matches(self, method: str, now: float) -> bool:
        """Whether this fault hits a call of ``method`` arriving at ``now``."""
        if self.methods is not None and method.lower() not in self.methods:
            return False
        if self.until is not None and now >= self.until:
            return False
        return self.remaining is None or self.remaining > 0

    def spent(self, now: float) -> bool:
        """Whether the fault can never hit again."""
        return (self.remaining is not None and self.remaining <= 0) or (
            self.until is not None and now >= self.until
        )

    def error(self) -> ApiError:
        """The error answer for a status fault."""
        text = _DESCRIPTIONS.get(self.status, "Error").format(retry_after=self.retry_after)
        return ApiError(self.status, text, retry_after=self.retry_after)


class FaultPlan:
    """The faults currently armed; the first matching one hits a call and is used up."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        """Arm a fault."""
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Disarm every fault."""
        self._faults.clear()

    def take(self, method: str, now: float) -> Fault | None:
        """The fault that hits this call (its count decremented), or ``None``."""
        self._faults = [f for f in self._faults if not f.spent(now)]
        for fault in self._faults:
            if fault.matches(method, now):
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault
        return None

    @property
    def armed(self) -> bool:
        """Whether any fault may still hit."""
        return bool(self._faults)
