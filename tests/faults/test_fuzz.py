"""Thousands of random updates through the real dispatcher: nothing breaks, nothing corrupts.

Residents with real invites, strangers, and a mix of everything a client can send: the right
and wrong ID numbers, plausible and absurd answers, huge and exotic unicode text, commands,
presses on the buttons the bot showed (old and new), forged callback data, stickers, photos,
edited messages, duplicated and swapped updates. After each example: no error was logged
(every failure would be), every stored record restores into a conversation, every handed-in
record is complete, one live record per person, no update failed in the inbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.synthetic import make_id_number
from tests.fakebot import FakeUser
from tests.faults import updates
from tests.faults.world import World, running_world, store_problems

COMMANDS = [
    "/start",
    "/help",
    "/back",
    "/summary",
    "/cancel",
    "/status",
    "/households",
    "/progress",
]
PLAUSIBLE = [
    "本人",
    "监护人",
    "确认",
    "跳过",
    "完成",
    "从未参保",
    "参保后断保",
    "江苏省",
    "苏州市",
    "姑苏区",
    "人民路",
    "100",
    "单位就业",
    "无业",
    "灵活就业",
    "苏州某某公司",
    "无缴费能力",
    "13800138000",
    "1380013800",
    "王小明",
    "是",
    "否",
    "0",
    "-1",
    "",
    " ",
    "\n",
]
ODD_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=80
)
ACTIONS = [
    "start_code",
    "start_random",
    "own_id",
    "wrong_id",
    "plausible",
    "odd",
    "huge",
    "command",
    "click",
    "click",
    "click",
    "click",
    "forge",
    "content",
    "edited",
    "duplicate",
    "swap",
]


class Fuzzer:
    """Draws one random update at a time against the current chats."""

    def __init__(self, world: World, data: st.DataObject) -> None:
        self.world = world
        self.data = data
        people = world.residents
        self.users: list[tuple[FakeUser, Any]] = [
            (world.server.user(3_000 + n, f"居民{n}"), person) for n, person in enumerate(people)
        ]
        self.users += [(world.server.user(4_000 + n, f"陌生人{n}"), None) for n in range(2)]
        self.fed: list[dict[str, Any]] = []

    def draw(self, strategy: st.SearchStrategy[Any], label: str) -> Any:
        return self.data.draw(strategy, label=label)

    def build(self) -> list[dict[str, Any]]:
        server = self.world.server
        user, person = self.draw(st.sampled_from(self.users), "user")
        action = self.draw(st.sampled_from(ACTIONS), "action")
        text = updates.text_update
        if action == "start_code":
            codes = [p.code for p in self.world.residents]
            code = person.code if person is not None else self.draw(st.sampled_from(codes), "code")
            return [text(server, user, f"/start {code}")]
        if action == "start_random":
            return [text(server, user, "/start " + self.draw(ODD_TEXT, "code"))]
        if action == "own_id" and person is not None:
            return [text(server, user, person.id_number)]
        if action in ("own_id", "wrong_id"):
            seq = self.draw(st.integers(0, 499), "seq")
            return [text(server, user, make_id_number(_birthday(seq), "F", "320505", seq))]
        if action == "plausible":
            return [text(server, user, self.draw(st.sampled_from(PLAUSIBLE), "text") or "…")]
        if action == "odd":
            return [text(server, user, self.draw(ODD_TEXT, "text"))]
        if action == "huge":
            size = self.draw(st.sampled_from([300, 4096, 20_000]), "size")
            char = self.draw(st.sampled_from(["字", "a", "😀", "\u202e"]), "char")
            return [text(server, user, char * size)]
        if action == "command":
            command = self.draw(st.sampled_from(COMMANDS), "command")
            suffix = self.draw(st.sampled_from(["", " x", " 123"]), "args")
            return [text(server, user, command + suffix)]
        if action == "click":
            shown = [
                (message, button.callback_data)
                for message in user.bot_messages[-4:]
                for row in message.keyboard
                for button in row
                if button.callback_data
            ]
            if shown:
                message, data = self.draw(st.sampled_from(shown), "button")
                return [updates.callback_update(server, user, data, message)]
            action = "forge"
        if action == "forge":
            data = self.draw(st.text(min_size=1, max_size=64), "data")
            return [updates.callback_update(server, user, data)]
        if action == "content":
            kind = self.draw(st.sampled_from(sorted(updates.CONTENT)), "kind")
            return [updates.content_update(server, user, kind)]
        if action == "edited":
            return [updates.edited_update(server, user, self.draw(ODD_TEXT, "text"))]
        if action == "duplicate" and self.fed:
            return [self.draw(st.sampled_from(self.fed[-20:]), "again")]
        first = text(server, user, self.draw(st.sampled_from(PLAUSIBLE), "text") or "…")
        second = text(server, user, self.draw(st.sampled_from(PLAUSIBLE), "text") or "…")
        return [second, first]  # a later update first


def _birthday(seq: int) -> Any:
    import datetime as dt

    return dt.date(1960, 1, 1) + dt.timedelta(days=seq * 37)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[asyncio.Runner, World]]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    runner = asyncio.Runner()
    context = running_world(tmp, residents=6)
    started = runner.run(context.__aenter__())
    try:
        yield runner, started
    finally:
        runner.run(context.__aexit__(None, None, None))
        runner.close()


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_updates_never_break_or_corrupt_anything(
    world: tuple[asyncio.Runner, World], data: st.DataObject
) -> None:
    runner, w = world
    fuzzer = Fuzzer(w, data)
    steps = data.draw(st.integers(min_value=20, max_value=80), label="steps")
    for _ in range(steps):
        for payload in fuzzer.build():
            runner.run(w.feed(payload))
            fuzzer.fed.append(payload)
    assert w.errors.describe() == []
    assert runner.run(store_problems(w)) == []


def test_the_fuzz_reached_deep_into_conversations(world: tuple[asyncio.Runner, World]) -> None:
    """The random walk is not stuck at the door: records were started and moved on."""
    runner, w = world
    from sqlalchemy import func, select

    from storage.models import Record

    async def count() -> int:
        async with w.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(Record)) or 0)

    assert runner.run(count()) > 0
