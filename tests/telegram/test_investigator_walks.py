"""Investigators collect door to door: binding, the household list, 未采集, a full form in
investigator mode, a person not on the roster, 户不漏人, /progress, and revocation."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.telegram.callbacks import PersonCb
from storage.models import FilledBy, RecordStatus
from storage.repositories.accounts import get_investigator, revoke_investigator
from storage.repositories.actors import Actor
from storage.repositories.records import FLAG_NOT_ON_ROSTER
from tests.fakebot import FakeTelegram
from tests.telegram.conftest import StartService
from tests.telegram.test_resident_support import (
    FORM,
    live_record,
    person_by_id_number,
    revisions,
    seed_investigator,
    seed_person,
    synthetic_id,
    without_dates,
    years_ago,
)

FATHER = [{"姓名": "钱老", "关系": "父", "联系电话": "13900001111"}]


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_household_collected_door_to_door(
    tg: FakeTelegram,
    start_service: StartService,
    sessions: async_sessionmaker[AsyncSession],
    mode: str,
) -> None:
    away = await seed_person(sessions, "钱一", born=years_ago(38), household="0101", insured=FATHER)
    home = await seed_person(
        sessions, "钱二", born=years_ago(36), sex="F", household="0101", insured=FATHER
    )
    kid = await seed_person(sessions, "钱小", born=years_ago(9), household="0101", mobile=None)
    await seed_person(sessions, "孙九", born=years_ago(70), household="0102")
    outside = await seed_person(
        sessions, "外区人", born=years_ago(30), household="9001", path="高新区/狮山街道/狮山社区"
    )
    investigator_id, code = await seed_investigator(sessions, "周调查")
    await start_service(mode=mode, form=FORM)
    worker = tg.user(4001, "周调查")

    await worker.send(f"/start {code}")
    assert "绑定成功" in worker.last_message.text and "平江路社区" in worker.last_message.text
    # The code is single use.
    await worker.send(f"/start {code}")
    assert "绑定码无效或已使用" in worker.last_message.text

    await worker.send("/households")
    listing = worker.last_message
    assert "共 2 户" in listing.text
    assert "合计：未联系 4" in listing.text
    assert listing.buttons == ["• 0101", "• 0102"]

    await worker.click("• 0101")
    house = worker.last_message
    assert "户号 0101" in house.text
    assert "钱一" in house.text and "钱二" in house.text and "钱小" in house.text
    assert away.id_number not in house.text
    assert "钱老（父）139****1111" in house.text  # masked in the list
    assert "户号 0101 还差 3 人" in house.text
    assert "钱一 " in house.text and "— 未联系" in house.text
    assert house.buttons[:3] == ["• 钱一", "• 钱二", "• 钱小"]
    await worker.click("查看联系电话")
    assert "钱老（父）13900001111" in worker.last_message.text

    # Nobody at home for 钱一: 未采集 with a reason ends the form.
    person = await worker.click("• 钱一", message=house)
    assert "状态：未联系" in person.text and "钱一（" in person.text
    await worker.click("采集：钱一")
    assert "采集：钱一" in worker.last_message.text
    assert worker.last_message.buttons == ["已采集", "未采集"]
    await worker.click("未采集")
    await worker.click("人户分离")
    await worker.click("跳过")  # 备注
    assert "请核对" in worker.last_message.text
    await worker.click("确认无误")
    await worker.click("提交")
    assert "提交成功" in worker.last_message.text
    assert "户号 0101 还差 2 人：钱二（未联系）、钱小（未联系）" in worker.last_message.text

    # 钱二 is at home: the whole form in investigator mode.
    await worker.send("/households")
    await worker.click("• 0101")
    assert "✅ 钱一" in worker.last_message.buttons
    assert "未采集（人户分离）" in worker.last_message.text
    done = await worker.click("✅ 钱一")
    assert "采集：钱一" not in done.buttons  # handed in already
    await worker.click("‹ 返回本户", message=done)
    await worker.click("• 钱二")
    await worker.click("采集：钱二")
    await worker.click("已采集")
    await worker.click("本人")
    await worker.click("确认")
    await worker.click("确认")
    await worker.click("确认")
    await worker.click("在外地参保（或享受社保待遇）")
    await worker.click("浙江省")
    await worker.click("杭州市")
    await worker.click("居（农）保缴费")
    await worker.click("居民医保（新农合）")
    await worker.click("跳过")
    await worker.click("确认无误")
    await worker.click("确认")
    await worker.click("确认")
    await worker.click("提交")
    assert "户号 0101 还差 1 人：钱小（未联系）" in worker.last_message.text

    # Someone at home who is not on the roster: added, flagged, and the form started.
    await worker.send("/households")
    await worker.click("• 0101")
    await worker.click("添加名册外人员")
    await worker.send("钱")
    assert "姓名应为2–30个字" in worker.last_message.text
    await worker.send("钱多多")
    await worker.send("12345")
    assert "公民身份号码应为18位" in worker.last_message.text
    extra_id = synthetic_id(years_ago(12))
    sent = await worker.send(extra_id)
    assert sent.deleted
    assert "已添加 钱多多" in worker.last_message.text
    assert "采集状态" in worker.last_message.text
    await worker.click("已采集")
    await worker.send("/cancel")
    assert "草稿已保存" in worker.last_message.text

    await worker.send("/households")
    await worker.click("• 0101")
    assert "钱多多（名册外）" in worker.last_message.text
    assert "还差 2 人：钱小（未联系）、钱多多（填写中）" in worker.last_message.text

    await worker.send("/progress")
    progress = worker.last_message.text
    assert "人员：2/5 已完成" in progress
    assert "未联系：2 人（40%）" in progress
    assert (
        "未联系 2｜已发邀请 0｜已联系 0｜填写中 1｜待审核 1｜已退回 0｜已确认 0｜未采集 1"
        in progress
    )
    assert "社区完成采集期限：2014-12-10" in progress

    # Another community's person: a forged button is refused.
    await worker.forge_click(PersonCb(i=outside.person_id).pack())
    assert worker.last_answer is not None and "不在您负责的社区" in worker.last_answer["text"]

    # The stored records.
    not_home = await live_record(sessions, away.person_id)
    assert not_home.status == RecordStatus.submitted
    assert not_home.filled_by == FilledBy.investigator
    assert not_home.collection_status == "not_collected"
    (revision,) = await revisions(sessions, not_home.id)
    assert without_dates(revision.answers) == {
        "collection_status": "not_collected",
        "not_collected_reason": "separated",
        "remarks": None,
        "community_worker": "周调查",
    }
    collected = await live_record(sessions, home.person_id)
    (revision,) = await revisions(sessions, collected.id)
    assert without_dates(revision.answers) == {
        "collection_status": "collected",
        "filler_role": "self",
        "name": "钱二",
        "id_number": home.id_number,
        "mobile": home.mobile,
        "insured_status": "elsewhere",
        "insured_place": {"province": "浙江省", "city": "杭州市"},
        "pension": "resident_contrib",
        "medical": "resident",
        "remarks": None,
        "confirmer_name": "钱二",
        "acknowledgement": True,
        "sex": "female",
        "community_worker": "周调查",
    }
    added = await person_by_id_number(sessions, extra_id)
    assert added is not None and not added.on_roster
    draft = await live_record(sessions, added.id)
    assert draft.status == RecordStatus.draft and FLAG_NOT_ON_ROSTER in draft.flags

    # A resident opening 钱一's invite finds the investigator's record: no second one.
    resident = tg.user(4002, "钱一")
    await resident.send(f"/start {away.code}")
    await resident.send(away.id_number)
    assert "已由调查员 周调查" in resident.last_message.text

    # Revoked: the account gets nothing any more.
    async with sessions() as session, session.begin():
        investigator = await get_investigator(session, investigator_id)
        assert investigator is not None
        await revoke_investigator(session, investigator, actor=Actor.system())
    await worker.send("/households")
    assert worker.last_message.text == "此功能仅供已绑定的调查员使用。"
    await worker.click("• 钱小")
    assert worker.last_answer is not None and "调查员" in worker.last_answer["text"]
    assert kid.person_id  # still 未联系: nothing was started for them


async def test_someone_who_wrote_before_binding_is_an_investigator_once_bound(
    tg: FakeTelegram,
    start_service: StartService,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await seed_person(sessions, "郑一", born=years_ago(45), household="0201")
    _investigator_id, code = await seed_investigator(sessions, "吴调查")
    await start_service(form=FORM)
    worker = tg.user(4101, "吴调查")

    # Before binding the account is nobody special (and remembered as such)...
    await worker.send("你好")
    assert "请点击社区发给您的登记链接" in worker.last_message.text
    await worker.send("/households")
    assert "仅供已绑定的调查员使用" in worker.last_message.text

    # ...until the binding code arrives: from then on the same chat is the investigator's.
    await worker.send(f"/start {code}")
    assert "绑定成功" in worker.last_message.text
    await worker.send("你好")
    assert "请发送 /households 选择要采集的人员" in worker.last_message.text
    await worker.send("/households")
    assert "• 0201" in worker.last_message.buttons
