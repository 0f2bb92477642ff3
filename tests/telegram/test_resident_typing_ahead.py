"""A typed answer counts only for a question the resident has seen.

Message ids of a private chat count both sides' messages in one sequence, so the bot can tell
a text written before the current question appeared: sent twice by an impatient thumb, or
typed at a copy of the previous question that arrived late (after a restart, /start pressed
twice). Such a text is not applied to the question that happens to be current.
"""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.fakebot import FakeTelegram, FakeUser
from tests.telegram.conftest import StartService
from tests.telegram.test_resident_support import FORM, Seeded, live_record, seed_person, years_ago

NOT_TAKEN = "这条消息是在下面这道题显示之前发出的"


async def _to_residence_road(user: FakeUser, person: Seeded) -> None:
    await user.send(f"/start {person.code}")
    await user.send(person.id_number)
    await user.click("知道了，继续")
    await user.click("本人")
    for _ in range(3):  # name, ID number, mobile from the roster
        await user.click("确认")
    await user.click("从未参保")
    for _ in range(3):  # 省, 市, 区 from the roster
        await user.click("确认")
    assert "当前常住地：路" in user.last_message.text


@pytest.mark.parametrize(
    "engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
async def test_an_answer_sent_twice_is_not_taken_for_the_next_question(
    tg: FakeTelegram,
    start_service: StartService,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    li = await seed_person(sessions, "李四", born=years_ago(35))
    await start_service(form=FORM)
    user = tg.user(3401, "李四")
    await _to_residence_road(user, li)

    # Sent twice before the bot could answer the first: both are older than the 号 question.
    await user.send("干将路", wait=False)
    await user.send("干将路", wait=False)
    await user.wait_reply()

    last = user.last_message.text
    assert last.startswith(NOT_TAKEN), last
    assert "当前常住地：号" in last
    state = (await live_record(sessions, li.person_id)).state
    assert state["answers"]["residence"]["road"] == "干将路"
    assert "number" not in state["answers"]["residence"]

    # Typed after the question appeared, an answer counts as usual.
    await user.send("8号")
    assert "当前状态" in user.last_message.text
    state = (await live_record(sessions, li.person_id)).state
    assert state["answers"]["residence"]["number"] == "8号"


async def test_after_a_restart_a_typed_answer_counts_for_the_question_shown_before(
    tg: FakeTelegram,
    start_service: StartService,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    wang = await seed_person(sessions, "王五", born=years_ago(29))
    first = await start_service(form=FORM)
    user = tg.user(3402, "王五")
    await _to_residence_road(user, wang)

    # A new process without the old one's memory: where the 路 question was shown is kept
    # with the record, so the text typed after it answers it.
    await first.stop()
    await start_service(form=FORM)
    await user.send("干将路")
    last = user.last_message.text
    assert not last.startswith(NOT_TAKEN) and "当前常住地：号" in last, last
    state = (await live_record(sessions, wang.person_id)).state
    assert state["answers"]["residence"]["road"] == "干将路"


async def test_after_a_restart_an_answer_sent_twice_is_still_not_taken_twice(
    tg: FakeTelegram,
    start_service: StartService,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    zhao = await seed_person(sessions, "赵七", born=years_ago(31))
    first = await start_service(form=FORM)
    user = tg.user(3403, "赵七")
    await _to_residence_road(user, zhao)
    await first.stop()
    await start_service(form=FORM)

    await user.send("干将路", wait=False)
    await user.send("干将路", wait=False)
    await user.wait_reply()
    last = user.last_message.text
    assert last.startswith(NOT_TAKEN) and "当前常住地：号" in last, last
    state = (await live_record(sessions, zhao.person_id)).state
    assert state["answers"]["residence"]["road"] == "干将路"
    assert "number" not in state["answers"]["residence"]
