"""A Telegram conversation leaves no ID number, mobile or name in the SQLite file: the
updates as received (``inbox``), the state and the roster are all sealed."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import InboxUpdate
from tests.fakebot import FakeTelegram
from tests.telegram.conftest import StartService
from tests.telegram.test_resident_support import FORM, seed_person, synthetic_id, years_ago


def _database_files(directory: Path) -> bytes:
    files = [p for p in directory.rglob("*") if p.is_file() and ".db" in p.name]
    assert any(p.name.endswith(".db") for p in files), files
    return b"".join(p.read_bytes() for p in files)


async def test_a_telegram_walk_leaves_no_number_or_name_in_the_file(
    tg: FakeTelegram,
    start_service: StartService,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    zhang = await seed_person(sessions, "张三丰", born=years_ago(40), sex="M")
    await start_service(mode="polling", form=FORM)
    user = tg.user(3001, "张三丰")
    await user.send(f"/start {zhang.code}")
    wrong = synthetic_id(years_ago(41))
    await user.send(wrong)
    await user.send(zhang.id_number)
    assert "身份核对成功" in user.last_message.text
    await user.click("知道了，继续")
    await user.click("本人")
    await user.click("确认")
    await user.click("确认")
    assert "手机号码" in user.last_message.text
    await user.send("13900005678")
    async with sessions() as session:
        payloads = (await session.scalars(select(InboxUpdate.payload))).all()
    assert any(p.get("message", {}).get("text") == "13900005678" for p in payloads)

    data = _database_files(tmp_path)
    typed = [zhang.id_number, wrong, "13900005678", "13812345678", "张三丰"]
    assert [s for s in typed if s.encode() in data] == []
