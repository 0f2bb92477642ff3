"""What each web chat screen says, in chromium: the progress line, hints, the statement, the
buttons of the completed form, the lock message, an empty answer, the return of a record, and
the staff preview."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from bot.synthetic import make_id_number
from storage.models import Record, RecordStatus
from storage.repositories.accounts import create_staff
from storage.repositories.records import return_record
from tests.browser.chatpage import (
    Site,
    at,
    bot_texts,
    click,
    fill_adult,
    keep,
    needs_chromium,
    open_verified,
    shot,
    sign_in,
    stage,
    step,
    type_answer,
)
from tests.webchat.chatkit import years_ago

pytestmark = [pytest.mark.browser, needs_chromium]


async def progress(page: Any) -> str:
    return str(await page.inner_text("#progress"))


async def test_the_progress_line_counts_what_is_left(site: Site, page: Any) -> None:
    server, _sessions, people = site
    await open_verified(page, server, people["adult"])
    assert await at(page) == "privacy_notice"
    seen = [await progress(page)]
    assert re.fullmatch(r"还剩 \d+ 题", seen[0])  # no "第 0/8 题" on the notice
    await click(page, "我已阅读，继续")
    await click(page, "本人")
    seen.append(await progress(page))
    await keep(page)
    seen.append(await progress(page))
    counts = [int(re.findall(r"\d+", s)[0]) for s in seen]
    assert counts == sorted(counts, reverse=True) and counts[-1] < counts[0]
    assert all("/" not in s for s in seen)  # no total that jumps as branches open


async def test_hints_fit_the_question_and_are_said_once(site: Site, page: Any) -> None:
    server, _sessions, people = site
    await open_verified(page, server, people["adult"])
    await click(page, "我已阅读，继续")
    await click(page, "本人")
    for _ in range(3):
        await keep(page)
    await click(page, "从未参保")
    for label in ("江苏省", "苏州市", "姑苏区"):
        await click(page, label)
    await type_answer(page, "人民路")
    await type_answer(page, "100")
    await click(page, "单位就业")
    await type_answer(page, "某某科技有限公司")
    await click(page, "江苏省")
    await click(page, "苏州市")
    assert await at(page) == "workplace_address.district"
    question = await page.locator(".bubble.question").last.inner_text()
    assert "工作或学习单位地址在苏州市" in question and "常住地" not in question
    await click(page, "吴中区")
    await type_answer(page, "东吴北路")
    await type_answer(page, "1")
    assert await at(page) == "uninsured_reasons"
    question = await page.locator(".bubble.question").last.inner_text()
    assert question.count("多选") == 1
    await click(page, "无缴费能力")
    await click(page, "完成")
    await click(page, "跳过")
    await click(page, "确认无误，继续")
    await keep(page)
    assert await at(page) == "acknowledgement"
    statement = await page.locator(".bubble.question").last.inner_text()
    assert "回复" not in statement  # there is a button, nothing to type
    assert await page.locator("#text-form").is_hidden()
    assert await page.locator("#choices").get_by_role("button", name="确认").count() == 1


async def test_the_completed_form_offers_back_and_edit(site: Site, page: Any) -> None:
    server, _sessions, people = site
    await open_verified(page, server, people["adult"])
    await fill_adult(page)
    assert await stage(page) == "complete"
    assert await page.locator("#back").is_enabled()
    assert await page.locator("#summary-btn").is_enabled()
    await step(page, lambda: page.click("#back"))
    assert await at(page) == "acknowledgement"
    await click(page, "确认")
    await page.click("#summary-btn")
    await step(page, lambda: page.locator("#panel .edit[data-field='mobile']").click())
    assert await at(page) == "mobile"


async def test_the_lock_message_is_said_once(site: Site, page: Any) -> None:
    server, _sessions, people = site
    other = people["other"]
    await page.goto(str(server.make_url(f"/c/{other.code}")))
    await page.wait_for_selector("#app[data-stage='identity']")
    for n in range(5):
        await type_answer(page, make_id_number(years_ago(50 + n), "M", "320508", seq=91))
    assert await stage(page) == "locked"
    texts = await bot_texts(page)
    assert sum("已锁定" in text for text in texts) == 1


async def test_an_empty_answer_says_what_is_expected(site: Site, page: Any) -> None:
    server, _sessions, people = site
    child = people["child"]
    await page.goto(str(server.make_url(f"/c/{child.code}")))
    await page.wait_for_selector("#app[data-stage='identity']")
    await step(page, lambda: page.click("#send"))
    assert "18位公民身份号码" in await page.locator(".bubble.error").last.inner_text()
    await type_answer(page, child.id_number)
    await click(page, "我已阅读，继续")
    await click(page, "监护人")
    assert await at(page) == "name"
    await step(page, lambda: page.click("#send"))
    assert "请填写“姓名”" in await page.locator(".bubble.error").last.inner_text()
    assert await at(page) == "name"


async def _return(site: Site, fields: list[str] | None) -> None:
    _server, sessions, people = site
    async with sessions() as session, session.begin():
        record = await session.scalar(
            select(Record).where(Record.live_person_id == people["adult"].person_id)
        )
        assert record is not None and record.status == RecordStatus.submitted
        staff = await create_staff(session, "returner", "a-long-password-2")
        await return_record(session, record, staff=staff, comment="请核对手机号码和当前状态",
                            fields=fields)  # fmt: skip


async def test_a_returned_record_reopens_only_what_was_marked(site: Site, page: Any) -> None:
    server, sessions, people = site
    await open_verified(page, server, people["adult"])
    await fill_adult(page)
    await click(page, "提交")
    await _return(site, ["mobile", "current_status"])

    # The first view names the fields and asks the first of them; nothing claims it is done.
    await page.reload()
    await page.wait_for_selector("#app[data-state='mobile']")
    log = await page.inner_text("#log")
    assert "请核对手机号码和当前状态" in log and "需要修改：手机号码、当前状态" in log
    assert "mobile" not in log and "current_status" not in log
    assert "重新填好" not in log
    await shot(page, "7-returned")
    # Only the marked questions can be changed from the summary.
    await page.click("#summary-btn")
    editable = await page.locator("#panel .edit").evaluate_all(
        "nodes => nodes.map(n => n.dataset.field)"
    )
    assert sorted(editable) == ["current_status", "mobile"]
    await page.click("#panel-close")
    # Back to the review without answering: resubmitting is not possible yet.
    await step(page, lambda: page.click("#back"))
    assert await stage(page) == "review"
    await click(page, "确认无误，继续")
    assert "还没有重新回答：手机号码、当前状态" in (
        await page.locator(".bubble.error").last.inner_text()
    )
    assert await stage(page) == "review"
    await step(page, lambda: page.locator(".bubble.review .edit[data-field='mobile']").last.click())
    await type_answer(page, "13700002222")
    assert await at(page) == "current_status"  # the next marked question, not the review
    await keep(page)  # kept on purpose
    await click(page, "确认无误，继续")
    await keep(page)
    await click(page, "确认")
    assert "重新填好" in await page.locator(".bubble.bot").last.inner_text()
    await click(page, "重新提交")
    assert await stage(page) == "submitted"

    # The reviewer sees what was kept.
    await sign_in(page, server)
    async with sessions() as session:
        record = await session.scalar(
            select(Record).where(Record.live_person_id == people["adult"].person_id)
        )
        assert record is not None
    await page.goto(str(server.make_url(f"/console/records/{record.id}")))
    history = await page.inner_text("body")
    assert "核对后保留原内容：当前状态" in history
    assert "137****2222" in history or "13700002222" in history


async def test_a_return_without_marked_fields_leaves_everything_editable(
    site: Site, page: Any
) -> None:
    server, _sessions, people = site
    await open_verified(page, server, people["adult"])
    await fill_adult(page)
    await click(page, "提交")
    await _return(site, None)
    await page.reload()
    await page.wait_for_selector("#app[data-stage='review']")
    log = await page.inner_text("#log")
    assert "请核对手机号码和当前状态" in log and "重新填好" not in log
    review = page.locator(".bubble.review").last
    assert await review.locator(".edit").count() == 9  # every answer (not 出生日期, 性别, 年龄)
    assert await review.locator(".edit[data-field='remarks']").count() == 1


async def test_the_staff_preview_ends_at_submit_and_keeps_its_buttons_in_view(
    site: Site, page: Any
) -> None:
    server, _sessions, _people = site
    await sign_in(page, server)
    await page.goto(str(server.make_url("/c/preview")))
    await page.wait_for_selector("#app[data-state='privacy_notice']")
    await click(page, "我已阅读，继续")
    await click(page, "本人")
    await type_answer(page, "张三")
    await type_answer(page, make_id_number(years_ago(30), "M", "320508", seq=5))
    await type_answer(page, "13800001234")
    await click(page, "从未参保")
    for label in ("江苏省", "苏州市", "姑苏区"):
        await click(page, label)
    await type_answer(page, "人民路")
    await type_answer(page, "100")
    await click(page, "无业")
    await click(page, "无缴费能力")
    await click(page, "完成")
    await click(page, "跳过")
    await click(page, "确认无误，继续")
    await keep(page)
    await click(page, "确认")
    assert await stage(page) == "complete"
    # Many bubbles later the banner's buttons are still on screen.
    assert await page.locator("#restart").is_visible()
    box = await page.locator("#restart").bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 780
    await click(page, "提交")
    assert await stage(page) == "submitted"
    assert await page.locator("#choices button").count() == 0  # no 提交 again
    assert "预览结束" in await page.locator(".bubble.done").last.inner_text()
    box = await page.locator("#restart-investigator").bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 780
    await step(page, lambda: page.click("#restart-investigator"))
    assert await at(page) == "collection_status"
