"""The web chat's JSON API against a real store: identity, every action, bad input."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.synthetic import make_id_number
from storage.models import (
    AuditEvent,
    Channel,
    FilledBy,
    Invite,
    Record,
    RecordRevision,
    RecordStatus,
)
from tests.webchat.chatkit import (
    ADULT_SCRIPT,
    HEADERS,
    TAIL_SCRIPT,
    ChatClient,
    record_of,
    run_script,
    years_ago,
)
from tests.webchat.conftest import ChatEnv

pytestmark = pytest.mark.asyncio

DERIVED = ("birth_date", "sex", "age")
WRONG_ID = make_id_number(years_ago(50), "M", "320508", seq=99)


async def verified(env: ChatEnv, key: str = "adult") -> ChatClient:
    chat = env.chat(key)
    await chat.state()
    await chat.identity(env.people[key].id_number)
    assert chat.status == 200, chat.last
    return chat


# ------------------------------------------------------------------------------ the link


async def test_unknown_invite_is_a_chinese_404_page(chat_env: ChatEnv) -> None:
    for path in ("/c/NoSuchInviteCode123", "/c/bad.code"):
        response = await chat_env.client.get(path)
        assert response.status == 404
        text = await response.text()
        assert "链接无效" in text and "<html" in text
    response = await chat_env.client.get("/c/NoSuchInviteCode123/api/state", headers=HEADERS)
    assert response.status == 404
    assert "链接无效" in (await response.json())["error"]
    for action, body in (
        ("identity", {"id_number": WRONG_ID}),
        ("answer", {"text": "", "version": 1}),
    ):
        response = await chat_env.client.post(
            f"/c/NoSuchInviteCode123/api/{action}", json=body, headers=HEADERS
        )
        assert response.status == 404
        assert "链接无效" in (await response.json())["error"]


async def test_page_is_self_contained_and_not_frameable(chat_env: ChatEnv) -> None:
    response = await chat_env.client.get(f"/c/{chat_env.people['adult'].code}")
    assert response.status == 200
    html = await response.text()
    assert "http://" not in html and "https://" not in html  # no external assets
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"  # the code is in the URL
    for asset in ("chat.js", "chat.css"):
        assert f"/c/_static/{asset}?v=" in html
        static = await chat_env.client.get(f"/c/_static/{asset}")
        assert static.status == 200
        assert "https://" not in await static.text()


# ------------------------------------------------------------------------------ identity


async def test_before_identity_only_surname_and_community_are_shown(chat_env: ChatEnv) -> None:
    chat = chat_env.chat()
    await chat.state()
    adult = chat_env.people["adult"]
    assert chat.view == {
        "stage": "identity",
        "person": {"surname": "张", "community": "平江路社区"},
        "attempts_left": 5,
    }
    assert await record_of(chat_env.sessions, adult.person_id) is None


@pytest.mark.parametrize("chat_env", ["sqlite", "postgresql"], indirect=True)
async def test_five_wrong_ids_lock_the_link(chat_env: ChatEnv) -> None:
    chat = chat_env.chat("other")
    for left in (4, 3, 2, 1):
        await chat.identity(WRONG_ID)
        assert chat.status == 403
        assert f"还可以再试 {left} 次" in chat.last["error"]
        assert chat.view["attempts_left"] == left
    await chat.identity(WRONG_ID)
    assert chat.status == 423
    assert "锁定" in chat.last["error"]
    assert chat.view["stage"] == "locked"
    # Locked means locked: the right number no longer opens it.
    await chat.identity(chat_env.people["other"].id_number)
    assert chat.status == 423
    assert "Set-Cookie" not in str(chat.last)
    await chat.state()
    assert chat.view["stage"] == "locked"
    async with chat_env.sessions() as session:
        invite = await session.scalar(
            select(Invite).where(Invite.code == chat_env.people["other"].code)
        )
        assert invite is not None
        assert invite.failed_attempts == 5 and invite.locked_at is not None
    assert await record_of(chat_env.sessions, chat_env.people["other"].person_id) is None


async def test_a_malformed_id_is_explained_and_not_counted(chat_env: ChatEnv) -> None:
    chat = chat_env.chat()
    bad_check = WRONG_ID[:-1] + ("0" if WRONG_ID[-1] != "0" else "1")
    for typed, expected in ((bad_check, "校验位"), ("12345", "18位")):
        await chat.identity(typed)
        assert chat.status == 422
        assert expected in chat.last["error"]
    await chat.identity("")
    assert chat.status == 400
    await chat.state()
    assert chat.view["attempts_left"] == 5


async def test_right_id_sets_a_strict_httponly_cookie_and_starts_a_web_draft(
    chat_env: ChatEnv,
) -> None:
    adult = chat_env.people["adult"]
    chat = chat_env.chat()
    response = await chat.client.post(
        f"{chat.base}/identity", json={"id_number": adult.id_number.lower()}, headers=HEADERS
    )
    assert response.status == 200
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert f"Path=/c/{adult.code}" in cookie
    assert adult.id_number not in cookie
    view = (await response.json())["view"]
    assert view["stage"] == "question"
    assert view["prompt"]["name"] == "privacy_notice"
    assert adult.id_number not in json.dumps(view)  # never echoed in full
    record = await record_of(chat_env.sessions, adult.person_id)
    assert record is not None
    assert record.status == RecordStatus.draft
    assert record.filled_by == FilledBy.resident
    invite_id = await invite_id_of(chat_env, "adult")
    assert (record.notify_channel, record.notify_chat_id) == (Channel.web, f"web-{invite_id}")


async def invite_id_of(env: ChatEnv, key: str) -> int:
    async with env.sessions() as session:
        invite = await session.scalar(select(Invite).where(Invite.code == env.people[key].code))
        assert invite is not None
        return invite.id


async def test_actions_need_the_cookie(chat_env: ChatEnv) -> None:
    await verified(chat_env)
    other = await chat_env.new_browser()
    try:
        stranger = ChatClient(other, chat_env.people["adult"].code)
        await stranger.act("answer", text="", version=1)
        assert stranger.status == 401
        assert stranger.view["stage"] == "identity"
        # A cookie of one link does not open another.
        response = await chat_env.client.get(
            f"/c/{chat_env.people['child'].code}/api/state", headers=HEADERS
        )
        assert (await response.json())["view"]["stage"] == "identity"
    finally:
        await other.close()


async def test_a_forged_cookie_is_ignored(chat_env: ChatEnv) -> None:
    chat = await verified(chat_env)
    other = await chat_env.new_browser()
    try:
        cookie = next(c for c in chat_env.client.session.cookie_jar if c.key == "canbao_chat")
        body, _, mac = cookie.value.partition(".")
        tampered = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1] + "." + mac
        response = await other.get(
            f"{chat.base}/state", headers={**HEADERS, "Cookie": f"canbao_chat={tampered}"}
        )
        assert (await response.json())["view"]["stage"] == "identity"
    finally:
        await other.close()


# ------------------------------------------------------------------------------ CSRF


async def test_requests_from_other_sites_are_refused(chat_env: ChatEnv) -> None:
    chat = await verified(chat_env)
    url = f"{chat.base}/answer"
    body = {"text": "", "version": chat.view["version"]}
    cases = [
        {},  # no custom header: a plain cross-site form post
        {**HEADERS, "Origin": "https://evil.example"},
        {**HEADERS, "Sec-Fetch-Site": "cross-site"},
    ]
    for headers in cases:
        response = await chat_env.client.post(url, json=body, headers=headers)
        assert response.status == 403, headers
        assert "来源" in (await response.json())["error"]
    same = {**HEADERS, "Origin": str(chat_env.client.make_url("")).rstrip("/")}
    response = await chat_env.client.post(url, json=body, headers=same)
    assert response.status == 200


# ------------------------------------------------------------------------------ bad input


async def assert_unchanged(env: ChatEnv, before: Record) -> None:
    after = await record_of(env.sessions, env.people["adult"].person_id)
    assert after is not None
    assert (after.version, after.state) == (before.version, before.state)


async def test_malformed_forged_and_oversized_requests_change_nothing(chat_env: ChatEnv) -> None:
    chat = await verified(chat_env)
    await chat.act("answer", text="")  # past the notice: at 填表人
    before = await record_of(chat_env.sessions, chat_env.people["adult"].person_id)
    assert before is not None
    version = chat.view["version"]
    cases: list[tuple[str, bytes | str, str]] = [
        ("answer", "{not json", "JSON"),
        ("answer", "[1, 2]", "JSON 对象"),
        ("answer", json.dumps({"text": "self", "version": version, "admin": True}), "admin"),
        ("answer", json.dumps({"text": 12, "version": version}), "文字"),
        ("answer", json.dumps({"text": "x" * 2001, "version": version}), "太长"),
        ("answer", json.dumps({"text": "x" * 20000, "version": version}), "太长"),
        ("answer", json.dumps({"text": "self"}), "version"),
        ("answer", b"\xff\xfe{}", "JSON"),
        ("edit", json.dumps({"field": "__class__", "version": version}), "修改"),
        ("edit", json.dumps({"field": "name", "version": version, "x": 1}), "x"),
    ]
    for action, data, expected in cases:
        body = await chat.raw(action, data)
        assert chat.status == 400, (action, data, body)
        assert expected in body["error"], body
        await assert_unchanged(chat_env, before)
    response = await chat_env.client.post(
        f"{chat.base}/drop_tables", json={"version": version}, headers=HEADERS
    )
    assert response.status == 404
    await assert_unchanged(chat_env, before)


async def test_wrong_answers_are_explained_and_the_question_repeated(chat_env: ChatEnv) -> None:
    chat = await verified(chat_env)
    await run_script(chat, ADULT_SCRIPT, stop_at="mobile")
    before = await record_of(chat_env.sessions, chat_env.people["adult"].person_id)
    assert before is not None
    await chat.act("answer", text="12345")
    assert chat.status == 200
    assert "手机号码" in chat.last["error"] and "11位" in chat.last["error"]
    assert chat.position == "mobile"  # the same question again
    await assert_unchanged(chat_env, before)
    await chat.act("answer", text="13900001111")
    assert "error" not in chat.last
    assert chat.position == "insured_status"


async def test_an_empty_answer_is_answered_with_what_is_expected(chat_env: ChatEnv) -> None:
    chat = await verified(chat_env, "child")
    await run_script(chat, {"privacy_notice": "", "filler_role": "guardian"}, stop_at="name")
    await chat.act("answer", text="   ")
    assert chat.status == 200 and "请填写“姓名”" in chat.last["error"]
    assert chat.position == "name"
    other = chat_env.chat("other")
    await other.identity("")
    assert other.status == 400 and "18位公民身份号码" in other.last["error"]


async def test_each_saved_step_is_audited_with_its_question(chat_env: ChatEnv) -> None:
    chat = await verified(chat_env)
    await run_script(chat, ADULT_SCRIPT, stop_at="mobile")
    await chat.act("keep")
    await chat.act("back")
    async with chat_env.sessions() as session:
        saved = (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "draft_saved")
                .order_by(AuditEvent.id.desc())
                .limit(2)
            )
        ).all()
    assert saved[0].details["action"] == "back" and saved[0].details["field"] == "insured_status"
    assert saved[1].details["action"] == "keep" and saved[1].details["field"] == "mobile"


async def test_the_completed_form_can_go_back_or_be_edited(chat_env: ChatEnv) -> None:
    chat = await verified(chat_env)
    await run_script(chat, ADULT_SCRIPT)
    await chat.act("proceed")
    await run_script(chat, TAIL_SCRIPT, stop_at="complete")
    assert chat.view["can_back"] is True
    await chat.act("back")
    assert chat.position == "acknowledgement"
    await chat.act("answer", text="yes")
    assert chat.view["stage"] == "complete"
    await chat.act("edit", field="mobile")
    assert chat.position == "mobile"


async def test_actions_out_of_order_are_refused(chat_env: ChatEnv) -> None:
    chat = await verified(chat_env)
    before = await record_of(chat_env.sessions, chat_env.people["adult"].person_id)
    assert before is not None
    for action, body in (
        ("proceed", {}),
        ("submit", {}),
        ("confirm_warnings", {}),
        ("finish", {}),
        ("toggle", {"code": "unwilling"}),
        ("reopen", {}),
    ):
        await chat.act(action, **body)
        assert chat.status == 409, (action, chat.last)
        assert chat.last["error"] and chat.view["stage"] == "question"
        await assert_unchanged(chat_env, before)
    # A stale version (a double tap, a second tab) is refused with the current view.
    await chat.act("answer", text="", version=before.version - 1)
    assert chat.status == 409 and "过期" in chat.last["error"]
    assert chat.view["version"] == before.version
    await assert_unchanged(chat_env, before)


async def test_a_forged_option_of_a_multi_select_is_refused(chat_env: ChatEnv) -> None:
    chat = await verified(chat_env)
    await run_script(chat, ADULT_SCRIPT, stop_at="uninsured_reasons")
    await chat.act("toggle", code="unaware")
    before = await record_of(chat_env.sessions, chat_env.people["adult"].person_id)
    assert before is not None
    selected = [c["code"] for c in chat.view["prompt"]["choices"] if c["selected"]]
    assert selected == ["unaware"]
    await chat.act("toggle", code="bribe")
    assert chat.status == 400
    await assert_unchanged(chat_env, before)
    await chat.act("answer", text="unaware")
    assert chat.position == "remarks"


@pytest.mark.parametrize("chat_env", ["sqlite", "postgresql"], indirect=True)
async def test_a_whole_form_with_back_edit_and_submit(chat_env: ChatEnv) -> None:
    adult = chat_env.people["adult"]
    chat = await verified(chat_env)
    await run_script(chat, ADULT_SCRIPT, stop_at="insured_status")
    await chat.act("back")
    assert chat.position == "mobile"
    await chat.act("answer", text="13900001111")
    await run_script(chat, ADULT_SCRIPT)
    assert chat.view["stage"] == "review"
    summary = {item["name"]: item for item in chat.view["summary"]}
    assert summary["mobile"]["value"] == "139****1111"
    assert summary["id_number"]["value"].count("*") == 10
    assert summary["birth_date"]["editable"] is False
    # Edit from the summary: a different status, then back at the review.
    await chat.act("edit", field="current_status")
    assert chat.position == "current_status"
    await chat.act("answer", text="flexible")
    assert chat.view["stage"] == "review"
    await chat.act("proceed")
    await run_script(chat, TAIL_SCRIPT, stop_at="complete")
    assert chat.view["policy_notes"]  # 灵活就业: the mobilisation text
    await chat.act("submit")
    assert chat.status == 200, chat.last
    assert chat.view["stage"] == "submitted"
    assert chat.view["reference"] in chat.last["message"]
    record = await record_of(chat_env.sessions, adult.person_id)
    assert record is not None and record.status == RecordStatus.submitted
    assert (record.insured_status, record.current_status) == ("never", "flexible")
    async with chat_env.sessions() as session:
        revisions = (
            await session.scalars(
                select(RecordRevision).where(RecordRevision.record_id == record.id)
            )
        ).all()
    assert len(revisions) == 1
    answers = revisions[0].answers
    assert (revisions[0].channel, revisions[0].actor_kind) == ("web", "resident")
    assert answers["mobile"] == "13900001111" and answers["id_number"] == adult.id_number
    assert answers["uninsured_reasons"] == ["cannot_afford", "unaware"]
    assert answers["residence"]["district"] in ("320508", "姑苏区")
    # Submitted is read-only for the resident.
    await chat.act("answer", text="x")
    assert chat.status == 409 and "审核" in chat.last["error"]
    await chat.act("submit")
    assert chat.status == 409
    async with chat_env.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(RecordRevision))
    assert count == 1


async def test_another_device_proves_identity_and_resumes_the_same_question(
    chat_env: ChatEnv,
) -> None:
    adult = chat_env.people["adult"]
    chat = await verified(chat_env)
    await run_script(chat, ADULT_SCRIPT, stop_at="residence.city")
    # The same browser reloads: straight back to the question.
    again = chat_env.chat()
    await again.state()
    assert again.position == "residence.city"
    other = await chat_env.new_browser()
    try:
        phone = ChatClient(other, adult.code)
        await phone.state()
        assert phone.view["stage"] == "identity"
        await phone.identity(adult.id_number)
        assert phone.position == "residence.city"
        assert [i["name"] for i in phone.view["summary"]][:3] == [
            "filler_role",
            "name",
            "id_number",
        ]
        await run_script(phone, ADULT_SCRIPT)
    finally:
        await other.close()
    async with chat_env.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(Record))
    assert count == 1


async def submit_and_return(chat_env: ChatEnv, fields: list[str] | None) -> ChatClient:
    """The adult fills in and submits the form; a reviewer returns it marking ``fields``."""
    from storage.models import Staff
    from storage.repositories.accounts import create_staff
    from storage.repositories.records import return_record

    adult = chat_env.people["adult"]
    chat = await verified(chat_env)
    await run_script(chat, ADULT_SCRIPT)
    await chat.act("proceed")
    await run_script(chat, TAIL_SCRIPT, stop_at="complete")
    await chat.act("submit")
    async with chat_env.sessions() as session, session.begin():
        staff: Staff = await create_staff(session, "reviewer1", "a-long-password-1")
        record = await session.scalar(
            select(Record).where(Record.live_person_id == adult.person_id)
        )
        assert record is not None
        await return_record(session, record, staff=staff, comment="请核对手机号码", fields=fields)
    return chat


async def test_the_first_view_after_a_return_asks_the_marked_fields(chat_env: ChatEnv) -> None:
    chat = await submit_and_return(chat_env, ["mobile", "current_status"])
    await chat.state()
    # Straight at the first marked question, with the comment and the fields by their labels.
    assert chat.view["status"] == "returned" and chat.position == "mobile"
    assert chat.view["returned"]["comment"] == "请核对手机号码"
    assert chat.view["returned"]["fields"] == ["手机号码", "当前状态"]
    assert chat.view["notices"] == []  # the view says it; the notification is not repeated
    await chat.state()
    assert chat.position == "mobile" and chat.view["returned"]["fields"] == ["手机号码", "当前状态"]
    # Only the marked questions can be changed.
    editable = {item["name"] for item in chat.view["summary"] if item["editable"]}
    assert editable == {"mobile", "current_status"}
    await chat.act("edit", field="remarks")
    assert chat.status == 400


async def test_resubmitting_needs_every_marked_field_answered_again(chat_env: ChatEnv) -> None:
    chat = await submit_and_return(chat_env, ["mobile", "current_status"])
    await chat.state()
    await chat.act("back")  # to the review without looking at the marked questions
    assert chat.view["stage"] == "review"
    assert chat.view["returned"]["awaiting"] == ["手机号码", "当前状态"]
    await chat.act("proceed")
    assert "手机号码、当前状态" in chat.last["error"] and chat.view["stage"] == "review"
    await chat.act("submit")
    assert chat.status == 409
    await chat.act("edit", field="mobile")
    await chat.act("answer", text="13700002222")  # changed
    await chat.act("keep")  # 当前状态 kept on purpose
    assert chat.view["stage"] == "review" and chat.view["returned"]["awaiting"] == []
    await chat.act("proceed")
    await run_script(chat, TAIL_SCRIPT, stop_at="complete")
    await chat.act("submit")
    assert chat.view["stage"] == "submitted"
    async with chat_env.sessions() as session:
        revisions = (await session.scalars(select(RecordRevision).order_by(RecordRevision.n))).all()
        resubmitted = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "resubmitted")
        )
    assert [r.n for r in revisions] == [1, 2]
    assert revisions[1].answers["mobile"] == "13700002222"
    assert resubmitted is not None and resubmitted.details["unchanged"] == ["current_status"]


async def test_a_return_without_marked_fields_opens_the_summary(chat_env: ChatEnv) -> None:
    chat = await submit_and_return(chat_env, None)
    await chat.state()
    assert chat.view["stage"] == "review" and chat.view["returned"]["fields"] == []
    assert all(i["editable"] for i in chat.view["summary"] if i["name"] not in DERIVED)
    await chat.act("proceed")
    await run_script(chat, TAIL_SCRIPT, stop_at="complete")
    await chat.act("submit")
    assert chat.view["stage"] == "submitted"


async def test_someone_elses_record_is_not_duplicated(chat_env: ChatEnv) -> None:
    from storage.models import Community, Person
    from storage.repositories.accounts import create_investigator
    from storage.repositories.actors import Actor
    from storage.repositories.records import get_or_start_draft

    adult = chat_env.people["adult"]
    async with chat_env.sessions() as session, session.begin():
        person = await session.get(Person, adult.person_id)
        assert person is not None
        community = await session.get(Community, person.community_id)
        assert community is not None
        investigator, _code = await create_investigator(session, "调查员甲", [community])
        await get_or_start_draft(
            session,
            person,
            form_id=chat_env.form.id,
            form_version=chat_env.form.version,
            filled_by=FilledBy.investigator,
            state={"form_id": chat_env.form.id},
            actor=Actor.investigator(investigator),
            investigator=investigator,
        )
    chat = await verified(chat_env)
    assert chat.view["stage"] == "duplicate"
    assert "调查员 调查员甲" in chat.view["message"] and "无需重复" in chat.view["message"]
    await chat.act("answer", text="")
    assert chat.status == 409
    async with chat_env.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(Record))
    assert count == 1


async def test_a_double_tap_is_applied_once(chat_env: ChatEnv) -> None:
    import asyncio

    chat = await verified(chat_env)
    await run_script(chat, ADULT_SCRIPT, stop_at="filler_role")
    version = chat.view["version"]
    first, second = ChatClient(chat.client, chat.code), ChatClient(chat.client, chat.code)
    await asyncio.gather(
        first.act("answer", text="self", version=version),
        second.act("answer", text="proxy", version=version),
    )
    assert sorted([first.status, second.status]) == [200, 409]
    winner = first if first.status == 200 else second
    record = await record_of(chat_env.sessions, chat_env.people["adult"].person_id)
    assert record is not None
    assert record.version == version + 1
    assert record.state["position"] == "name"
    assert record.state["answers"]["filler_role"] == ("self" if winner is first else "proxy")


async def test_full_numbers_never_reach_the_log(
    chat_env: ChatEnv, caplog: pytest.LogCaptureFixture
) -> None:
    # The production level (INFO), and everything of this application's own loggers.
    caplog.set_level("INFO")
    caplog.set_level("DEBUG", logger="bot")
    adult = chat_env.people["adult"]
    chat = chat_env.chat()
    await chat.identity(WRONG_ID)
    await chat.identity(adult.id_number)
    await run_script(chat, ADULT_SCRIPT, stop_at="insured_status")
    assert caplog.records  # something was logged (access log, store)
    for number in (adult.id_number, WRONG_ID, adult.mobile or "", "13900001111"):
        assert number not in caplog.text
