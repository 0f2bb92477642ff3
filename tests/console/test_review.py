"""Review: the queue, the record page, confirm, return, bulk confirm, mobilisation follow-up."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient
from conftest import csrf_of, login
from seed import World
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import AuditEvent, Outbox, Person, Record, RecordStatus

Client = TestClient  # type: ignore[type-arg]


async def _record(sessions: async_sessionmaker[AsyncSession], record_id: int) -> Record:
    async with sessions() as db:
        record = await db.get(Record, record_id)
        assert record is not None
        return record


async def _id_number(sessions: async_sessionmaker[AsyncSession], record: Record) -> str:
    async with sessions() as db:
        person = await db.get(Person, record.person_id)
        assert person is not None
        return person.id_number


async def test_queue_masks_numbers_and_filters(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "city_admin")
    html = await (await client.get("/console/queue")).text()
    plain = await _record(sessions, world.records["plain"])
    number = await _id_number(sessions, plain)
    assert number not in html
    assert f"{number[:4]}**********{number[-4:]}" in html
    assert "13812345678" not in html and "138****5678" in html
    # Default: submitted only.
    assert "林晓" in html and "周敏" not in html and "吴刚" not in html
    flagged = await (await client.get("/console/queue?flag=warnings")).text()
    assert "林大海" in flagged and "林晓" not in flagged
    unflagged = await (await client.get("/console/queue?flag=none")).text()
    assert "林晓" in unflagged and "林大海" not in unflagged
    returned = await (await client.get("/console/queue?status=returned")).text()
    assert "吴刚" in returned and "林晓" not in returned
    community = world.communities["gusu2"]
    by_area = await (await client.get(f"/console/queue?status=all&community={community}")).text()
    assert "吴刚" in by_area and "郑芳" in by_area and "林晓" not in by_area
    past = await (await client.get("/console/queue?status=all&to=2000-01-01")).text()
    assert "没有符合条件的记录" in past
    investigators = await (await client.get("/console/queue?filled_by=investigator")).text()
    assert "没有符合条件的记录" in investigators


async def test_queue_pages(client: Client, world: World) -> None:
    await login(client, "city_admin")
    html = await (await client.get("/console/queue?status=all&page=1")).text()
    assert "第 1 / 1 页" in html
    beyond = await (await client.get("/console/queue?status=all&page=9")).text()
    assert "没有符合条件的记录" in beyond


async def test_record_page_shows_answers_in_form_order_flags_history_and_audit(
    client: Client, world: World
) -> None:
    await login(client, "city_admin")
    html = await (await client.get(f"/console/records/{world.records['flagged']}")).text()
    labels = ["姓名", "公民身份号码", "出生日期", "性别", "年龄", "手机号码", "当前参保状态"]
    positions = [html.index(f"<dt>{label}") for label in labels]
    assert positions == sorted(positions)
    assert "从未参保" in html and "无业" in html and "单位未参保" in html
    assert "未参保原因选了“单位未参保”" in html  # the consistency warning in words
    assert "第 1 版" in html and "首次提交" in html
    assert "提交" in html and "开始填写" in html  # audit trail


async def test_confirm_notifies_the_chat_user_and_is_audited(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "gusu_rev")
    record = await _record(sessions, world.records["plain"])
    token = await csrf_of(client, f"/console/records/{record.id}")
    response = await client.post(
        f"/console/records/{record.id}/confirm",
        data={"_csrf": token, "version": str(record.version)},
    )
    assert response.status == 200
    assert "已确认" in await response.text()
    after = await _record(sessions, record.id)
    assert after.status == RecordStatus.confirmed
    assert after.confirmed_by == world.staff["gusu"].id
    async with sessions() as db:
        sent = (await db.scalars(select(Outbox).where(Outbox.record_id == record.id))).all()
        events = (
            await db.scalars(select(AuditEvent).where(AuditEvent.record_id == record.id))
        ).all()
    assert [o.kind for o in sent] == ["record_confirmed"]
    confirmed = [e for e in events if e.action == "confirmed"]
    assert confirmed and confirmed[0].actor_label == "姑苏审核员"
    # Confirmed is read-only: no review form any more, and a second confirm is refused.
    page = await (await client.get(f"/console/records/{record.id}")).text()
    assert "确认无误" not in page and "已确认的记录只读" in page
    again = await client.post(
        f"/console/records/{record.id}/confirm",
        data={"_csrf": token, "version": str(after.version)},
    )
    assert "只能确认已提交、待审核的记录" in await again.text()


async def test_return_with_comment_and_fields(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "city_admin")
    record = await _record(sessions, world.records["flagged"])
    token = await csrf_of(client, f"/console/records/{record.id}")
    response = await client.post(
        f"/console/records/{record.id}/return",
        data={
            "_csrf": token,
            "version": str(record.version),
            "comment": "当前状态与未参保原因不一致，请核对",
            "fields": ["current_status", "uninsured_reasons"],
        },
    )
    assert "已退回" in await response.text()
    after = await _record(sessions, record.id)
    assert after.status == RecordStatus.returned
    assert after.return_fields == ["current_status", "uninsured_reasons"]
    async with sessions() as db:
        note = await db.scalar(select(Outbox).where(Outbox.record_id == record.id))
        event = await db.scalar(
            select(AuditEvent).where(
                AuditEvent.record_id == record.id, AuditEvent.action == "returned"
            )
        )
    assert note is not None and note.kind == "record_returned"
    assert note.payload["fields"] == ["current_status", "uninsured_reasons"]
    assert event is not None and event.reason == "当前状态与未参保原因不一致，请核对"


async def test_return_without_comment_is_refused_and_changes_nothing(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "city_admin")
    record = await _record(sessions, world.records["plain"])
    token = await csrf_of(client, f"/console/records/{record.id}")
    response = await client.post(
        f"/console/records/{record.id}/return",
        data={"_csrf": token, "version": str(record.version), "comment": "  "},
    )
    assert "退回时请写明需要修改的内容" in await response.text()
    assert (await _record(sessions, record.id)).status == RecordStatus.submitted


async def test_a_stale_version_is_a_clear_conflict(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "city_admin")
    record = await _record(sessions, world.records["plain"])
    token = await csrf_of(client, f"/console/records/{record.id}")
    response = await client.post(
        f"/console/records/{record.id}/confirm",
        data={"_csrf": token, "version": str(record.version - 1)},
    )
    assert "已被他人修改" in await response.text()
    assert (await _record(sessions, record.id)).status == RecordStatus.submitted


async def test_bulk_confirm_skips_flagged_records(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "city_admin")
    token = await csrf_of(client, "/console/queue")
    ids = [world.records["plain"], world.records["flagged"], world.records["returned"]]
    response = await client.post(
        "/console/queue/confirm",
        data=[("_csrf", token), ("scope", "selected"), *[("ids", str(i)) for i in ids]],
    )
    text = await response.text()
    assert "已确认 1 条记录" in text and "2 条因带有标记或状态不符未确认" in text
    assert (await _record(sessions, world.records["plain"])).status == RecordStatus.confirmed
    assert (await _record(sessions, world.records["flagged"])).status == RecordStatus.submitted
    assert (await _record(sessions, world.records["returned"])).status == RecordStatus.returned


async def test_bulk_confirm_of_the_filtered_queue(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "gusu_rev")
    token = await csrf_of(client, "/console/queue")
    response = await client.post(
        "/console/queue/confirm", data={"_csrf": token, "scope": "filtered", "status": "all"}
    )
    assert "已确认 1 条记录" in await response.text()
    assert (await _record(sessions, world.records["plain"])).status == RecordStatus.confirmed
    assert (await _record(sessions, world.records["flagged"])).status == RecordStatus.submitted
    # The other district's unflagged record is outside this reviewer's scope.
    assert (await _record(sessions, world.records["other"])).status == RecordStatus.submitted


async def test_mobilisation_follow_up(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "city_admin")
    record = await _record(sessions, world.records["confirmed"])
    token = await csrf_of(client, f"/console/records/{record.id}")
    bad = await client.post(
        f"/console/records/{record.id}/enroll",
        data={"_csrf": token, "version": str(record.version), "enrolled_at": "20.11.2014"},
    )
    assert "参保日期：日期格式不对" in await bad.text()
    none = await client.post(
        f"/console/records/{record.id}/enroll",
        data={"_csrf": token, "version": str(record.version), "enrolled_at": "2014-11-20"},
    )
    assert "请选择办理的险种" in await none.text()
    good = await client.post(
        f"/console/records/{record.id}/enroll",
        data=[
            ("_csrf", token),
            ("version", str(record.version)),
            ("enrolled_at", "2014-11-20"),
            ("insurance", "职工养老保险（单位参保）"),
            ("insurance", "职工医疗保险（单位参保）"),
        ],
    )
    html = await good.text()
    assert "已登记动员后参保情况" in html
    assert re.search(r"动员后已参保：2014-11-20 · 职工养老保险（单位参保）、职工医疗保险", html)
    after = await _record(sessions, record.id)
    assert str(after.enrolled_at) == "2014-11-20"


async def test_correcting_a_confirmed_record_makes_a_new_revision_with_the_reason(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "city_admin")
    record = await _record(sessions, world.records["confirmed"])
    page = await (await client.get(f"/console/records/{record.id}")).text()
    assert "确认无误" not in page and 'action="/console/records/' in page and "更正原因" in page
    token = await csrf_of(client, f"/console/records/{record.id}")
    no_reason = await client.post(
        f"/console/records/{record.id}/correct",
        data={"_csrf": token, "version": str(record.version), "field": "mobile", "value": "1"},
    )
    assert "必须写明原因" in await no_reason.text()
    invalid = await client.post(
        f"/console/records/{record.id}/correct",
        data={
            "_csrf": token,
            "version": str(record.version),
            "field": "mobile",
            "value": "12345",
            "reason": "电话核实",
        },
    )
    assert "手机号码不正确" in await invalid.text()
    path_change = await client.post(
        f"/console/records/{record.id}/correct",
        data={
            "_csrf": token,
            "version": str(record.version),
            "field": "insured_status",
            "value": "在外地参保（或享受社保待遇）",
            "reason": "电话核实",
        },
    )
    assert "不能直接更正" in await path_change.text()
    good = await client.post(
        f"/console/records/{record.id}/correct",
        data={
            "_csrf": token,
            "version": str(record.version),
            "field": "mobile",
            "value": "139 0000 1111",
            "reason": "本人电话更正",
        },
    )
    html = await good.text()
    assert "已更正，生成第 2 版" in html
    assert "第 2 版 · 市中心审核员" in html and "原因：本人电话更正" in html
    assert "<del>13712345678</del>" in html and "<ins>13900001111</ins>" in html
    after = await _record(sessions, record.id)
    assert after.status == RecordStatus.confirmed
    assert after.state["answers"]["mobile"] == "13900001111"


async def test_a_correction_recomputes_the_consistency_flags(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "city_admin")
    record = await _record(sessions, world.records["confirmed"])
    assert record.flags == []
    token = await csrf_of(client, f"/console/records/{record.id}")
    response = await client.post(
        f"/console/records/{record.id}/correct",
        data={
            "_csrf": token,
            "version": str(record.version),
            "field": "current_status",
            "value": "无业",
            "reason": "入户核实后更正",
        },
    )
    assert "已更正，生成第 2 版" in await response.text()
    after = await _record(sessions, record.id)
    # 单位未参保 without 单位就业 is now inconsistent: the record carries the warning again.
    assert after.flags == ["W_EMPLOYER_REASON"]
    assert "workplace_name" not in after.state["answers"]


async def test_queue_shows_the_answered_mobile_not_the_rosters(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as db, db.begin():
        record = await db.get(Record, world.records["plain"])
        assert record is not None
        state = dict(record.state)
        state["answers"] = {**state["answers"], "mobile": "13900002222"}
        record.state = state
    await login(client, "city_admin")
    html = await (await client.get("/console/queue")).text()
    assert "139****2222" in html


async def test_a_returned_record_names_the_fields_by_their_labels(
    client: Client, world: World
) -> None:
    await login(client, "city_admin")
    html = await (await client.get(f"/console/records/{world.records['returned']}")).text()
    assert "需修改：手机号码" in html
    assert "mobile" not in re.sub(r"<[^>]+>", "", html)  # no field code anywhere in the text
    assert "退回修改（需修改：手机号码）" in html  # the audit log too


async def test_the_audit_log_says_which_question_a_saved_step_was(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    from storage.repositories.actors import Actor
    from storage.repositories.audit import add_event

    record = await _record(sessions, world.records["plain"])
    async with sessions() as db, db.begin():
        for details in (
            {"position": "insured_status", "action": "keep", "field": "mobile"},
            {"position": "residence.road", "action": "answer", "field": "residence.district"},
            {"position": "current_status"},  # saved before steps were described
        ):
            add_event(
                db,
                Actor.resident("web-1"),
                "draft_saved",
                record_id=record.id,
                person_id=record.person_id,
                channel="web",
                details=details,
            )
    await login(client, "city_admin")
    html = await (await client.get(f"/console/records/{record.id}")).text()
    assert "确认原内容：手机号码" in html
    assert "保存答案：当前常住地：区（县）" in html
    assert "保存答案（下一题：当前状态）" in html
    assert "<td>保存答案</td>" not in html


async def test_the_console_is_chinese_unless_english_is_picked(
    client: Client, world: World
) -> None:
    await login(client, "city_admin")
    queue = await (await client.get("/console/queue")).text()
    assert '<html lang="zh-CN">' in queue and "审核队列" in queue
    # The switch on every page, remembered by this browser.
    response = await client.post(
        "/console/lang",
        data={
            "to": "en",
            "next": "/console/queue",
            "_csrf": await csrf_of(client, "/console/queue"),
        },
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == "/console/queue"
    english = await (await client.get("/console/queue")).text()
    assert '<html lang="en">' in english
    assert "Review queue" in english and "审核队列" not in english
    assert "To review" in english  # a label made in Python
    record = await (await client.get(f"/console/records/{world.records['returned']}")).text()
    assert "Returned, waiting for changes" in record and "To change:" in record
    assert "Audit log" in record
    back = await client.post(
        "/console/lang",
        data={
            "to": "zh",
            "next": "/console/queue",
            "_csrf": await csrf_of(client, "/console/queue"),
        },
    )
    assert "审核队列" in await back.text()
    # Somewhere else than the console is never a place to go back to.
    away = await client.post(
        "/console/lang",
        data={"to": "en", "next": "https://example.org/", "_csrf": await csrf_of(client)},
        allow_redirects=False,
    )
    assert away.headers["Location"] == "/console/"
