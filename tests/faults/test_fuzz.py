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


# Everything one step may need, drawn in full every time: the world lives on across examples,
# so what is drawn must not depend on it (only how it is used does).
STEP = st.fixed_dictionaries(
    {
        "user": st.integers(0, 2**16),
        "action": st.sampled_from(ACTIONS),
        "odd": ODD_TEXT,
        "plausible": st.sampled_from(PLAUSIBLE),
        "plausible2": st.sampled_from(PLAUSIBLE),
        "seq": st.integers(0, 499),
        "size": st.sampled_from([300, 4096, 20_000]),
        "char": st.sampled_from(["字", "a", "😀", "\u202e"]),
        "command": st.sampled_from(COMMANDS),
        "suffix": st.sampled_from(["", " x", " 123"]),
        "index": st.integers(0, 2**16),
        "data": st.text(min_size=1, max_size=64),
        "kind": st.sampled_from(sorted(updates.CONTENT)),
    }
)


class Fuzzer:
    """Turns one drawn :data:`STEP` into updates against the current chats."""

    def __init__(self, world: World) -> None:
        self.world = world
        people = world.residents
        self.users: list[tuple[FakeUser, Any]] = [
            (world.server.user(3_000 + n, f"居民{n}"), person) for n, person in enumerate(people)
        ]
        self.users += [(world.server.user(4_000 + n, f"陌生人{n}"), None) for n in range(2)]
        self.fed: list[dict[str, Any]] = []

    def build(self, d: dict[str, Any]) -> list[dict[str, Any]]:
        server = self.world.server
        user, person = self.users[d["user"] % len(self.users)]
        action = d["action"]
        text = updates.text_update
        if action == "start_code":
            residents = self.world.residents
            code = (
                person.code if person is not None else residents[d["index"] % len(residents)].code
            )
            return [text(server, user, f"/start {code}")]
        if action == "start_random":
            return [text(server, user, "/start " + d["odd"])]
        if action == "own_id" and person is not None:
            return [text(server, user, person.id_number)]
        if action in ("own_id", "wrong_id"):
            seq = d["seq"]
            return [text(server, user, make_id_number(_birthday(seq), "F", "320505", seq))]
        if action == "plausible":
            return [text(server, user, d["plausible"] or "…")]
        if action == "odd":
            return [text(server, user, d["odd"])]
        if action == "huge":
            return [text(server, user, d["char"] * d["size"])]
        if action == "command":
            return [text(server, user, d["command"] + d["suffix"])]
        if action == "click":
            shown = [
                (message, button.callback_data)
                for message in user.bot_messages[-4:]
                for row in message.keyboard
                for button in row
                if button.callback_data
            ]
            if shown:
                message, data = shown[d["index"] % len(shown)]
                return [updates.callback_update(server, user, data, message)]
            action = "forge"
        if action == "forge":
            return [updates.callback_update(server, user, d["data"])]
        if action == "content":
            return [updates.content_update(server, user, d["kind"])]
        if action == "edited":
            return [updates.edited_update(server, user, d["odd"])]
        if action == "duplicate" and self.fed:
            recent = self.fed[-20:]
            return [recent[d["index"] % len(recent)]]
        first = text(server, user, d["plausible"] or "…")
        second = text(server, user, d["plausible2"] or "…")
        return [second, first]  # a later update first


async def _versions(world: World) -> dict[int, int]:
    from sqlalchemy import select

    from storage.models import Record

    async with world.sessions() as session:
        rows = await session.execute(select(Record.id, Record.version))
        return {record_id: version for record_id, version in rows.all()}


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
        # Every resident opens their form first, so the fuzz meets live conversations.
        for n, person in enumerate(started.residents):
            user = started.server.user(3_000 + n, f"居民{n}")
            for text in (f"/start {person.code}", person.id_number):
                runner.run(started.feed(updates.text_update(started.server, user, text)))
        started.opened_versions = runner.run(_versions(started))
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
    fuzzer = Fuzzer(w)
    for step in data.draw(st.lists(STEP, min_size=20, max_size=80), label="steps"):
        for payload in fuzzer.build(step):
            runner.run(w.feed(payload))
            fuzzer.fed.append(payload)
    assert w.errors.describe() == []
    assert runner.run(store_problems(w)) == []


def test_the_fuzz_reached_deep_into_conversations(world: tuple[asyncio.Runner, World]) -> None:
    """The random walk is not stuck at the door: records were started and moved on."""
    runner, w = world
    from sqlalchemy import func, select

    from storage.models import InboxUpdate

    async def count(model: Any) -> int:
        async with w.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

    assert len(w.opened_versions) == len(w.residents)
    moved = runner.run(_versions(w))
    # Random presses and answers moved conversations on (each accepted step bumps the version).
    assert sum(moved.values()) > sum(w.opened_versions.values())
    assert runner.run(count(InboxUpdate)) >= 1000  # distinct updates handled
