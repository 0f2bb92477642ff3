"""More resident conversations: a minor with a guardian, insurance elsewhere, and what a
chat can throw at the bot (duplicates, double taps, forged buttons, flood control, noise)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.telegram.callbacks import Op, StepCb
from storage.models import RecordStatus
from tests.fakebot import FakeTelegram
from tests.telegram.conftest import StartService
from tests.telegram.test_resident_support import (
    FORM,
    live_record,
    revisions,
    seed_person,
    synthetic_id,
    without_dates,
    years_ago,
)


async def _verified(user: object, code: str | None, id_number: str) -> None:
    await user.send(f"/start {code}")  # type: ignore[attr-defined]
    await user.send(id_number)  # type: ignore[attr-defined]
    await user.click("知道了，继续")  # type: ignore[attr-defined]


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_minor_registered_by_guardian(
    tg: FakeTelegram,
    start_service: StartService,
    sessions: async_sessionmaker[AsyncSession],
    mode: str,
) -> None:
    child = await seed_person(
        sessions, "王小红", born=years_ago(4), sex="F", mobile=None, household="0002"
    )
    parent_id = synthetic_id(years_ago(34), "M")
    await start_service(mode=mode, form=FORM)
    user = tg.user(3101, "王大明")

    await _verified(user, child.code, child.id_number)
    await user.click("监护人")
    await user.click("确认")  # name from the roster
    await user.click("确认")  # ID number from the roster
    # Under 16: the child's own mobile may be left empty (the guardian's is asked).
    assert "手机号码" in user.last_message.text and "跳过" in user.last_message.buttons
    await user.click("跳过")
    assert "监护人姓名" in user.last_message.text
    await user.send("王大明")
    # The guardian must be an adult and not the child.
    await user.send(child.id_number)
    assert "监护人须年满18周岁" in user.last_message.text
    await user.send(parent_id)
    await user.send("13900005678")
    await user.click("从未参保")
    for _ in range(5):
        await user.click("确认")  # the roster's address
    await user.click("学龄前")
    await user.click("政策不了解")
    await user.click("完成")
    await user.click("跳过")  # 备注
    assert "监护人公民身份号码" in user.last_message.text
    assert parent_id not in user.last_message.text
    await user.click("确认无误")
    assert (
        "已填写：王大明" in user.last_message.text or "预填信息：王大明" in user.last_message.text
    )
    await user.click("确认")  # the confirmer defaults to the guardian
    await user.click("确认")  # acknowledgement
    await user.click("提交")
    assert "提交成功" in user.last_message.text

    record = await live_record(sessions, child.person_id)
    (revision,) = await revisions(sessions, record.id)
    assert without_dates(revision.answers) == {
        "filler_role": "guardian",
        "name": "王小红",
        "id_number": child.id_number,
        "mobile": None,
        "guardian_name": "王大明",
        "guardian_id_number": parent_id,
        "guardian_mobile": "13900005678",
        "insured_status": "never",
        "residence": {
            "province": "江苏省",
            "city": "苏州市",
            "district": "姑苏区",
            "road": "人民路",
            "number": "100",
        },
        "current_status": "preschool",
        "uninsured_reasons": ["unaware"],
        "remarks": None,
        "confirmer_name": "王大明",
        "acknowledgement": True,
        "sex": "female",
    }
    assert revision.answers["age"] == 4


async def test_insured_elsewhere_through_duplicates_forgeries_and_flood_control(
    tg: FakeTelegram,
    start_service: StartService,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    li = await seed_person(sessions, "李四", born=years_ago(50), household="0003")
    other = await seed_person(sessions, "赵五", born=years_ago(30), household="0004")
    await start_service(form=FORM)
    user = tg.user(3201, "李四")
    stranger = tg.user(3202, "赵五")

    # Someone else's draft exists: their record id must not be usable from this chat.
    await _verified(stranger, other.code, other.id_number)
    other_record = await live_record(sessions, other.person_id)

    await _verified(user, li.code, li.id_number)
    await user.click("本人")
    # Telegram's flood control on the next reply: the bot waits retry_after and goes on.
    tg.fail("sendMessage", status=429, retry_after=1, times=1)
    await user.send("李思")  # corrects the roster's name
    assert [c.status for c in tg.calls_of("sendMessage")[-2:]] == [429, 200]
    assert "公民身份号码" in user.last_message.text

    # The same update delivered twice changes nothing the second time.
    version = (await live_record(sessions, li.person_id)).version
    sends = len(tg.sends_to(user.id))
    await user.repeat_last()
    assert (await live_record(sessions, li.person_id)).version == version
    assert len(tg.sends_to(user.id)) == sends

    await user.click("确认")  # ID
    await user.click("确认")  # mobile
    # A double tap: the second press finds the button stale and changes nothing.
    await user.double_click("在外地参保（或享受社保待遇）")
    record = await live_record(sessions, li.person_id)
    assert record.version == version + 3
    assert "参保地" in user.last_message.text
    assert sum("参保地" in (m.text or "") for m in user.bot_messages) == 1

    # Forged buttons: unparsable data, and someone else's record with a plausible nonce.
    await user.forge_click("q:1:zz:c:never")
    assert user.last_answer is not None and "无效" in user.last_answer["text"]
    foreign = StepCb(r=other_record.id, v=other_record.version, o=Op.choose, x="never")
    await user.forge_click(foreign.pack())
    assert user.last_answer is not None and "不属于" in user.last_answer["text"]
    assert (await live_record(sessions, other.person_id)).version == other_record.version
    assert (await live_record(sessions, li.person_id)).version == record.version

    # A photo and a very long text are not answers.
    await user.send_photo()
    assert user.last_message.text.startswith("请用文字回答")
    await user.send("很长" * 400)
    assert "内容太长" in user.last_message.text
    assert "参保地" in user.last_message.text

    await user.click("浙江省")
    await user.send("杭州")
    assert "养老保险" in user.last_message.text
    await user.click("跳过")
    assert "医疗保险" in user.last_message.text and "跳过" not in user.last_message.buttons
    await user.click("职工医保")
    await user.send("无")  # 备注
    await user.click("确认无误")
    await user.click("确认")
    await user.send("确认")  # the acknowledgement may be typed too
    await user.click("提交")

    record = await live_record(sessions, li.person_id)
    assert record.status == RecordStatus.submitted
    (revision,) = await revisions(sessions, record.id)
    assert without_dates(revision.answers) == {
        "filler_role": "self",
        "name": "李思",
        "id_number": li.id_number,
        "mobile": li.mobile,
        "insured_status": "elsewhere",
        "insured_place": {"province": "浙江省", "city": "杭州市"},
        "pension": None,
        "medical": "employee",
        "remarks": "无",
        "confirmer_name": "李思",
        "acknowledgement": True,
        "sex": "male",
    }
    # No policy note applies to someone insured elsewhere.
    assert "📌" not in user.last_message.text


async def test_texts_follow_the_users_language(
    tg: FakeTelegram,
    start_service: StartService,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await start_service(form=FORM)
    english = tg.user(3701, "Lee", language_code="en")
    chinese = tg.user(3702, "李", language_code="zh-hans")
    await english.send("/start NoSuchInvite123")
    await chinese.send("/start NoSuchInvite123")
    assert english.last_message.text.startswith("This link is not valid or has expired.")
    assert chinese.last_message.text.startswith("这个登记链接无效或已过期。")
