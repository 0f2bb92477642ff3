"""Playing many users at once against a bot, and summing up what was measured."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.fakeserver import LoadTelegram
from tests.fakebot import FakeUser

REPLY_TIMEOUT = 120.0  # seconds one step may take under full load before the run is failed


@dataclass
class Outcome:
    """What one simulated user did."""

    user_id: int
    persona: str
    updates: int = 0
    answers: int = 0
    completed: bool = False
    error: str | None = None


@dataclass
class PhaseResult:
    """The figures of one load phase (one bot, one kind of users)."""

    name: str
    users: int
    seconds: float
    outcomes: list[Outcome]
    latencies: list[float]
    calls: dict[str, int]
    peak_rss_mb: float = 0.0
    cpu_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def updates(self) -> int:
        return sum(o.updates for o in self.outcomes)

    @property
    def answers(self) -> int:
        return sum(o.answers for o in self.outcomes)

    @property
    def updates_per_s(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    @property
    def answers_per_s(self) -> float:
        return self.answers / self.seconds if self.seconds else 0.0

    @property
    def completed(self) -> int:
        return sum(1 for o in self.outcomes if o.completed)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error is not None]

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile of update→reply latency, in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
        return ordered[index] * 1000

    @property
    def mean_latency_ms(self) -> float:
        return statistics.fmean(self.latencies) * 1000 if self.latencies else float("nan")


async def act(server: LoadTelegram, user: FakeUser, send: Awaitable[Any]) -> None:
    """Mark the moment the user acts (for the latency), then do it without waiting."""
    server.note_sent(user.id)
    await send


async def run_users(
    server: LoadTelegram,
    name: str,
    script: Callable[[int], Awaitable[Outcome]],
    user_ids: Sequence[int],
) -> PhaseResult:
    """Run ``script(user_id)`` for every user at once; time the whole phase."""
    server.latencies.clear()
    before = len(server.calls)
    started = time.perf_counter()
    outcomes = await asyncio.gather(*(script(uid) for uid in user_ids))
    seconds = time.perf_counter() - started
    calls: dict[str, int] = {}
    for call in server.calls[before:]:
        calls[call.method] = calls.get(call.method, 0) + 1
    return PhaseResult(
        name=name,
        users=len(user_ids),
        seconds=seconds,
        outcomes=list(outcomes),
        latencies=list(server.latencies),
        calls=calls,
    )


def echo_script(server: LoadTelegram, steps: int) -> Callable[[int], Awaitable[Outcome]]:
    """A user who sends ``steps`` texts, each after the echo of the one before."""

    async def script(user_id: int) -> Outcome:
        user = server.user(user_id, f"用户{user_id}")
        outcome = Outcome(user_id, "echo")
        try:
            for step in range(steps):
                seen = len(user.bot_messages)

                def echoed(seen: int = seen) -> bool:
                    return len(user.bot_messages) > seen

                await act(server, user, user.send(f"第{step}条", wait=False))
                outcome.updates += 1
                await server.wait_chat(user_id, echoed, REPLY_TIMEOUT, "echo")
                outcome.answers += 1
            outcome.completed = True
        except TimeoutError as exc:
            outcome.error = str(exc)
        return outcome

    return script
