"""Progress 市 → 区 → 街道 → 社区: counts, rates, reasons, investigators, the daily chart."""

from __future__ import annotations

import datetime as dt
import re

from aiohttp.test_utils import TestClient
from conftest import csrf_of, login
from seed import World, add_not_collected
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.console.chart import Series, cumulative, line_chart
from bot.deadlines import deadline_for, deadlines
from bot.settings import Settings
from flows import Form
from storage import reporting

Client = TestClient  # type: ignore[type-arg]


def _tile(html: str, label: str) -> str:
    match = re.search(r"<b>([^<]+)</b><span>" + label + "</span>", html)
    assert match, label
    return match.group(1)


async def test_city_totals_and_district_lines(
    sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    async with sessions() as db:
        total, districts = await reporting.progress(db, None)
    assert total.target == 7 and total.households == 6
    assert (total.drafts, total.submitted, total.returned, total.confirmed) == (1, 3, 1, 1)
    assert total.households_visited == 4
    assert total.collected == 5 and total.rate == 5 / 7
    gusu, gaoxin = districts
    assert (gusu.name, gusu.target, gusu.submitted, gusu.drafts) == ("姑苏区", 5, 2, 1)
    assert (gaoxin.name, gaoxin.target, gaoxin.submitted) == ("高新区", 2, 1)


async def test_drill_down_to_a_community(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "city_admin")
    city = await (await client.get("/console/progress")).text()
    gusu = world.districts["姑苏区"]
    assert f'href="/console/progress?level=district&amp;id={gusu}"' in city
    district = await (await client.get(f"/console/progress?level=district&id={gusu}")).text()
    street = world.streets["姑苏区/平江街道"]
    assert f'level=street&amp;id={street}"' in district and "沧浪街道" in district
    street_page = await (await client.get(f"/console/progress?level=street&id={street}")).text()
    community = world.communities["gusu"]
    assert f'level=community&amp;id={community}"' in street_page
    page = await (await client.get(f"/console/progress?level=community&id={community}")).text()
    assert "平江路社区" in page
    assert _tile(page, "调查对象") == "3"
    assert _tile(page, "待审核") == "2"
    assert _tile(page, "已确认") == "1"
    assert _tile(page, "采集率") == "100.0%"
    assert "<svg" in page and "每日进度" in page
    assert (await client.get("/console/progress?level=street&id=abc")).status == 404
    assert (await client.get("/console/progress?level=planet&id=1")).status == 404


async def test_progress_changes_after_a_review_and_counts_reasons(
    client: Client, world: World, form: Form, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "gusu_rev")
    before = await (await client.get("/console/progress")).text()
    assert _tile(before, "已确认") == "1" and _tile(before, "未采集") == "0"
    token = await csrf_of(client, "/console/queue")
    await client.post(
        "/console/queue/confirm", data={"_csrf": token, "scope": "filtered", "status": "all"}
    )
    await add_not_collected(sessions, form, world, "孙远")
    after = await (await client.get("/console/progress")).text()
    assert _tile(after, "已确认") == "2"
    assert _tile(after, "未采集") == "1"
    assert "人户分离 1 人" in after
    # The investigator's line.
    assert re.search(r"<td>钱调查</td>(<td>\d+</td>){5}<td>1</td>", after)


async def test_investigator_counts(
    sessions: async_sessionmaker[AsyncSession], world: World, form: Form
) -> None:
    await add_not_collected(sessions, form, world, "孙远", "长期外出")
    async with sessions() as db:
        lines = await reporting.investigator_progress(db, None)
        total, _ = await reporting.progress(db, None)
    assert [(line.name, line.submitted, line.not_collected) for line in lines] == [
        ("钱调查", 1, {"away": 1})
    ]
    assert total.not_collected == {"away": 1}
    # A 未采集 record is handed in but does not count as collected.
    assert total.collected == 5 and total.submitted == 4


def test_deadlines_count_days_left_and_a_passed_one_is_overdue() -> None:
    settings = Settings(
        community_deadline=dt.date(2014, 12, 10),
        district_deadline=dt.date(2014, 12, 31),
        survey_end=dt.date(2015, 1, 31),
    )
    items = deadlines(settings, dt.date(2014, 12, 20))
    assert [(d.label, d.days_left, d.overdue, d.text) for d in items] == [
        ("社区完成采集并上传", -10, True, "2014-12-10（已过期）"),
        ("各区完成工作总结", 11, False, "2014-12-31（还剩 11 天）"),
        ("调查结束", 42, False, "2015-01-31（还剩 42 天）"),
    ]
    assert deadlines(settings, dt.date(2014, 12, 10))[0].when == "今天截止"
    # Years later it is still just overdue, never thousands of days.
    assert deadlines(settings, dt.date(2026, 12, 4))[0].when == "已过期"
    assert deadline_for("district", settings, dt.date(2014, 12, 20)).day == dt.date(2014, 12, 31)
    assert deadline_for("street", settings, dt.date(2014, 12, 20)).key == "community_deadline"
    assert deadline_for("city", settings, dt.date(2014, 12, 20)).key == "survey_end"


def test_chart_is_cumulative_and_escaped() -> None:
    days = [dt.date(2014, 11, d) for d in (1, 2, 3)]
    daily = {dt.date(2014, 10, 31): 2, dt.date(2014, 11, 2): 3}
    assert cumulative(daily, days) == [2, 5, 5]
    svg = line_chart([Series("<提交>", "#000", daily)], days[0], days[-1], "姑苏区 & 每日进度")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "&lt;提交&gt;" in svg and "姑苏区 &amp; 每日进度" in svg
    assert "<polyline" in svg
