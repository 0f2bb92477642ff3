"""Residents leave and come back: a bot restart half way, a record returned by staff, and an
invite locked after too many wrong identity proofs."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import RecordStatus
from storage.repositories import records as records_repo
from storage.repositories.accounts import create_staff
from storage.repositories.invites import find_invite
from tests.fakebot import FakeTelegram
from tests.telegram.conftest import StartService
from tests.telegram.test_resident_support import (
    FORM,
    live_record,
    revisions,
    seed_person,
    synthetic_id,
    years_ago,
)


async def _eventually(check: Callable[[], bool], within: float = 5.0) -> None:
    """Wait for something the bot does on its own (the outbox sender), without a fixed sleep."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        if loop.time() > deadline:
            raise AssertionError("the expected message did not arrive")
        await asyncio.sleep(0.02)


@pytest.mark.parametrize(
    "engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
async def test_restart_half_way_resumes_at_the_same_question(
    tg: FakeTelegram,
    start_service: StartService,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    chen = await seed_person(sessions, "陈六", born=years_ago(28), sex="F", household="0005")
    first = await start_service(form=FORM)
    user = tg.user(3301, "陈六")
    await user.send(f"/start {chen.code}")
    await user.send(chen.id_number)
    await user.click("知道了，继续")
    await user.click("本人")
    await user.click("确认")
    await user.click("确认")
    await user.click("确认")
    await user.click("参保后断保")
    assert "当前常住地：省" in user.last_message.text

    # The bot goes away (its in-memory FSM with it) and a new process starts on the same DB.
    await first.stop()
    await start_service(form=FORM)

    await user.send("/start")
    assert "欢迎回来" in user.last_message.text
    assert "当前常住地：省" in user.last_message.text
    # Buttons drawn before the restart still work: the record, not the process, is the truth.
    await user.click("确认")
    assert "当前常住地：市" in user.last_message.text
    for _ in range(4):
        await user.click("确认")
    await user.click("灵活就业")
    await user.send("无缴费能力")
    await user.click("跳过")
    await user.click("确认无误")
    await user.click("确认")
    await user.click("确认")
    await user.click("提交")
    assert "灵活就业人员参保政策" in user.last_message.text

    record = await live_record(sessions, chen.person_id)
    (revision,) = await revisions(sessions, record.id)
    assert revision.answers["insured_status"] == "lapsed"
    assert revision.answers["current_status"] == "flexible"
    assert revision.answers["uninsured_reasons"] == ["cannot_afford"]


async def test_returned_record_reopens_only_marked_fields_and_resubmits(
    tg: FakeTelegram,
    start_service: StartService,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    sun = await seed_person(sessions, "孙七", born=years_ago(45), household="0006")
    await start_service(form=FORM)
    user = tg.user(3401, "孙七")
    await user.send(f"/start {sun.code}")
    await user.send(sun.id_number)
    await user.click("知道了，继续")
    await user.click("本人")
    for _ in range(3):
        await user.click("确认")
    await user.click("从未参保")
    for _ in range(5):
        await user.click("确认")
    await user.click("无业")
    await user.click("单位未参保")
    await user.click("完成")
    await user.click("跳过")
    # A consistency hint at the review: confirmed once, it is not asked again.
    assert "⚠ 未参保原因选了“单位未参保”" in user.last_message.text
    assert "确认无误" not in user.last_message.buttons
    await user.click("核对无误，继续")
    await user.click("确认")
    await user.click("确认")
    await user.click("提交")

    record = await live_record(sessions, sun.person_id)
    assert record.flags == ["W_EMPLOYER_REASON"]
    async with sessions() as session, session.begin():
        staff = await create_staff(session, "reviewer1", "correct horse battery")
        stored = await records_repo.get_record(session, record.id)
        await records_repo.return_record(
            session, stored, staff=staff, comment="手机号码无法接通，请核对", fields=["mobile"]
        )
    # The outbox sender tells the resident why.
    await _eventually(lambda: "需要修改：手机号码无法接通" in (user.last_message.text or ""))

    await user.send("/status")
    assert "已退回修改：手机号码无法接通，请核对" in user.last_message.text

    await user.send("好的")
    assert "被退回修改" in user.last_message.text
    assert "需要修改：手机号码" in user.last_message.text
    assert "手机号码" in user.last_message.text and "已填写" in user.last_message.text
    await user.send("13700001111")
    # Only the marked field was asked: straight back to the review.
    assert "请核对" in user.last_message.text
    await user.click("确认无误")
    await user.click("确认")
    await user.click("确认")
    await user.click("提交")
    assert "提交成功" in user.last_message.text

    record = await live_record(sessions, sun.person_id)
    assert record.status == RecordStatus.submitted
    first, second = await revisions(sessions, record.id)
    assert first.answers["mobile"] == sun.mobile
    assert second.answers["mobile"] == "13700001111"
    assert {k: v for k, v in second.answers.items() if k != "mobile"} == {
        k: v for k, v in first.answers.items() if k != "mobile"
    }


async def test_identity_proof_locks_after_five_wrong_numbers(
    tg: FakeTelegram,
    start_service: StartService,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    zhou = await seed_person(sessions, "周八", born=years_ago(60), household="0007")
    await start_service(form=FORM)
    user = tg.user(3501, "冒名者")
    await user.send(f"/start {zhou.code}")
    # Five digits cannot be anyone's number: a hint, and no try used up.
    await user.send("12345")
    assert "不计入核对次数" in user.last_message.text
    for left in (4, 3, 2, 1):
        await user.send(synthetic_id(years_ago(20 + left)))
        assert f"还可以再试 {left} 次" in user.last_message.text
    await user.send(synthetic_id(years_ago(19)))
    assert "已被锁定" in user.last_message.text

    # Even the right number does not help now; the link itself reports the lock.
    await user.send(zhou.id_number)
    assert "登记链接" in user.last_message.text
    await user.send(f"/start {zhou.code}")
    assert "已被锁定" in user.last_message.text
    async with sessions() as session:
        invite = await find_invite(session, zhou.code or "")
        assert invite is not None and invite.locked_at is not None
        assert invite.failed_attempts == 5
        assert invite.verified_at is None
    # Every number typed was deleted from the chat after it was checked.
    assert not any(m.text and zhou.id_number in m.text for m in user.messages if not m.from_bot)


@pytest.mark.redis
@pytest.mark.parametrize(
    "engine", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
async def test_identity_step_survives_restart_with_redis_and_postgresql(
    tg: FakeTelegram,
    start_service: StartService,
    sessions: async_sessionmaker[AsyncSession],
    redis_url: str,
) -> None:
    prefix = f"canbao-test-{secrets.token_hex(4)}"

    def storage() -> RedisStorage:
        return RedisStorage.from_url(
            redis_url, key_builder=DefaultKeyBuilder(prefix=prefix, with_bot_id=True)
        )

    feng = await seed_person(sessions, "冯十一", born=years_ago(52), household="0008")
    try:
        first = await start_service(form=FORM, fsm_storage=storage())
        user = tg.user(3601, "冯十一")
        await user.send(f"/start {feng.code}")
        assert "平江路社区冯某" in user.last_message.text
        await first.stop()

        # The pending identity proof lives in Redis: the new process takes the number.
        await start_service(form=FORM, fsm_storage=storage())
        await user.send(feng.id_number)
        assert "身份核对成功" in user.last_message.text
        await user.click("知道了，继续")
        await user.click("指定代理人")
        assert "姓名" in user.last_message.text
        record = await live_record(sessions, feng.person_id)
        assert record.state["answers"]["filler_role"] == "proxy"
    finally:
        redis = Redis.from_url(redis_url)
        keys = [key async for key in redis.scan_iter(f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


async def test_after_cancel_typed_text_is_not_taken_as_an_answer(
    tg: FakeTelegram,
    start_service: StartService,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    wu = await seed_person(sessions, "吴九", born=years_ago(36), household="0009")
    await start_service(form=FORM)
    user = tg.user(3601, "吴九")
    await user.send(f"/start {wu.code}")
    await user.send(wu.id_number)
    await user.click("知道了，继续")
    await user.click("本人")
    assert "姓名" in user.last_message.text
    await user.send("/cancel")
    assert "已暂停" in user.last_message.text
    await user.send("吴九九")  # meant for someone else, or typed by mistake: not an answer
    assert "已暂停" in user.last_message.text and "/start" in user.last_message.text
    record = await live_record(sessions, wu.person_id)
    assert "name" not in record.state["answers"]
    await user.send("/start")
    assert "欢迎回来" in user.last_message.text and "姓名" in user.last_message.text
    await user.send("吴九")
    record = await live_record(sessions, wu.person_id)
    assert record.state["answers"]["name"] == "吴九"
