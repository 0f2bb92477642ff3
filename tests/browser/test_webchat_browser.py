"""The web chat in Debian's chromium: a resident fills in the whole form from the link.

Proves identity (one wrong number first), answers with one wrong answer, goes back once,
reloads half way and continues, edits from the summary, submits; the record is then in the
store as submitted and in the staff console's review queue. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from bot.synthetic import make_id_number
from storage.models import Record, RecordRevision, RecordStatus
from tests.browser.chatpage import (
    STAFF_PASSWORD,
    at,
    click,
    needs_chromium,
    shot,
    sign_in,
    step,
    type_answer,
)
from tests.webchat.chatkit import Resident, years_ago

pytestmark = [pytest.mark.browser, needs_chromium]


async def test_a_resident_fills_in_the_form_in_the_browser(site: Any, page: Any) -> None:
    server, sessions, people = site
    adult: Resident = people["adult"]
    link = str(server.make_url(f"/c/{adult.code}"))

    await page.goto(link)
    await page.wait_for_selector("#app[data-stage='identity']")
    assert "张某（平江路社区）" in await page.inner_text("#log")  # nothing of the number yet
    wrong = make_id_number(years_ago(50), "M", "320508", seq=99)
    await type_answer(page, wrong)
    assert "还可以再试 4 次" in await page.inner_text("#log")
    await shot(page, "1-identity")
    await type_answer(page, adult.id_number)
    assert await at(page) == "privacy_notice"

    await click(page, "我已阅读，继续")
    await click(page, "本人")
    assert await at(page) == "name"
    await step(page, lambda: page.click("#choices .keep"))  # the roster's name
    await step(page, lambda: page.click("#choices .keep"))  # the roster's ID (shown masked)
    assert await at(page) == "mobile"
    await type_answer(page, "12345")  # a wrong answer: explained, the same question again
    assert "11位" in await page.locator(".bubble.error").last.inner_text()
    assert await at(page) == "mobile"
    await type_answer(page, "13900001111")
    assert await at(page) == "insured_status"
    await shot(page, "2-choices")
    await click(page, "从未参保")
    await click(page, "江苏省")
    await click(page, "苏州市")
    await click(page, "姑苏区")
    assert await at(page) == "residence.road"

    # Reload half way: the page resumes at the same question, answers so far listed.
    await page.reload()
    await page.wait_for_selector("#app[data-state='residence.road']")
    assert "接着上次的进度继续" in await page.inner_text("#log")
    await shot(page, "3-resumed")
    await type_answer(page, "人民路")
    await type_answer(page, "100")
    await click(page, "无业")
    assert await at(page) == "uninsured_reasons"
    await step(page, lambda: page.click("#back"))  # back: a different status after all
    assert await at(page) == "current_status"
    await click(page, "灵活就业")
    await click(page, "无缴费能力")
    assert await page.locator("#choices .toggle.on").count() == 1
    await click(page, "完成")
    await click(page, "跳过")  # 备注
    assert await at(page) == "review"

    # Edit from the summary: the mobile number.
    await shot(page, "4-review")
    await step(page, lambda: page.locator(".bubble.review .edit[data-field='mobile']").last.click())
    assert await at(page) == "mobile"
    await type_answer(page, "13700002222")
    assert await page.get_attribute("#app", "data-stage") == "review"
    assert "137****2222" in await page.locator(".bubble.review").last.inner_text()
    await click(page, "确认无误，继续")
    assert await at(page) == "confirmer_name"
    await step(page, lambda: page.click("#choices .keep"))
    await click(page, "确认")  # 我已知悉本表告知事项……
    assert await page.get_attribute("#app", "data-stage") == "complete"
    await click(page, "提交")
    assert await page.get_attribute("#app", "data-stage") == "submitted"
    log = await page.inner_text("#log")
    assert "提交成功" in log and re.search(r"CB\d{8}", log)
    assert "灵活就业人员" in log  # the mobilisation text for 灵活就业
    assert adult.id_number not in log  # never shown in full
    await shot(page, "5-submitted")

    async with sessions() as session:
        record = await session.scalar(
            select(Record).where(Record.live_person_id == adult.person_id)
        )
        assert record is not None and record.status == RecordStatus.submitted
        revision = await session.scalar(
            select(RecordRevision).where(RecordRevision.record_id == record.id)
        )
    assert revision is not None and revision.channel == "web"
    answers = revision.answers
    assert answers["mobile"] == "13700002222"
    assert answers["current_status"] == "flexible"
    assert answers["uninsured_reasons"] == ["cannot_afford"]
    assert answers["residence"]["road"] == "人民路"

    # The staff console's review queue lists it (when the console is installed).
    response = await page.goto(str(server.make_url("/console/queue")))
    if response is None or response.status == 404:
        return
    await page.fill("input[name=username]", "reviewer")
    await page.fill("input[name=password]", STAFF_PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector("table.queue")
    queue = await page.inner_text("table.queue")
    assert adult.name in queue
    assert adult.id_number[:4] + "*" * 10 + adult.id_number[-4:] in queue
    await page.set_viewport_size({"width": 1200, "height": 700})
    await shot(page, "6-console-queue")


async def test_an_unknown_link_shows_a_chinese_page(site: Any, page: Any) -> None:
    server, _sessions, _people = site
    response = await page.goto(str(server.make_url("/c/NoSuchInvite0000000000")))
    assert response is not None and response.status == 404
    assert "链接无效" in await page.inner_text("body")


async def test_staff_preview_in_the_browser_stores_nothing(site: Any, page: Any) -> None:
    server, sessions, _people = site
    await sign_in(page, server)
    await page.goto(str(server.make_url("/c/preview")))
    await page.wait_for_selector("#app[data-state='privacy_notice']")
    assert "预览模式" in await page.inner_text(".preview-banner")
    await click(page, "我已阅读，继续")
    await click(page, "本人")
    await type_answer(page, "张三")
    assert await at(page) == "id_number"
    await type_answer(page, "123")
    assert "18位" in await page.locator(".bubble.error").last.inner_text()
    await step(page, lambda: page.click("#restart-investigator"))
    assert await at(page) == "collection_status"
    await click(page, "未采集")
    await click(page, "长期外出")
    await click(page, "跳过")
    await click(page, "确认无误，继续")
    assert await page.get_attribute("#app", "data-stage") == "complete"
    await click(page, "提交")
    assert "预览不会保存" in await page.inner_text("#log")
    async with sessions() as session:
        assert await session.scalar(select(Record)) is None
