"""Residents register themselves: whole conversations against the real bot over loopback.

Each test starts the service (polling or webhook) against the fake Bot API server, talks as
a resident, and checks the record the store kept.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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

pytestmark = pytest.mark.parametrize("mode", ["polling", "webhook"])

PRIVACY_OK = "知道了，继续"


async def test_never_insured_employed_in_suzhou_with_workplace(
    tg: FakeTelegram,
    start_service: StartService,
    sessions: async_sessionmaker[AsyncSession],
    mode: str,
) -> None:
    zhang = await seed_person(sessions, "张三", born=years_ago(40), sex="M")
    await start_service(mode=mode, form=FORM)
    user = tg.user(3001, "张三")

    await user.send(f"/start {zhang.code}")
    # Before the identity check: the surname and the community, nothing of the number.
    assert "平江路社区张某" in user.last_message.text
    assert zhang.id_number[-4:] not in user.last_message.text

    # A wrong number first: attempts left, the message with the number is deleted.
    wrong = synthetic_id(years_ago(41))
    sent = await user.send(wrong)
    assert "还可以再试 4 次" in user.last_message.text
    assert sent.deleted

    sent = await user.send(zhang.id_number)
    assert sent.deleted
    assert "身份核对成功" in user.last_message.text
    assert "告知事项" in user.last_message.text
    await user.click(PRIVACY_OK)

    assert "填表人" in user.last_message.text
    assert user.last_message.buttons == ["本人", "监护人", "指定代理人"]
    before = tg.call_counts
    question = await user.click("本人")
    # The pressed question turned into the next one in place, its answer shown above it:
    # the press costs its answer and one edit, no new message.
    made = tg.call_counts - before
    del made["getUpdates"]
    assert made == Counter(answerCallbackQuery=1, editMessageText=1)
    assert question is user.last_message
    assert question.text.startswith("填表人：本人\n\n第 2/")

    assert "预填信息：张三" in user.last_message.text
    await user.click("确认")
    assert "公民身份号码" in user.last_message.text
    assert zhang.id_number not in user.last_message.text  # shown masked
    await user.click("确认")

    # Wrong answer: a short message saying what is wrong, then the same question again.
    assert "手机号码" in user.last_message.text
    await user.send("12345")
    assert user.last_message.text.startswith("❗")
    assert "手机号码" in user.last_message.text
    await user.send("139 0000 5678")

    # /back returns to the previous question; the corrected number is kept for confirmation.
    await user.send("/back")
    assert "已填写：13900005678" in user.last_message.text
    await user.click("确认")

    # /summary: every answer so far (numbers masked), each with an edit button.
    await user.send("/summary")
    assert "手机号码：139****5678" in user.last_message.text
    assert zhang.id_number not in user.last_message.text
    await user.click("改：手机号码")
    await user.send("13900005679")
    assert "当前参保状态" in user.last_message.text  # on to the first open question
    await user.click("从未参保")
    # The roster's address is offered part by part.
    for value in ("江苏省", "苏州市", "姑苏区", "人民路", "100"):
        assert f"预填信息：{value}" in user.last_message.text, user.last_message.text
        await user.click("确认")

    # A sticker is not an answer: a one-line hint and the question again.
    await user.send_sticker()
    assert user.last_message.text.startswith("请用文字回答")
    assert "当前状态" in user.last_message.text

    await user.click("单位就业")
    assert "工作或学习单位名称" in user.last_message.text
    await user.send("苏州某某电子有限公司")
    await user.click("江苏省")
    await user.click("苏州市")
    assert "工业园区" in user.last_message.buttons
    await user.click("工业园区")
    await user.send("星湖街")
    assert "号" in user.last_message.text and "跳过" in user.last_message.buttons
    await user.click("跳过")

    assert "未参保原因" in user.last_message.text
    await user.click("政策不了解")
    assert "✓ 政策不了解" in user.last_message.buttons
    await user.click("✓ 政策不了解")  # untick
    await user.click("单位未参保")
    assert "已选：单位未参保" in user.last_message.text
    await user.click("完成")

    assert "备注" in user.last_message.text
    await user.click("跳过")

    review = user.last_message
    assert "请核对" in review.text
    assert "工作或学习单位地址：江苏省苏州市工业园区星湖街" in review.text
    assert zhang.id_number not in review.text
    # Edit from the review: the changed answer, then back to the review.
    await user.click("改：工作或学习单位名称")
    await user.send("苏州某某科技有限公司")
    assert "请核对" in user.last_message.text
    assert "苏州某某科技有限公司" in user.last_message.text

    # The old review's buttons are stale now: a short answer, nothing changes.
    before = await live_record(sessions, zhang.person_id)
    await user.click("确认无误", message=review)
    assert user.last_answer is not None and "过期" in user.last_answer["text"]
    assert (await live_record(sessions, zhang.person_id)).version == before.version

    await user.click("确认无误")
    assert "确认人签名" in user.last_message.text
    await user.click("确认")
    assert "我已知悉本表告知事项，并据实填写本人相关事项。" in user.last_message.text
    await user.click("确认")
    await user.click("提交")

    done = user.last_message.text
    record = await live_record(sessions, zhang.person_id)
    assert f"登记编号：CB{record.id:08d}" in done
    assert "依法享有参加社会保险的权利" in done  # the policy note for 单位就业
    assert record.status == RecordStatus.submitted
    (revision,) = await revisions(sessions, record.id)
    assert without_dates(revision.answers) == {
        "filler_role": "self",
        "name": "张三",
        "id_number": zhang.id_number,
        "mobile": "13900005679",
        "insured_status": "never",
        "residence": {
            "province": "江苏省",
            "city": "苏州市",
            "district": "姑苏区",
            "road": "人民路",
            "number": "100",
        },
        "current_status": "employed",
        "workplace_name": "苏州某某科技有限公司",
        "workplace_address": {
            "province": "江苏省",
            "city": "苏州市",
            "district": "工业园区",
            "road": "星湖街",
        },
        "uninsured_reasons": ["employer_uninsured"],
        "remarks": None,
        "confirmer_name": "张三",
        "acknowledgement": True,
        "sex": "male",
    }
    assert revision.channel == "telegram"
    assert record.employer_name == "苏州某某科技有限公司"

    await user.send("/status")
    assert f"已提交，等待审核，登记编号 CB{record.id:08d}" in user.last_message.text
