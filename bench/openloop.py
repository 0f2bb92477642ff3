"""Open loop: what a person feels at a given update rate, not at saturation.

    python -m bench.load --rate 20,50,100 --db sqlite

Residents arrive as a Poisson process (R a second for the mean think time, so that about
R × 6 people are in conversation at once) and think 2–10 s (uniform, seeded per person)
between seeing the bot's screen and acting: together they send about R updates a second,
whatever the bot's speed. Only what is sent inside the measuring window (after the arrivals)
counts. For each rate, four phases alternate: the real bot and the bare echo bot (Telegram,
each on a fake Bot API server of its own), then the real web chat (``POST /c/<code>/api/
<action>``) and the bare aiohttp JSON handler of the same shape (``bench/echo_bot.py``).
Then the web chat's sustained throughput: a few people with no think time, against both.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.driver import REPLY_TIMEOUT, Outcome
from bench.fakeserver import LoadTelegram
from bench.personas import Persona
from bench.resident import Walk
from bench.stores import Resident
from bot.synthetic import make_mobile

THINK = (2.0, 10.0)  # seconds a person reads and thinks before acting
MEAN_THINK = sum(THINK) / 2
CHAT_HEADERS = {"X-Canbao-Chat": "1"}


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values`` in seconds, in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index] * 1000


@dataclass
class Window:
    """The measuring window of one open-loop phase, and what was sent inside it."""

    start: float
    end: float
    first_call: list[float] = field(default_factory=list)  # update → first Bot API call
    round_trip: list[float] = field(default_factory=list)  # act → the next screen seen
    failed: int = 0
    errors: list[str] = field(default_factory=list)  # a few of the failures, for the report
    drained: float = 0.0  # seconds the bot needed after the window to finish what it had

    def keep(self, log: list[tuple[float, float]], into: list[float]) -> None:
        into.extend(latency for sent, latency in log if self.start <= sent < self.end)

    def figures(self, rate: float) -> dict[str, Any]:
        seconds = self.end - self.start
        return {
            "offered_per_s": rate,
            "sent_per_s": len(self.round_trip) / seconds if seconds else 0.0,
            "first_call_ms": _three(self.first_call),
            "round_trip_ms": _three(self.round_trip),
            "timed": len(self.round_trip),
            "failed": self.failed,
            "errors": self.errors[:3],
            "drained_s": self.drained,
        }


def _three(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {f"p{q}": percentile(values, q) for q in (50, 95, 99)}


def thinker(seed: int) -> Callable[[], Awaitable[None]]:
    """The think time of one person: the same sequence for the same seed."""
    rng = random.Random(seed)

    async def think() -> None:
        await asyncio.sleep(rng.uniform(*THINK))

    return think


def arrivals(rate: float, seed: int) -> list[float]:
    """Poisson arrival offsets (seconds) at ``rate`` a second over the mean think time."""
    rng = random.Random(seed)
    at, out = 0.0, list[float]()
    while True:
        at += rng.expovariate(rate)
        if at >= MEAN_THINK:
            return out
        out.append(at)


def population(rate: float) -> int:
    """How many people a phase at ``rate`` may need (arrivals plus a margin)."""
    return int(rate * MEAN_THINK * 1.3) + 10


async def run_window(
    people: list[Callable[[], Awaitable[None]]],
    rate: float,
    seconds: float,
    seed: int,
) -> Window:
    """Start each person at a Poisson arrival; measure ``seconds`` after the arrivals and the
    longest think time; then end every conversation where it is."""
    loop = asyncio.get_running_loop()
    offsets = arrivals(rate, seed)
    if len(offsets) > len(people):
        raise ValueError(f"{len(offsets)} arrivals for {len(people)} people")
    begin = loop.time()
    window = Window(begin + THINK[1], begin + THINK[1] + seconds)

    async def one(offset: float, person: Callable[[], Awaitable[None]]) -> None:
        await asyncio.sleep(offset)
        await person()

    tasks = [asyncio.create_task(one(o, p)) for o, p in zip(offsets, people, strict=False)]
    await asyncio.sleep(window.end - loop.time())
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return window


async def drain(server: LoadTelegram, quiet: float = 1.0, within: float = 120.0) -> float:
    """Wait until the bot has made no call but getUpdates for ``quiet`` seconds (what a phase
    left queued must not be measured in the next); returns how long that took."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while loop.time() - started < within:
        last = next((c.at for c in reversed(server.calls) if c.method.lower() != "getupdates"), 0.0)
        if loop.time() - last >= quiet:
            break
        await asyncio.sleep(0.1)
    return loop.time() - started


# ---------------------------------------------------------------------------------- Telegram


async def telegram_phase(
    server: LoadTelegram,
    cast: list[tuple[Resident, Persona, int]],
    labels: dict[str, str],
    rate: float,
    seconds: float,
    seed: int,
) -> Window:
    """Residents walking the form through the real bot (``cast``: resident, persona, user id)."""
    walks: list[Walk] = []

    def person(resident: Resident, persona: Persona, user_id: int) -> Callable[[], Awaitable[None]]:
        async def play() -> None:
            walk = Walk(
                server,
                server.user(user_id, resident.name),
                resident,
                persona,
                labels,
                Outcome(user_id, persona.name),
                think=thinker(seed * 1_000_003 + user_id),
            )
            walks.append(walk)
            await walk.run()

        return play

    server.latency_log.clear()
    window = await run_window([person(*c) for c in cast], rate, seconds, seed)
    window.drained = await drain(server)
    window.keep(server.latency_log, window.first_call)
    for walk in walks:
        window.keep(walk.round_trips, window.round_trip)
        if walk.outcome.error is not None:
            window.failed += 1
            window.errors.append(walk.outcome.error[:300])
    return window


async def echo_phase(
    server: LoadTelegram, user_ids: list[int], rate: float, seconds: float, seed: int
) -> Window:
    """People texting the echo bot with the same think times."""
    trips: list[tuple[float, float]] = []
    failed = 0

    def person(user_id: int) -> Callable[[], Awaitable[None]]:
        async def play() -> None:
            nonlocal failed
            user = server.user(user_id, f"用户{user_id}")
            think = thinker(seed * 1_000_003 + user_id)
            loop = asyncio.get_running_loop()
            for step in range(1_000_000):
                if step:
                    await think()
                seen = len(user.bot_messages)
                sent = loop.time()
                server.note_sent(user_id)
                await user.send(f"第{step}条", wait=False)

                def echoed(seen: int = seen) -> bool:
                    return len(user.bot_messages) > seen

                try:
                    await server.wait_chat(user_id, echoed, REPLY_TIMEOUT)
                except TimeoutError:
                    failed += 1
                    return
                trips.append((sent, loop.time() - sent))

        return play

    server.latency_log.clear()
    window = await run_window([person(u) for u in user_ids], rate, seconds, seed)
    window.drained = await drain(server)
    window.keep(server.latency_log, window.first_call)
    window.keep(trips, window.round_trip)
    window.failed = failed
    return window


# ---------------------------------------------------------------------------------- web chat


class WebResident:
    """One person filling the form through the web chat's JSON API, as the page's script does
    (``bot/static/webchat/chat.js``): identity, then one action per screen until submitted."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        base: str,
        resident: Resident,
        persona: Persona,
        think: Callable[[], Awaitable[None]] | None,
    ) -> None:
        self.http = http
        self.api = f"{base}/c/{resident.code}/api"
        self.resident = resident
        self.persona = persona
        self.think = think
        self.round_trips: list[tuple[float, float]] = []
        self.steps = 0
        self.done = False
        self.error: str | None = None
        self._ticked: set[str] = set()

    async def _post(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        if self.think is not None and self.steps:
            await self.think()
        loop = asyncio.get_running_loop()
        sent = loop.time()
        async with self.http.post(f"{self.api}/{action}", json=body, headers=CHAT_HEADERS) as r:
            data: dict[str, Any] = await r.json()
            if r.status >= 500 or "view" not in data:
                raise AssertionError(f"{action}: {r.status} {str(data)[:200]}")
        if action != "identity":  # once per person, not a step of the form
            self.round_trips.append((sent, loop.time() - sent))
        self.steps += 1
        return data["view"]  # type: ignore[no-any-return]

    async def run(self) -> None:
        """Walk until submitted (the outcome is in ``done`` / ``error``)."""
        try:
            view = await self._post("identity", {"id_number": self.resident.id_number})
            for _ in range(200):
                if view.get("stage") in ("submitted", "confirmed", "duplicate"):
                    self.done = True
                    return
                action, body = self._next(view)
                view = await self._post(action, {"version": view.get("version", 0), **body})
            raise AssertionError("no end after 200 steps")
        except (AssertionError, aiohttp.ClientError, TimeoutError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"

    def _next(self, view: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        stage = view.get("stage")
        if stage == "review":
            return ("confirm_warnings", {}) if view.get("warnings") else ("proceed", {})
        if stage == "complete":
            return "submit", {}
        prompt = view.get("prompt")
        if not prompt:
            raise AssertionError(f"nothing to answer at stage {stage}")
        # No detour through /back here: the answer the persona ends with at that question.
        state = prompt["state"]
        step = self.persona.back_after.get(state) or self.persona.step(state) or ("keep",)
        by_label = {c["label"]: c for c in prompt["choices"]}
        kind = step[0]
        if kind == "note":
            return "answer", {"text": ""}
        if kind == "multi":
            for label in step[1]:
                choice = by_label.get(label)
                if choice is not None and not choice["selected"]:
                    return "toggle", {"code": choice["code"]}
            return "finish", {}
        if kind == "skip" and prompt["optional"]:
            return "skip", {}
        if kind in ("click", "type"):
            choice = by_label.get(step[1])
            return "answer", {"text": choice["code"] if choice else step[1]}
        if prompt["current"] is not None:
            return "keep", {}
        if prompt["kind"] == "mobile":
            return "answer", {"text": make_mobile(random.Random(self.resident.code))}
        raise AssertionError(f"nothing to keep at {prompt['state']}")


async def web_phase(
    base: str,
    cast: list[tuple[Resident, Persona]],
    rate: float,
    seconds: float,
    seed: int,
) -> Window:
    """Residents on the real web chat, arriving and thinking as on Telegram."""
    people: list[WebResident] = []
    jar = aiohttp.CookieJar(unsafe=True)  # cookies are scoped to each invite's path
    async with aiohttp.ClientSession(cookie_jar=jar) as http:

        def person(index: int, resident: Resident, persona: Persona) -> Callable[[], Any]:
            async def play() -> None:
                walker = WebResident(http, base, resident, persona, thinker(seed + index))
                people.append(walker)
                await walker.run()

            return play

        window = await run_window(
            [person(i, r, p) for i, (r, p) in enumerate(cast)], rate, seconds, seed
        )
    for walker in people:
        window.keep(walker.round_trips, window.round_trip)
        if walker.error is not None:
            window.failed += 1
            window.errors.append(walker.error[:300])
    return window


async def web_floor_phase(base: str, count: int, rate: float, seconds: float, seed: int) -> Window:
    """People posting answers to the bare JSON handler with the same think times."""
    trips: list[tuple[float, float]] = []

    async with aiohttp.ClientSession() as http:

        def person(index: int) -> Callable[[], Awaitable[None]]:
            async def play() -> None:
                think = thinker(seed + index)
                loop = asyncio.get_running_loop()
                for version in range(1_000_000):
                    if version:
                        await think()
                    sent = loop.time()
                    url = f"{base}/c/floor{index}/api/answer"
                    body = {"version": version, "text": "人民路"}
                    async with http.post(url, json=body, headers=CHAT_HEADERS) as r:
                        await r.json()
                    trips.append((sent, loop.time() - sent))

            return play

        window = await run_window([person(i) for i in range(count)], rate, seconds, seed)
    window.keep(trips, window.round_trip)
    return window


async def web_sustained(
    base: str, cast: list[tuple[Resident, Persona]] | None, steps: int, concurrency: int
) -> dict[str, Any]:
    """Answers a second with ``concurrency`` people acting as soon as they see the answer: the
    real web chat walking whole forms (``cast``), or the floor (``cast`` None) for ``steps``
    answers in all."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        started = time.perf_counter()
        if cast is not None:
            walkers = [WebResident(http, base, r, p, None) for r, p in cast]
            await asyncio.gather(*(w.run() for w in walkers))
            done = sum(w.steps for w in walkers)
            failed = sum(w.error is not None for w in walkers)
            trips = [t for w in walkers for _, t in w.round_trips]
        else:
            done, failed, trips = 0, 0, []

            async def client(index: int) -> None:
                nonlocal done
                loop = asyncio.get_running_loop()
                for version in range(max(steps, 100 * concurrency) // concurrency):
                    sent = loop.time()
                    url = f"{base}/c/floor{index}/api/answer"
                    body = {"version": version, "text": "人民路"}
                    async with http.post(url, json=body, headers=CHAT_HEADERS) as r:
                        await r.json()
                    trips.append(loop.time() - sent)
                    done += 1

            await asyncio.gather(*(client(i) for i in range(concurrency)))
        seconds = time.perf_counter() - started
    return {
        "answers": done,
        "seconds": seconds,
        "answers_per_s": done / seconds if seconds else 0.0,
        "latency_ms": _three(trips),
        "failed": failed,
        "errors": [w.error for w in walkers if w.error][:5] if cast is not None else [],
    }
