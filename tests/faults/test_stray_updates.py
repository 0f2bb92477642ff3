"""Updates that must change nothing beyond a short answer: duplicates, late (out-of-order)
updates, edited messages, strangers, and buttons from someone else's record."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.models import Record
from tests.fakebot import FakeUser
from tests.faults import updates
from tests.faults.world import World, running_world, store_problems


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with running_world(tmp_path, residents=3) as w:
        yield w


async def _click(world: World, user: FakeUser, label: str) -> dict[str, Any]:
    message = next(m for m in reversed(user.bot_messages) if m.button(label))
    button = message.button(label)
    assert button is not None and button.callback_data is not None
    payload = updates.callback_update(world.server, user, button.callback_data, message)
    await world.feed(payload)
    return payload


async def _record(world: World) -> tuple[int, int, dict[str, Any]]:
    async with world.sessions() as session:
        record = (await session.scalars(select(Record))).one()
        return record.id, record.version, record.state


async def _records(world: World) -> int:
    async with world.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Record)) or 0)


async def _started(world: World) -> FakeUser:
    """A resident who has proved who they are and answered two questions."""
    person = world.residents[0]
    user = world.server.user(81_001, person.name)
    await world.feed(updates.text_update(world.server, user, f"/start {person.code}"))
    await world.feed(updates.text_update(world.server, user, person.id_number))
    await _click(world, user, "知道了，继续")
    await _click(world, user, "本人")
    return user


async def test_duplicates_and_late_updates_change_nothing(world: World) -> None:
    user = await _started(world)
    before = await _record(world)
    calls = len(world.server.calls)

    last = updates.callback_update(world.server, user, "x", user.bot_messages[-1])
    await world.feed(last)  # a stray press: a short answer only
    await world.feed(last)  # the same update again: nothing at all
    assert [c.method for c in world.server.calls[calls:]] == ["answerCallbackQuery"]
    assert await _record(world) == before

    # Two typed answers whose updates arrive in the wrong order: the later one counts, the
    # late one is dropped (it answered a question the resident had already moved past).
    first = updates.text_update(world.server, user, "张三丰")
    second = updates.text_update(world.server, user, "李四")
    await world.feed(second)
    after_second = await _record(world)
    await world.feed(first)
    assert await _record(world) == after_second
    assert world.errors.describe() == []
    assert await store_problems(world) == []


async def test_edited_messages_and_strangers_get_a_short_answer_only(world: World) -> None:
    user = await _started(world)
    before = await _record(world)
    stranger = world.server.user(81_999, "路人")

    sent_before = len(world.server.calls)
    await world.feed(updates.edited_update(world.server, user, "改过的答案"))
    for text in ("/start", "你好", "/start not-a-real-code", "/households", "/progress"):
        await world.feed(updates.text_update(world.server, stranger, text))
    await world.feed(updates.content_update(world.server, stranger, "sticker"))
    await world.feed(updates.callback_update(world.server, stranger, "q:1:1:c:never"))

    assert await _record(world) == before
    assert await _records(world) == 1
    new = world.server.calls[sent_before:]
    assert {c.method for c in new} <= {"sendMessage", "answerCallbackQuery"}
    # At most one short message per update, none longer than a few lines.
    assert len([c for c in new if c.method == "sendMessage"]) <= 7
    assert all(len(str(c.params.get("text", ""))) < 300 for c in new)
    assert world.errors.describe() == []


async def test_a_button_from_someone_elses_record_is_refused(world: World) -> None:
    owner = await _started(world)
    before = await _record(world)
    other = world.residents[1]
    intruder = world.server.user(81_002, other.name)
    await world.feed(updates.text_update(world.server, intruder, f"/start {other.code}"))
    await world.feed(updates.text_update(world.server, intruder, other.id_number))

    # The owner's current question buttons, pressed by the intruder on their own chat.
    shown = [b.callback_data for b in owner.bot_messages[-1].keyboard[0] if b.callback_data]
    assert shown
    payload = updates.callback_update(world.server, intruder, shown[0])
    await world.feed(payload)

    query = world.server.callback_queries[payload["callback_query"]["id"]]
    assert query["answered"] and "不属于" in (query.get("text") or "")
    async with world.sessions() as session:
        mine = await session.get(Record, before[0])
        assert mine is not None and (mine.version, mine.state) == before[1:]
    assert world.errors.describe() == []
    assert await store_problems(world) == []
