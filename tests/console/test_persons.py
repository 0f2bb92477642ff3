"""Reaching everyone on the roster in the console: 未联系 on the progress page, person lists,
a person's contact log and form, a household (户不漏人), the call list export; scoped."""

from __future__ import annotations

import datetime as dt
import io
import re

from aiohttp.test_utils import TestClient
from conftest import csrf_of, login
from openpyxl import load_workbook
from seed import World, add_not_collected
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.calllist import HEADERS
from flows import Form
from storage.models import AuditEvent, Contact, ContactOutcome, Person
from storage.types import frozen_time

Client = TestClient  # type: ignore[type-arg]
NOON = dt.datetime(2014, 11, 20, 4, 0, tzinfo=dt.UTC)  # 12:00 in Suzhou


def _tile(html: str, label: str) -> str:
    match = re.search(r"<b>([^<]+)</b><span>" + label + "</span>", html)
    assert match, label
    return match.group(1)


async def _person(sessions: async_sessionmaker[AsyncSession], name: str) -> Person:
    async with sessions() as db:
        # Names are sealed in the store: found among the people, not by SQL.
        person = next((p for p in await db.scalars(select(Person)) if p.name == name), None)
        assert person is not None
        return person


async def test_progress_shows_unreached_counts_shares_and_deadlines(
    client: Client, world: World
) -> None:
    await login(client, "city_admin")
    with frozen_time(NOON):
        page = await (await client.get("/console/progress")).text()
    # 赵丽 (高新区) is the only one on the roster nobody has reached: no contact, no form.
    assert _tile(page, "调查对象") == "7"
    assert _tile(page, "未联系") == "1" and "占 14.3%" in page
    assert _tile(page, "填写中") == "1" and _tile(page, "待审核") == "3"
    # The tiles add up to the roster: one status per person.
    statuses = ["未联系", "已发邀请", "已联系", "填写中", "待审核", "已退回", "已确认", "未采集"]
    assert sum(int(_tile(page, s)) for s in statuses) == 7
    # Deadlines (the notice's defaults) as days left, and 各区 against the district deadline.
    assert "社区完成采集并上传：2014-12-10（还剩 20 天）" in page
    assert "期限：各区完成工作总结 2014-12-31（还剩 41 天）" in page
    assert re.search(
        r"高新区</a></td>\s*<td>2</td>\s*<td class=\"unreached\">1 <small>\(50\.0%\)", page
    )
    gusu = world.districts["姑苏区"]
    district = await (await client.get(f"/console/progress?level=district&id={gusu}")).text()
    assert _tile(district, "未联系") == "0"
    assert (
        f'href="/console/persons?level=street&amp;id={world.streets["姑苏区/平江街道"]}"'
        in district
    )


async def test_a_deadline_in_the_past_is_overdue_once(client: Client, world: World) -> None:
    await login(client, "city_admin")
    with frozen_time(dt.datetime(2026, 12, 4, 4, 0, tzinfo=dt.UTC)):
        page = await (await client.get("/console/progress")).text()
    assert "社区完成采集并上传：2014-12-10（已过期）" in page
    assert "调查结束：2015-01-31（已过期）" in page
    assert "<b>已过期</b><span>调查结束 2015-01-31</span>" in page
    assert not re.search(r"已过 ?\d+ ?天|已超过|\d{3,} 天", page)


async def test_community_list_filters_pages_and_masks(
    client: Client, world: World, form: Form, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_not_collected(sessions, form, world, "孙远")  # 人户分离, 平江路社区
    await login(client, "gusu_rev")
    community = world.communities["gusu"]
    response = await client.get(f"/console/persons?level=community&id={community}")
    assert response.status == 200
    page = await response.text()
    assert "共 4 人" in page
    for name in ("林晓", "林大海", "周敏", "孙远"):
        assert name in page
    linxiao = await _person(sessions, "林晓")
    assert linxiao.id_number not in page and "138****5678" in page
    assert "未采集（人户分离）" in page and "待审核" in page
    separated = await (
        await client.get(
            f"/console/persons?level=community&id={community}&status=not_collected:separated"
        )
    ).text()
    assert "孙远" in separated and "林晓" not in separated and "共 1 人" in separated
    unreached = await (
        await client.get(f"/console/persons?level=community&id={community}&status=not_contacted")
    ).text()
    assert "没有符合条件的人员" in unreached
    # Out of scope: another district's community answers 404, its people are never listed.
    gaoxin = world.communities["gaoxin"]
    assert (await client.get(f"/console/persons?level=community&id={gaoxin}")).status == 404
    city = await (await client.get("/console/persons")).text()
    assert "赵丽" not in city and "林晓" in city
    other = await _person(sessions, "赵丽")
    assert (await client.get(f"/console/persons/{other.id}")).status == 404
    assert (await client.get("/console/persons?investigator=99999")).status == 404
    # A malformed parameter is a 400 naming it (bot/params.py), never a silently wider list.
    odd = await client.get(f"/console/persons?level=community&id={community}&status=x&page=-3")
    assert odd.status == 400 and "page" in await odd.text()


async def test_recording_a_contact_from_the_person_page(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "city_admin")
    person = await _person(sessions, "赵丽")
    url = f"/console/persons/{person.id}"
    with frozen_time(NOON):
        page = await (await client.get(url)).text()
        assert "未联系" in page and "18912345678" in page  # the number to call, in full
        token = await csrf_of(client, url)
        # Without the CSRF token: refused, nothing written.
        forged = await client.post(
            f"{url}/contacts", data={"contacted_on": "2014-11-20", "outcome": "no_answer"}
        )
        assert forged.status == 403
        for data, message in (
            ({"contacted_on": "2014-11-21", "outcome": "no_answer"}, "晚于今天"),
            ({"contacted_on": "11/20", "outcome": "no_answer"}, "联系日期：日期格式不对"),
            ({"contacted_on": "2014-11-20", "outcome": "invited"}, "联系结果应为"),
        ):
            refused = await client.post(f"{url}/contacts", data={"_csrf": token, **data})
            assert message in await refused.text()
        saved = await client.post(
            f"{url}/contacts",
            data={
                "_csrf": token,
                "contacted_on": "2014-11-20",
                "outcome": "no_answer",
                "note": "下午再打",
            },
        )
        text = await saved.text()
    assert "已记录联系：2014-11-20 无人接听" in text
    assert "已联系（无人接听）" in text and "下午再打" in text and "市中心审核员" in text
    async with sessions() as db:
        (contact,) = (await db.scalars(select(Contact))).all()
        assert (contact.outcome, contact.staff_id, contact.channel) == (
            ContactOutcome.no_answer,
            world.staff["city"].id,
            "console",
        )
        audited = await db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "contact_recorded", AuditEvent.person_id == person.id)
        )
        assert audited == 1
    # District staff of another district cannot write to this person.
    await login(client, "gusu_rev")
    token = await csrf_of(client, "/console/queue")
    blocked = await client.post(
        f"{url}/contacts",
        data={"_csrf": token, "contacted_on": "2014-11-20", "outcome": "notified"},
    )
    assert blocked.status == 404


async def test_household_shows_who_is_still_missing(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "gusu_rev")
    returned = await _person(sessions, "吴刚")
    page = await (await client.get(f"/console/households/{returned.household_id}")).text()
    assert "户不漏人：还差 1 人 —— 吴刚（已退回）" in page
    done = await _person(sessions, "林晓")
    complete = await (await client.get(f"/console/households/{done.household_id}")).text()
    assert "这一户已全部完成" in complete
    other = await _person(sessions, "王强")
    assert (await client.get(f"/console/households/{other.household_id}")).status == 404


async def test_call_list_export_lists_who_to_call_and_sends_invites(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "city_admin")
    gaoxin = world.communities["gaoxin"]
    token = await csrf_of(client, "/console/queue")
    assert (await client.post("/console/calllist", data={"level": "community"})).status == 403
    with frozen_time(NOON):
        response = await client.post(
            "/console/calllist", data={"_csrf": token, "level": "community", "id": str(gaoxin)}
        )
    assert response.status == 200
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(await response.read())).active
    assert sheet is not None
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header == list(HEADERS)
    # 王强 has handed in a form: only 赵丽 is left to call, with her link and number.
    ((row),) = rows
    by = dict(zip(header, row, strict=True))
    assert (by["姓名"], by["联系电话"], by["状态"]) == ("赵丽", "18912345678", "未联系")
    assert by["网页链接"].endswith(f"/c/{by['邀请码']}")
    zhao = await _person(sessions, "赵丽")
    assert zhao.last_contact_outcome == ContactOutcome.invited
    assert zhao.last_contact_on == dt.date(2014, 11, 20)
    async with sessions() as db:
        exported = await db.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "exported", AuditEvent.channel == "console"
            )
        )
        assert exported is not None and exported.details["newly_invited"] == 1
    progress = await (await client.get(f"/console/progress?level=community&id={gaoxin}")).text()
    assert _tile(progress, "未联系") == "0" and _tile(progress, "已发邀请") == "1"
    # District staff cannot export another district's list.
    await login(client, "gusu_rev")
    token = await csrf_of(client, "/console/queue")
    denied = await client.post(
        "/console/calllist", data={"_csrf": token, "level": "community", "id": str(gaoxin)}
    )
    assert denied.status == 404


async def test_investigator_list_is_their_communities(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "gusu_rev")
    assert world.investigator is not None
    progress = await (await client.get("/console/progress")).text()
    assert f'href="/console/persons?investigator={world.investigator.id}"' in progress
    page = await (await client.get(f"/console/persons?investigator={world.investigator.id}")).text()
    assert "调查员 钱调查" in page and "共 3 人" in page and "林晓" in page
    await login(client, "gaoxin_rev")
    assert (
        await client.get(f"/console/persons?investigator={world.investigator.id}")
    ).status == 404
