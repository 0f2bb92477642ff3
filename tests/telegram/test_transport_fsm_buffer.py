"""The user's FSM data is read once and written at most once per update (each is a Redis
round trip when scaled out), and what a handler wrote is there for the next update."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.fakebot import FakeTelegram
from tests.telegram.conftest import StartService
from tests.telegram.test_resident_support import FORM, live_record, seed_person, years_ago


class CountingStorage(MemoryStorage):
    """Memory storage that counts data reads and writes."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        self.calls["get_data"] += 1
        return await super().get_data(key)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        self.calls["set_data"] += 1
        await super().set_data(key, data)


async def test_one_read_and_one_write_of_the_fsm_data_per_update(
    tg: FakeTelegram,
    start_service: StartService,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    storage = CountingStorage()
    person = await seed_person(sessions, "宋佳", born=years_ago(33), sex="F", household="0008")
    await start_service(form=FORM, fsm_storage=storage)
    user = tg.user(3501, "宋佳")
    await user.send(f"/start {person.code}")
    await user.send(person.id_number)
    await user.click("知道了，继续")
    await user.click("本人")

    steps = 0
    storage.calls.clear()
    for _ in range(3):  # name, ID number and mobile from the roster
        await user.click("确认")
        steps += 1
    await user.click("从未参保")
    await user.click("确认")  # 省
    await user.send("/back")
    steps += 3
    assert "当前常住地：省" in user.last_message.text
    assert storage.calls["get_data"] == steps, storage.calls
    assert storage.calls["set_data"] == steps, storage.calls

    # What was buffered reached the storage: the question asked, seen by the next update.
    await user.send("江苏省")
    assert "当前常住地：市" in user.last_message.text
    record = await live_record(sessions, person.person_id)
    assert record.state["answers"]["residence"]["province"] == "江苏省"
