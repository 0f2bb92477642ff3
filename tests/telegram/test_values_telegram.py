"""Values in the Telegram chat: another person's number warned about and flagged, ID numbers in
备注 masked wherever the chat shows them, every typed ID number deleted, free text stored clean,
a second account's identity proof told to the first, and Beijing dates on a UTC server."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.synthetic import make_id_number
from storage.models import AuditEvent, FilledBy, Investigator, Person, RecordStatus
from storage.repositories.actors import Actor
from storage.repositories.records import get_or_start_draft
from storage.types import frozen_time
from tests.fakebot import FakeTelegram, FakeUser
from tests.telegram.conftest import StartService
from tests.telegram.test_resident_support import (
    FORM,
    Seeded,
    live_record,
    seed_investigator,
    seed_person,
    synthetic_id,
    years_ago,
)


async def _eventually(check: Callable[[], bool], within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        if loop.time() > deadline:
            raise AssertionError("the expected message did not arrive")
        await asyncio.sleep(0.02)


async def _to_id_question(user: FakeUser, person: Seeded) -> None:
    await user.send(f"/start {person.code}")
    await user.send(person.id_number)
    await user.click("知道了，继续")
    await user.click("本人")
    await user.click("确认")  # the name from the roster
    assert "公民身份号码" in user.last_message.text


async def _to_remarks(user: FakeUser) -> None:
    await user.click("确认")  # mobile
    await user.click("从未参保")
    for _ in range(5):  # 省 市 区 路 号 from the roster
        await user.click("确认")
    await user.click("无业")
    await user.click("无缴费能力")
    await user.click("完成")
    assert "备注" in user.last_message.text


async def _submit(user: FakeUser) -> None:
    await user.click("确认无误")
    await user.click("确认")  # confirmer
    await user.click("确认")  # acknowledgement
    await user.click("提交")
    assert "提交成功" in user.last_message.text


async def test_another_roster_persons_number_is_warned_and_flagged(
    tg: FakeTelegram, start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    wu = await seed_person(sessions, "吴一", born=years_ago(40))
    zheng = await seed_person(sessions, "郑二", born=years_ago(35), household="0002")
    await start_service(form=FORM)
    user = tg.user(3601, "吴一")
    await _to_id_question(user, wu)
    sent = await user.send(zheng.id_number)
    assert sent.deleted
    assert "属于名册上的另一位人员" in user.last_message.text
    assert "手机号码" in user.last_message.text  # the resident may go on
    await _to_remarks(user)
    await user.click("跳过")
    await _submit(user)
    record = await live_record(sessions, wu.person_id)
    assert record.status == RecordStatus.submitted
    assert record.answered_id_number == zheng.id_number
    assert {"id_changed", "id_conflict"} <= set(record.flags)


async def test_the_road_is_not_prefilled_with_the_street_office(
    tg: FakeTelegram, start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    qian = await seed_person(
        sessions, "钱三", born=years_ago(45), residence="江苏省苏州市姑苏区双塔街道人民路100号"
    )
    await start_service(form=FORM)
    user = tg.user(3602, "钱三")
    await _to_id_question(user, qian)
    await user.click("确认")
    await user.click("确认")  # mobile
    await user.click("从未参保")
    for _ in range(3):  # 省 市 区
        await user.click("确认")
    assert "预填信息：人民路" in user.last_message.text, user.last_message.text
    await user.click("确认")
    assert "预填信息：100" in user.last_message.text


async def test_an_id_number_in_remarks_is_masked_in_the_review_and_summary(
    tg: FakeTelegram, start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    qian = await seed_person(sessions, "钱四", born=years_ago(45))
    child = synthetic_id(years_ago(10))
    masked = f"{child[:4]}**********{child[-4:]}"
    await start_service(form=FORM)
    user = tg.user(3609, "钱四")
    await _to_id_question(user, qian)
    await user.click("确认")
    await _to_remarks(user)
    sent = await user.send(f"孩子的身份证是 {child[:6]} {child[6:]}")
    assert sent.deleted
    review = user.last_message.text
    assert "请核对" in review and masked in review and child not in review
    await user.send("/summary")
    assert masked in user.last_message.text and child not in user.last_message.text
    await user.click("改：备注")
    assert masked in user.last_message.text and child not in user.last_message.text
    assert not any(m.text and child in m.text for m in user.messages)


@pytest.mark.parametrize(
    "engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
async def test_remarks_typed_with_control_characters_are_stored_clean(
    tg: FakeTelegram, start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    sun = await seed_person(sessions, "孙四", born=years_ago(50))
    await start_service(form=FORM)
    user = tg.user(3603, "孙四")
    await _to_id_question(user, sun)
    await user.click("确认")
    await _to_remarks(user)
    await user.send("a\u0001b\u200bc\u202e x\ud800y")
    assert "请核对" in user.last_message.text
    record = await live_record(sessions, sun.person_id)
    assert record.state["answers"]["remarks"] == "abc x\ufffdy"


async def test_a_wrong_id_typed_when_adding_a_person_is_deleted(
    tg: FakeTelegram, start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_person(sessions, "李五", born=years_ago(38), household="0101")
    _investigator, code = await seed_investigator(sessions, "周调查")
    await start_service(form=FORM)
    worker = tg.user(4601, "周调查")
    await worker.send(f"/start {code}")
    await worker.send("/households")
    await worker.click("• 0101")
    await worker.click("添加名册外人员")
    await worker.send("李多多")
    good = synthetic_id(years_ago(12))
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    sent = await worker.send(bad)
    assert sent.deleted
    assert "校验位" in worker.last_message.text
    sent = await worker.send(f"{good[:6]}－{good[6:]}")  # full-width dash: accepted
    assert sent.deleted
    assert "已添加 李多多" in worker.last_message.text


async def test_a_second_account_proving_the_identity_is_told_to_the_first(
    tg: FakeTelegram, start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    zhou = await seed_person(sessions, "周六", born=years_ago(33))
    await start_service(form=FORM)
    first = tg.user(3604, "周六")
    await first.send(f"/start {zhou.code}")
    await first.send(zhou.id_number)
    assert "身份核对成功" in first.last_message.text
    second = tg.user(3605, "周六新号")
    await second.send(f"/start {zhou.code}")
    await second.send(zhou.id_number)
    assert "身份核对成功" in second.last_message.text

    await _eventually(lambda: "另一个 Telegram 账号" in first.last_message.text)
    record = await live_record(sessions, zhou.person_id)
    assert record.notify_chat_id == str(second.id)
    async with sessions() as session:
        events = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "identity_taken_over")
            )
        ).all()
    assert len(events) == 1
    assert events[0].person_id == zhou.person_id and events[0].record_id == record.id
    assert events[0].details["previous_chat_id"] == str(first.id)
    # The same account proving it again is no take-over.
    await second.send(f"/start {zhou.code}")
    assert "欢迎回来" in second.last_message.text


# 01:05 on 1 April 2027 in Beijing is still 31 March in UTC.
NIGHT = dt.datetime(2027, 3, 31, 17, 5, tzinfo=dt.UTC)
BEIJING_DAY = NIGHT.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()


async def test_collection_date_and_shown_dates_are_beijing_dates_on_a_utc_server(
    tg: FakeTelegram,
    start_service: StartService,
    sessions: async_sessionmaker[AsyncSession],
    utc_server: None,
) -> None:
    feng = await seed_person(sessions, "冯七", born=years_ago(30))
    collected = await seed_person(sessions, "冯八", born=years_ago(31), household="0002")
    investigator_id, _code = await seed_investigator(sessions, "周调查")
    await start_service(form=FORM)
    with frozen_time(NIGHT):
        async with sessions() as session, session.begin():
            investigator = await session.get(Investigator, investigator_id)
            person = await session.get(Person, collected.person_id)
            assert investigator is not None and person is not None
            await get_or_start_draft(
                session,
                person,
                form_id=FORM.id,
                form_version=FORM.version,
                filled_by=FilledBy.investigator,
                state={"answers": {}},
                actor=Actor.investigator(investigator),
                investigator=investigator,
            )
        user = tg.user(3606, "冯七")
        await user.send(f"/start {feng.code}")
        await user.send(feng.id_number)
        record = await live_record(sessions, feng.person_id)
        assert record.state["context"]["collection_date"] == BEIJING_DAY

        other = tg.user(3607, "冯八")
        await other.send(f"/start {collected.code}")
        await other.send(collected.id_number)
        assert f"于 {BEIJING_DAY} 办理" in other.last_message.text, other.last_message.text


async def test_a_changed_number_of_nobody_else_is_noted_and_flagged(
    tg: FakeTelegram, start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    born = years_ago(20)
    he = await seed_person(sessions, "何九", born=born)
    fresh = make_id_number(born, "M", "320503", 321)
    await start_service(form=FORM)
    user = tg.user(3608, "何九")
    await _to_id_question(user, he)
    await user.send(fresh)
    assert "与名册上登记的不同" in user.last_message.text
    await _to_remarks(user)
    await user.click("跳过")
    await _submit(user)
    assert (await live_record(sessions, he.person_id)).flags == ["id_changed"]
