"""Collecting door to door in the browser: the household list, a person, the contact log,
the form in investigator mode, 未采集, a person added at the door, the done screen, no double
collection, and every action applied once whatever the connection does."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import clock
from bot.synthetic import make_id_number, region_for
from bot.webchat import store
from storage.models import (
    AuditEvent,
    Community,
    Contact,
    InvestigatorAction,
    Record,
    RecordRevision,
    RecordStatus,
)
from storage.repositories import accounts as acc
from storage.repositories.accounts import create_staff
from storage.repositories.actors import Actor
from storage.repositories.invites import find_invite
from storage.repositories.records import return_record
from tests.investigator_web.conftest import Phone, WebEnv
from tests.webchat.chatkit import ADULT_SCRIPT, TAIL_SCRIPT, record_of, years_ago

SCRIPT: dict[str, Any] = {"collection_status": "collected", **ADULT_SCRIPT, **TAIL_SCRIPT}


async def walk(phone: Phone, script: dict[str, Any], *, stop_at: str = "done") -> None:
    """Answer from ``script`` until the position is ``stop_at`` (the review passes on)."""
    for _ in range(60):
        screen = phone.screen
        prompt = screen.get("prompt")
        where = prompt["state"] if prompt else screen.get("stage") or screen["kind"]
        if screen["kind"] == "done":
            where = "done"
        if where == stop_at:
            return
        if screen["kind"] == "done":
            raise AssertionError(f"done before {stop_at}")
        if where == "review":
            if screen["warnings"]:
                await phone.act("confirm_warnings")
            await phone.act("proceed")
        elif where == "complete":
            await phone.act("submit")
        else:
            step = script[where]
            if isinstance(step, tuple):
                await phone.act(step[0])
            elif isinstance(step, list):
                for name, *arg in step:
                    await phone.act(name, **({"code": arg[0]} if arg else {}))
            else:
                await phone.act("answer", text=step)
        assert phone.status == 200, phone.last
        assert "error" not in phone.last, phone.last
    raise AssertionError(f"never reached {stop_at}")


async def test_household_list_is_paged_searchable_and_says_who_is_missing(
    web_env: WebEnv,
) -> None:
    phone = await web_env.signed_in("gusu")
    listed = (await phone.get("households"))["screen"]
    assert listed["total"] == 2 and listed["pages"] == 1
    first = listed["rows"][0]
    assert first["missing"] == [{"name": "张丽", "status": "未联系"}]
    assert first["last_contact"] is None
    found = (await phone.get("households?q=李"))["screen"]
    assert [r["missing"][0]["name"] for r in found["rows"]] == ["李强"]
    by_number = (await phone.get(f"households?q={first['number']}"))["screen"]
    assert [r["id"] for r in by_number["rows"]] == [first["id"]]
    assert (await phone.get("households?q=%25"))["screen"]["total"] == 0
    await phone.get("households?page=0")
    assert phone.status == 400 and "page" in phone.last["error"]


async def test_person_page_masks_and_records_a_contact_once(web_env: WebEnv) -> None:
    phone = await web_env.signed_in("gusu")
    adult = web_env.people["adult"]
    screen = (await phone.get(f"persons/{adult.person_id}"))["screen"]
    assert screen["name"] == "张丽" and adult.id_number not in str(screen)
    assert screen["mobile"].startswith("138") and adult.mobile not in str(screen)
    assert screen["can_collect"] is True
    aid = phone.next_aid()
    await phone.act(
        "contact", aid=aid, person=adult.person_id, outcome="no_answer", note="晚上再来"
    )
    assert phone.status == 200 and phone.last["message"].endswith("无人接听")
    # The same action delivered again (the answer was lost on the staircase): nothing new.
    await phone.act(
        "contact", aid=aid, person=adult.person_id, outcome="no_answer", note="晚上再来"
    )
    assert phone.last["replayed"] is True
    assert [c["note"] for c in phone.screen["contacts"]][:1] == ["晚上再来"]
    async with web_env.sessions() as session:
        assert (
            await session.scalar(
                select(func.count())
                .select_from(Contact)
                .where(Contact.person_id == adult.person_id, Contact.channel == "web")
            )
            == 1
        )
    assert phone.screen["status"] == "已联系（无人接听）"
    listed = (await phone.get("households"))["screen"]["rows"][0]
    assert listed["last_contact"] == {
        "on": clock.today().isoformat(),
        "name": "张丽",
        "outcome": "无人接听",
    }
    await phone.act("contact", person=adult.person_id, outcome="invited")
    assert phone.status == 422 and "联系结果应为" in phone.last["error"]


async def test_collect_one_person_in_investigator_mode(web_env: WebEnv) -> None:
    phone = await web_env.signed_in("gusu")
    adult = web_env.people["adult"]
    await phone.act("collect", person=adult.person_id)
    assert phone.screen["kind"] == "record" and phone.question == "collection_status"
    await walk(phone, SCRIPT)
    assert phone.screen["completeness"]["complete"] is True
    record = await record_of(web_env.sessions, adult.person_id)
    assert record is not None and record.status == RecordStatus.submitted
    async with web_env.sessions() as session:
        revision = await session.scalar(
            select(RecordRevision).where(RecordRevision.record_id == record.id)
        )
    assert revision is not None and revision.channel == "web"
    assert revision.actor_label == "调查员 赵敏"
    # 社区经办人 and 采集日期 come from the account and the Beijing date.
    assert revision.answers["community_worker"] == "赵敏"
    assert revision.answers["collection_date"] == clock.today().isoformat()
    assert (
        record.notify_channel == "web" and record.investigator_id == web_env.investigators["gusu"]
    )


async def test_not_collected_with_a_reason(web_env: WebEnv) -> None:
    phone = await web_env.signed_in("gusu")
    other = web_env.people["other"]
    await phone.act("collect", person=other.person_id)
    await phone.act("answer", text="not_collected")
    assert phone.question == "not_collected_reason"
    reason = phone.screen["prompt"]["choices"][0]
    await phone.act("answer", text=reason["code"])
    await walk(phone, {"remarks": ("skip",), **TAIL_SCRIPT})
    record = await record_of(web_env.sessions, other.person_id)
    assert record is not None and record.not_collected_reason == reason["code"]
    person = (await phone.get(f"persons/{other.person_id}"))["screen"]
    assert person["status"] == f"未采集（{reason['label']}）" and person["can_collect"] is False


async def test_add_a_person_not_on_the_roster_and_finish_the_household(web_env: WebEnv) -> None:
    phone = await web_env.signed_in("gusu")
    adult = web_env.people["adult"]
    household = (await phone.get(f"persons/{adult.person_id}"))["screen"]["household"]["id"]
    born = years_ago(30)
    number = make_id_number(born, "F", region_for("姑苏区", born.year), seq=55)
    await phone.act("add_person", household=household, name="孙丽", id_number=number[:-1])
    assert phone.status == 422 and phone.screen["kind"] == "household"
    await phone.act("add_person", household=household, name="孙丽", id_number=number)
    assert phone.status == 200 and "名册外" in phone.last["message"]
    assert phone.screen["person"]["name"] == "孙丽"
    await walk(
        phone, {**SCRIPT, "name": ("keep",), "id_number": ("keep",), "mobile": "13700001111"}
    )
    assert phone.screen["completeness"]["complete"] is False  # 张丽 is still missing
    assert "张丽" in phone.screen["completeness"]["text"]
    await phone.act("collect", person=adult.person_id)
    await walk(phone, SCRIPT)
    assert phone.screen["completeness"]["complete"] is True
    assert "户不漏人" in phone.screen["completeness"]["text"]


async def test_no_double_collection(web_env: WebEnv) -> None:
    gusu = await web_env.signed_in("gusu")
    adult = web_env.people["adult"]
    # The resident filed it themselves first (the web chat).
    async with web_env.sessions() as session, session.begin():
        invite = await find_invite(session, adult.code)
        assert invite is not None
        await store.open_record(session, invite, web_env.form)
    await gusu.act("collect", person=adult.person_id)
    assert gusu.screen["kind"] == "person" and "不能重复采集" in gusu.last["error"]
    # A second investigator of the same community cannot take over another's draft either.
    other = web_env.people["other"]
    await gusu.act("collect", person=other.person_id)
    assert gusu.screen["kind"] == "record"
    async with web_env.sessions() as session, session.begin():
        community = await session.scalar(select(Community).where(Community.name == "平江路社区"))
        assert community is not None
        second, _ = await acc.create_investigator(
            session, "孙二", [community], actor=Actor.system("测试")
        )
        web_env.investigators["second"] = second.id
    phone = await web_env.signed_in("second")
    await phone.act("collect", person=other.person_id)
    assert "调查员 赵敏" in phone.last["error"]
    async with web_env.sessions() as session:
        rec = await session.scalar(select(Record).where(Record.live_person_id == other.person_id))
        assert rec is not None and rec.duplicate_attempts == 1 and rec.investigator_id != second.id


@pytest.mark.parametrize("web_env", ["sqlite", "postgresql"], indirect=True)
async def test_replays_and_queued_steps_apply_once_in_order(web_env: WebEnv) -> None:
    phone = await web_env.signed_in("gusu")
    adult = web_env.people["adult"]
    await phone.act("collect", person=adult.person_id)
    await walk(phone, SCRIPT, stop_at="residence.province")
    version = phone.screen["version"]
    # Three answers typed offline: the first at the version shown, each next after the one before.
    a, b, c = phone.next_aid(), phone.next_aid(), phone.next_aid()
    queued = [
        {"aid": a, "op": "answer", "text": "江苏省", "version": version},
        {"aid": b, "op": "answer", "text": "苏州市", "after": a},
        {"aid": c, "op": "answer", "text": "320508", "after": b},
    ]
    record_id = phone.screen["record_id"]
    for body in queued:
        await phone.act(body.pop("op"), record=record_id, **body)
        assert phone.status == 200 and "replayed" not in phone.last
    assert phone.question == "residence.road"
    # The whole queue again (the phone never saw the answers): each is a replay.
    for aid in (a, b, c):
        await phone.act("answer", aid=aid, record=record_id, text="x", version=version)
        assert phone.last["replayed"] is True and phone.question == "residence.road"
    record = await record_of(web_env.sessions, adult.person_id)
    assert record is not None
    residence = record.state["answers"]["residence"]
    assert (residence["province"], residence["city"], residence["district"]) == (
        "江苏省",
        "苏州市",
        "姑苏区",
    )
    async with web_env.sessions() as session:
        saved = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.record_id == record.id,
                AuditEvent.action == "draft_saved",
                AuditEvent.details["field"].as_string().like("residence%"),
            )
        )
        assert saved == 3
        assert await session.scalar(select(func.count()).select_from(InvestigatorAction)) >= 3


async def test_a_refused_queued_answer_stops_the_ones_behind_it(web_env: WebEnv) -> None:
    phone = await web_env.signed_in("gusu")
    adult = web_env.people["adult"]
    await phone.act("collect", person=adult.person_id)
    await walk(phone, SCRIPT, stop_at="mobile")
    version, record_id = phone.screen["version"], phone.screen["record_id"]
    a, b = phone.next_aid(), phone.next_aid()
    await phone.act("answer", aid=a, record=record_id, text="123", version=version)
    assert phone.status == 200 and phone.last["error"] and phone.question == "mobile"
    # Meant for the next question: it must not land in 手机号码.
    await phone.act("answer", aid=b, record=record_id, text="never", after=a)
    assert phone.status == 409 and phone.last["stale"] is True and phone.question == "mobile"


@pytest.mark.parametrize("web_env", ["sqlite", "postgresql"], indirect=True)
async def test_two_tabs_one_wins_the_other_sees_the_current_screen(web_env: WebEnv) -> None:
    phone = await web_env.signed_in("gusu")
    adult = web_env.people["adult"]
    await phone.act("collect", person=adult.person_id)
    shown = dict(phone.screen)
    await phone.act("answer", text="collected")
    assert phone.question == "filler_role"
    # The second tab still shows 采集状态 at the old version.
    phone.screen = shown
    await phone.act("answer", text="not_collected")
    assert phone.status == 409 and phone.last["stale"] is True
    assert phone.question == "filler_role"
    record = await record_of(web_env.sessions, adult.person_id)
    assert record is not None and record.state["answers"]["collection_status"] == "collected"


async def test_staff_see_the_channel_on_the_record_page(web_env: WebEnv) -> None:

    phone = await web_env.signed_in("gusu")
    adult = web_env.people["adult"]
    await phone.act("collect", person=adult.person_id)
    await walk(phone, SCRIPT)
    record_id = phone.screen["record_id"]
    async with web_env.sessions() as session, session.begin():
        await create_staff(session, "city_rev", "correct horse battery", display_name="审核员")
    staff = await web_env.phone()
    page = await (await staff.client.get("/console/login")).text()
    match = re.search(r'name="_csrf" value="([^"]+)"', page)
    assert match
    response = await staff.client.post(
        "/console/login",
        data={"_csrf": match.group(1), "username": "city_rev", "password": "correct horse battery"},
        allow_redirects=False,
    )
    assert response.status == 303
    html = await (await staff.client.get(f"/console/records/{record_id}")).text()
    assert '渠道：<span class="channel">网页</span>' in html and "调查员采集" in html


async def test_a_returned_record_is_listed_and_reopened_with_the_marked_questions(
    web_env: WebEnv,
) -> None:
    phone = await web_env.signed_in("gusu")
    adult = web_env.people["adult"]
    await phone.act("collect", person=adult.person_id)
    await walk(phone, SCRIPT)
    async with web_env.sessions() as session, session.begin():
        staff = await create_staff(session, "city_rev", "correct horse battery")
        rec = await session.scalar(select(Record).where(Record.live_person_id == adult.person_id))
        assert rec is not None
        await return_record(session, rec, staff=staff, comment="手机号码有误", fields=["mobile"])
    listed = (await phone.get("households"))["screen"]
    assert listed["returned"] == [
        {"person": adult.person_id, "name": "张丽", "comment": "手机号码有误"}
    ]
    await phone.act("collect", person=adult.person_id)
    assert phone.question == "mobile" and phone.screen["returned"]["comment"] == "手机号码有误"
