"""A simulated resident filling the form through the Telegram chat, as a person would: read
the bot's latest screen, find which question it is by its title, act, and wait for the next.

The bot's screens (``bot.telegram.render``): a question starts with "第 n/N 题　<label>", the
review has 确认无误 / 核对无误，继续, then 提交, then "提交成功！登记编号：CB…".
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bench.driver import REPLY_TIMEOUT, Outcome, act
from bench.fakeserver import LoadTelegram
from bench.personas import Persona, Step
from bench.stores import Resident
from bot.synthetic import check_digit, make_mobile
from flows import Form
from tests.fakebot import ChatMessage, FakeUser

HEADER = re.compile(r"^第 \d+/\d+ 题\u3000(.+)$", re.MULTILINE)
# Submitted: the answer to 提交, or what /start shows for a submitted record.
DONE = re.compile(r"(?:提交成功！登记编号：|已提交，等待审核，登记编号 )(CB\d+)")
MAX_SCREENS = 120  # a persona finishes in about 40; more means the walk is going round


class Lost(Exception):
    """No answer within the walk's patience (the bot was down): look again with /start."""


def state_order(form: Form) -> list[str]:
    """Every question state in the form's order."""
    return [s for f in form.fields for s in f.states]


def state_labels(form: Form) -> dict[str, str]:
    """Question title → engine state (``name`` or ``name.part``)."""
    labels: dict[str, str] = {}
    for f in form.fields:
        if f.parts:
            for part in f.parts:
                labels[f"{f.label}：{part.label}"] = f"{f.name}.{part.name}"
        labels[f.label] = f.name
    return labels


@dataclass(frozen=True)
class Screen:
    """What the user sees as "the bot's current question"."""

    kind: str  # question | identity | review | submit | done | locked | none
    message: ChatMessage | None
    state: str | None = None
    reference: str | None = None

    @property
    def key(self) -> tuple[Any, ...]:
        m = self.message
        return (self.kind, None) if m is None else (self.kind, m.message_id, m.edits, m.text)


def read_screen(user: FakeUser, labels: dict[str, str], since: int = 0) -> Screen:
    """The newest bot message that asks the user for something (message id ≥ ``since``: an
    older question the bot has since answered or replaced is no longer what it asks)."""
    for message in reversed(user.bot_messages):
        if message.message_id < since:
            break
        text = message.text or ""
        found = HEADER.search(text)
        if found:
            return Screen("question", message, labels.get(found.group(1).strip()))
        done = DONE.search(text)
        if done:
            return Screen("done", message, reference=done.group(1))
        if message.button("提交"):
            return Screen("submit", message)
        if message.button("确认无误") or message.button("核对无误，继续"):
            return Screen("review", message)
        if "锁定" in text:
            return Screen("locked", message)
        if "为确认身份" in text or "还可以再试" in text or "不计入核对次数" in text:
            return Screen("identity", message)
    return Screen("none", None)


@dataclass
class Walk:
    """One resident's conversation: the plan, and what happened."""

    server: LoadTelegram
    user: FakeUser
    resident: Resident
    persona: Persona
    labels: dict[str, str]
    outcome: Outcome
    timeout: float = REPLY_TIMEOUT
    # When set, a step unanswered for this long is given up, as a person would: tap the
    # invite link again (/start), which shows the question the bot is at, and go on from there.
    patience: float | None = None
    resyncs: int = 0
    reference: str | None = None
    mistakes: dict[str, list[str]] = field(default_factory=dict)
    went_back: set[str] = field(default_factory=set)
    unplanned: list[str] = field(default_factory=list)
    # Questions whose answer the bot acknowledged (by moving on), in form order; after a
    # restart the bot must never ask an earlier one again (that answer would have been lost).
    order: list[str] = field(default_factory=list)
    acknowledged: int = -1
    regressions: list[str] = field(default_factory=list)
    # Open loop (``bench.load --rate``): awaited before every action after the first (the
    # person reading the screen and thinking), and (moment sent, round trip) of every action.
    think: Callable[[], Awaitable[None]] | None = None
    round_trips: list[tuple[float, float]] = field(default_factory=list)

    async def run(self) -> Outcome:
        """Play the whole conversation; the outcome records errors instead of raising."""
        self.mistakes = {k: list(v) for k, v in self.persona.mistakes.items()}
        try:
            await self._play()
            self.outcome.completed = True
        except (TimeoutError, AssertionError) as exc:
            self.outcome.error = f"{type(exc).__name__}: {exc}"
        return self.outcome

    async def _play(self) -> None:
        screen = await self._resync()
        if self.persona.wrong_identity_first and screen.kind == "identity":
            # Someone else's valid number (another order code): a wrong try that counts. A
            # number with a bad check digit would only get the "not an ID number" hint.
            own = self.resident.id_number
            body = own[:14] + ("001" if own[14:17] != "001" else "003")
            wrong = body + check_digit(body)
            try:
                screen = await self._do(self.user.send(wrong, wait=False), answer=False)
            except Lost:
                screen = await self._resync()
        for _ in range(MAX_SCREENS):
            try:
                screen = await self._next(screen)
            except Lost:
                screen = await self._resync()
            if screen.kind == "done":
                self.reference = screen.reference
                return
        raise AssertionError(f"no end after {MAX_SCREENS} screens")

    async def _resync(self) -> Screen:
        """Send ``/start <code>`` until the bot shows where the conversation is."""
        for _ in range(20):
            try:
                screen = await self._do(self.user.send(f"/start {self.resident.code}", wait=False))
            except Lost:
                self.resyncs += 1
                continue
            if screen.kind == "question" and self._index(screen.state) < self.acknowledged:
                self.regressions.append(f"{screen.state} asked again after a restart")
            return screen
        raise AssertionError("the bot never answered /start again")

    async def _next(self, screen: Screen) -> Screen:
        """Act on one screen; returns the next."""
        if screen.kind == "done":
            return screen
        if screen.kind == "identity":
            return await self._do(self.user.send(self.resident.id_number, wait=False))
        if screen.kind == "question":
            return await self._question(screen)
        if screen.kind == "review":
            assert screen.message is not None
            label = "确认无误" if screen.message.button("确认无误") else "核对无误，继续"
            return await self._click(screen, label)
        if screen.kind == "submit":
            return await self._click(screen, "提交")
        raise AssertionError(f"unexpected screen {screen.kind}: {screen.message}")

    async def _question(self, screen: Screen) -> Screen:
        state = screen.state or "?"
        wrong = self.mistakes.get(state)
        if wrong:
            text = wrong.pop(0)
            after = await self._do(self.user.send(text, wait=False), screen, answer=False)
            if after.state != state:
                if self.patience is not None:
                    raise Lost  # the bot may have died between the two: look again
                raise AssertionError(f"{state}: wrong input {text[:20]!r} was not refused")
            return after
        step = self.persona.step(state)
        if step is None:
            self.unplanned.append(state)
            step = ("keep",)
        after = await self._step(screen, step)
        if after.kind != "question" or after.state != state:
            self.acknowledged = max(self.acknowledged, self._index(state))
        back = self.persona.back_after.get(state)
        if back is not None and state not in self.went_back and after.kind == "question":
            self.went_back.add(state)
            again = await self._do(self.user.send("/back", wait=False), after, answer=False)
            if again.state != state:
                raise AssertionError(f"/back after {state} showed {again.state}")
            self.acknowledged = self._index(state) - 1
            after = await self._step(again, back)
            self.acknowledged = max(self.acknowledged, self._index(state))
        return after

    async def _step(self, screen: Screen, step: Step) -> Screen:
        message = screen.message
        assert message is not None
        kind = step[0]
        if kind == "note":
            return await self._click(screen, "知道了，继续")
        if kind == "keep" and message.button("确认"):
            return await self._click(screen, "确认")
        if kind == "keep":
            return await self._type(screen, self._value_for(screen.state))
        if kind == "skip":
            if message.button("跳过"):
                return await self._click(screen, "跳过")
            return await self._step(screen, ("keep",))
        if kind == "click":
            if message.button(step[1]):
                return await self._click(screen, step[1])
            return await self._type(screen, step[1])
        if kind == "type":
            return await self._type(screen, step[1])
        if kind == "multi":
            for label in step[1]:
                assert screen.message is not None
                if screen.message.button(f"✓ {label}"):
                    continue  # ticked before the bot went down and came back
                screen = await self._click(screen, label, answer=False)
            return await self._click(screen, "完成")
        raise ValueError(f"unknown step {step}")

    def _index(self, state: str | None) -> int:
        return self.order.index(state) if state in self.order else -1

    def _value_for(self, state: str | None) -> str:
        # A value the roster did not have (about one in seven people has no phone on file).
        if state in ("mobile", "guardian_mobile"):
            return make_mobile(__import__("random").Random(self.resident.code))
        raise AssertionError(f"nothing to keep at {state}")

    async def _click(self, screen: Screen, label: str, *, answer: bool = True) -> Screen:
        assert screen.message is not None
        send = self.user.click(label, message=screen.message, wait=False)
        return await self._do(send, screen, answer=answer)

    async def _type(self, screen: Screen, text: str) -> Screen:
        return await self._do(self.user.send(text, wait=False), screen)

    async def _do(self, send: Any, before: Screen | None = None, *, answer: bool = True) -> Screen:
        if before is None:
            before = read_screen(self.user, self.labels)
        previous = before.key
        since = before.message.message_id if before.message is not None else 0
        if self.think is not None and self.outcome.updates:
            try:
                await self.think()
            except asyncio.CancelledError:
                send.close()  # the run ended while this person was thinking
                raise
        loop = asyncio.get_running_loop()
        sent = loop.time()
        await act(self.server, self.user, send)
        self.outcome.updates += 1
        if answer:
            self.outcome.answers += 1
        latest: list[Screen] = []

        def changed() -> bool:
            screen = read_screen(self.user, self.labels, since)
            latest[:] = [screen]
            return screen.kind != "none" and screen.key != previous

        if self.patience is None:
            await self.server.wait_chat(self.user.id, changed, self.timeout, "next screen")
        else:
            try:
                await self.server.wait_chat(self.user.id, changed, self.patience, "next screen")
            except TimeoutError:
                raise Lost from None
        self.round_trips.append((sent, loop.time() - sent))
        return latest[0]
