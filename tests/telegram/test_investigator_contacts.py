"""Investigators record contact attempts from the bot: /households → a person → 记录联系,
the outcome, an optional note; and /progress shows 未联系 and the deadline as it stands."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.telegram.i18n import load_i18n
from bot.telegram.labels import describe, outcome_labels, status_labels
from storage.models import AuditEvent, Contact, ContactOutcome, Person
from storage.person_status import OUTCOME_LABELS, STATUS_LABELS
from tests.fakebot import FakeTelegram
from tests.telegram.conftest import StartService
from tests.telegram.test_resident_support import (
    FORM,
    seed_investigator,
    seed_person,
    years_ago,
)


async def _contacts(sessions: async_sessionmaker[AsyncSession], person_id: int) -> list[Contact]:
    async with sessions() as session:
        result = await session.scalars(
            select(Contact).where(Contact.person_id == person_id).order_by(Contact.id)
        )
        return list(result.all())


async def test_recording_contacts_from_the_household(
    tg: FakeTelegram, start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    wang = await seed_person(sessions, "王一", born=years_ago(40), household="0301")
    await seed_person(sessions, "王二", born=years_ago(12), household="0301", mobile=None)
    investigator_id, code = await seed_investigator(sessions, "周调查")
    await start_service(form=FORM)
    worker = tg.user(4201, "周调查")
    await worker.send(f"/start {code}")
    today = clock.today().isoformat()

    await worker.send("/households")
    await worker.click("• 0301")
    screen = await worker.click("• 王一")
    assert "状态：未联系" in screen.text and "138****5678" in screen.text
    assert "尚无联系记录" in screen.text
    await worker.click("查看手机号", message=screen)
    assert worker.last_message.text == "王一 的手机号码：13812345678"

    # No answer, with a note typed afterwards.
    await worker.click("记录联系", message=screen)
    assert f"记录对 王一 的联系（{today}）" in screen.text
    assert screen.buttons[:5] == ["已通知", "无人接听", "号码错误", "拒绝", "已在外地参保"]
    await worker.click("无人接听", message=screen)
    assert "联系结果：无人接听" in screen.text
    await worker.send("晚上再打")
    saved = worker.last_message
    assert f"已记录联系：{today} 无人接听" in saved.text
    assert "状态：已联系（无人接听）" in saved.text
    assert "联系记录（共 1 次）" in saved.text and "晚上再打" in saved.text
    (first,) = await _contacts(sessions, wang.person_id)
    assert (first.outcome, first.note, first.investigator_id, first.channel) == (
        ContactOutcome.no_answer,
        "晚上再打",
        investigator_id,
        "telegram",
    )
    assert first.actor_label == "调查员 周调查"

    # Told, no note; the save button pressed twice saves once.
    await worker.click("记录联系", message=saved)
    await worker.click("已通知", message=saved)
    await worker.click("不填备注，保存", message=saved)
    assert "状态：已联系（已通知）" in saved.text and "联系记录（共 2 次）" in saved.text
    await worker.forge_click(
        f"p:s:{wang.person_id}:0:notified", message=saved
    )  # a late copy of the same button
    assert worker.last_answer is not None and "已保存或已取消" in worker.last_answer["text"]
    assert len(await _contacts(sessions, wang.person_id)) == 2

    # /cancel after choosing an outcome saves nothing, and the next text is no note.
    await worker.click("记录联系", message=saved)
    await worker.click("拒绝", message=saved)
    await worker.send("/cancel")
    await worker.send("这不是备注")
    assert len(await _contacts(sessions, wang.person_id)) == 2
    async with sessions() as session:
        person = await session.get(Person, wang.person_id)
        assert person is not None and person.last_contact_outcome == ContactOutcome.notified
        audited = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "contact_recorded", AuditEvent.channel == "telegram")
        )
        assert audited == 2

    # /progress: one of two still unreached; the notice's deadline has long passed.
    await worker.send("/progress")
    progress = worker.last_message.text
    assert "未联系：1 人（50%）" in progress
    assert "未联系 1｜已发邀请 0｜已联系 1｜" in progress
    assert "社区完成采集期限：2014-12-10（已过期）" in progress
    assert "已超过" not in progress


async def test_progress_counts_the_days_left_to_a_deadline_ahead(
    tg: FakeTelegram, start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_person(sessions, "李一", born=years_ago(30), household="0401")
    _investigator_id, code = await seed_investigator(sessions, "吴调查")
    ahead = clock.today() + dt.timedelta(days=21)
    await start_service(form=FORM, settings_overrides={"community_deadline": ahead})
    worker = tg.user(4301, "吴调查")
    await worker.send(f"/start {code}")
    await worker.send("/progress")
    assert f"社区完成采集期限：{ahead.isoformat()}（还剩 21 天）" in worker.last_message.text
    # A forged button for someone outside the investigator's communities is refused.
    outside = await seed_person(
        sessions, "外区人", born=years_ago(30), household="9001", path="高新区/狮山街道/狮山社区"
    )
    await worker.forge_click(f"p:c:{outside.person_id}:0:")
    assert worker.last_answer is not None and "不在您负责的社区" in worker.last_answer["text"]


def test_the_bots_words_for_statuses_are_the_stores_in_chinese() -> None:
    i18n = load_i18n()
    with i18n.context(), i18n.use_locale("zh_CN"):
        assert status_labels() == STATUS_LABELS
        assert outcome_labels() == OUTCOME_LABELS
        assert describe("contacted", outcome="no_answer") == "已联系（无人接听）"
    with i18n.context(), i18n.use_locale("en"):
        assert describe("not_collected", reason_label="人户分离") == "Not collected（人户分离）"
        assert set(status_labels().values()) >= {"Not contacted", "Confirmed"}
