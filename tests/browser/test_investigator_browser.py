"""The investigators' app in Debian's chromium at phone size: sign in with the one-time link,
open a household, collect one person, go offline for three answers and a reload, come back:
the three answers land once, in order. Then 未采集 for a person added at the door, and the
household's done screen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from bot.server import create_app
from bot.synthetic import make_id_number, region_for
from flows import load_default_form
from storage.db import make_sessionmaker
from storage.models import AuditEvent, Community, Record, RecordStatus
from storage.repositories import accounts as acc
from storage.repositories import investigator_web as iw
from storage.repositories.actors import Actor
from storage.testing import temporary_database
from tests.browser.chatpage import needs_chromium, phone_page
from tests.webchat.chatkit import load_people, years_ago
from tests.webchat.conftest import make_settings

pytestmark = [pytest.mark.browser, needs_chromium]

FORM = load_default_form()


def label(field: str, code: str) -> str:
    found = [c.label for c in FORM.field(field).choices if c.code == code]
    return found[0] if found else FORM.label_of(field, code)


@pytest.fixture
async def investigator_site(
    tmp_path: Path,
) -> AsyncIterator[tuple[TestServer, Any, dict[str, Any], str]]:
    """The application on a loopback port, an investigator of 平江路社区 and a sign-in link."""
    async with temporary_database(directory=tmp_path, migrate=True) as engine:
        sessions = make_sessionmaker(engine)
        people = await load_people(sessions)
        async with sessions() as session, session.begin():
            community = await session.scalar(
                select(Community).where(Community.name == "平江路社区")
            )
            assert community is not None
            investigator, _ = await acc.create_investigator(
                session, "赵敏", [community], actor=Actor.system("测试")
            )
            token = await iw.issue_link(session, investigator, actor=Actor.system("测试"))
        app = create_app(make_settings(tmp_path), sessions, FORM)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            yield server, sessions, people, token
        finally:
            await server.close()


async def question(page: Any, text: str) -> None:
    """Wait until the question on screen contains ``text``."""
    await page.wait_for_selector(f".question .label:has-text('{text}')")


async def answer_and_wait(page: Any, text: str) -> None:
    """Type an answer and wait for the question after it."""
    before = await page.inner_text(".question .label")
    await type_answer(page, text)
    await page.wait_for_function(
        "(before) => { const q = document.querySelector('.question .label');"
        " return q && q.textContent !== before; }",
        arg=before,
    )


async def click(page: Any, text: str) -> None:
    await page.locator("#screen button", has_text=text).first.click()


async def type_answer(page: Any, text: str) -> None:
    await page.fill("#answer", text)
    await page.press("#answer", "Enter")


async def test_collect_offline_reload_and_the_answers_land_once_in_order(
    investigator_site: tuple[TestServer, Any, dict[str, Any], str], browser: Any
) -> None:
    server, sessions, people, token = investigator_site
    base = str(server.make_url("/")).rstrip("/")
    context, page, errors = await phone_page(browser)
    try:
        await page.goto(f"{base}/i/login/{token}")
        await page.click("#sign-in")
        await page.wait_for_selector("h1:has-text('我的入户名单')")
        assert "赵敏" in await page.inner_text("#who")
        await page.wait_for_function("navigator.serviceWorker.controller !== null")

        # A household, a person, 采集.
        await click(page, "户号 000001")
        await page.wait_for_selector("h1:has-text('户号 000001')")
        await click(page, "张丽")
        await page.wait_for_selector("h1:has-text('张丽')")
        assert people["adult"].id_number not in await page.inner_text("#screen")
        await click(page, "采集：张丽")
        await question(page, "采集状态")
        await click(page, "已采集")
        await question(page, "填表人")
        await click(page, "本人")
        for name in ("姓名", "公民身份号码", "手机号码"):
            await question(page, name)
            await click(page, "保持不变")
        await question(page, "参保")
        await click(page, label("insured_status", "never"))
        # The answer is acknowledged: nothing waits to be sent, the next question is shown.
        await page.wait_for_selector(".bubble.pending", state="detached")
        await page.wait_for_selector("#offline", state="hidden")
        await page.wait_for_selector("#answer")
        shown = await page.inner_text(".question .label")

        # Offline on the staircase: three answers, a reload, and they are still there.
        await context.set_offline(True)
        for text in ("江苏省", "苏州市", "姑苏区"):
            await type_answer(page, text)
        await page.wait_for_selector("#offline:has-text('离线 / 3 条待发送')")
        await page.reload()
        await page.wait_for_selector("#offline:has-text('离线 / 3 条待发送')")
        assert await page.locator(".bubble.pending").count() == 3
        async with sessions() as session:
            record = await session.scalar(
                select(Record).where(Record.live_person_id == people["adult"].person_id)
            )
            assert record is not None
            assert "province" not in (record.state["answers"].get("residence") or {})

        # Back online: sent in order, once; the page shows the next question.
        await context.set_offline(False)
        await page.wait_for_selector("#offline", state="hidden")
        await page.wait_for_selector(".question")
        assert await page.inner_text(".question .label") != shown
        async with sessions() as session:
            record = await session.scalar(
                select(Record).where(Record.live_person_id == people["adult"].person_id)
            )
            assert record is not None
            residence = record.state["answers"]["residence"]
            assert (residence["province"], residence["city"], residence["district"]) == (
                "江苏省",
                "苏州市",
                "姑苏区",
            )
            saved = (
                (
                    await session.execute(
                        select(AuditEvent.details)
                        .where(
                            AuditEvent.record_id == record.id, AuditEvent.action == "draft_saved"
                        )
                        .order_by(AuditEvent.id)
                    )
                )
                .scalars()
                .all()
            )
            fields = [d.get("field") for d in saved]
            assert fields.count("residence.province") == 1
            assert fields.count("residence.city") == 1
            assert fields.count("residence.district") == 1
            assert (
                fields.index("residence.province")
                < fields.index("residence.city")
                < fields.index("residence.district")
            )

        # The rest of the form, the review, the submission.
        await answer_and_wait(page, "人民路")
        await answer_and_wait(page, "100")
        await click(page, label("current_status", "unemployed"))
        for code in ("cannot_afford", "unaware"):
            await click(page, label("uninsured_reasons", code))
            await page.wait_for_selector(f"button:has-text('☑ {label('uninsured_reasons', code)}')")
        await click(page, "选好了")
        await click(page, "跳过")
        await click(page, "确认无误")
        await question(page, "确认人")
        await click(page, "保持不变")
        await question(page, "我已知悉")
        await click(page, "确认")
        await click(page, "提交")
        await page.wait_for_selector("h1:has-text('张丽 已提交')")
        assert "还差 0" not in await page.inner_text("#screen")

        # A person not on the roster, found at the door, marked 未采集.
        await click(page, "继续本户")
        await page.wait_for_selector("h1:has-text('户号 000001')")
        born = years_ago(30)
        number = make_id_number(born, "F", region_for("姑苏区", born.year), seq=55)
        await page.fill("input[name=name]", "孙丽")
        await page.fill("input[name=id_number]", number)
        await click(page, "添加并采集")
        await question(page, "采集状态")
        await click(page, "未采集")
        await question(page, "未采集原因")
        await click(page, label("not_collected_reason", "separated"))
        for _ in range(6):
            if await page.locator("button:has-text('提交')").count():
                break
            for text in ("跳过", "确认无误", "保持不变"):
                if await page.locator(f"#screen button:has-text('{text}')").count():
                    await click(page, text)
                    break
            await page.wait_for_timeout(300)
        await click(page, "提交")
        await page.wait_for_selector("text=已全部完成（户不漏人）")
        async with sessions() as session:
            statuses = (
                await session.execute(
                    select(Record.status, Record.collection_status, func.count())
                    .where(Record.discarded_at.is_(None))
                    .group_by(Record.status, Record.collection_status)
                )
            ).all()
        assert sorted(statuses) == sorted(
            [(RecordStatus.submitted, "collected", 1), (RecordStatus.submitted, "not_collected", 1)]
        )
    finally:
        await context.close()
    assert not errors, f"script errors on the page: {errors}"


async def test_two_tabs_on_one_person_one_wins_the_other_sees_the_current_screen(
    investigator_site: tuple[TestServer, Any, dict[str, Any], str], browser: Any
) -> None:
    server, sessions, people, token = investigator_site
    base = str(server.make_url("/")).rstrip("/")
    context, first, errors = await phone_page(browser)
    try:
        await first.goto(f"{base}/i/login/{token}")
        await first.click("#sign-in")
        await first.wait_for_selector("h1:has-text('我的入户名单')")
        await click(first, "户号 000001")
        await click(first, "张丽")
        await click(first, "采集：张丽")
        await question(first, "采集状态")
        second = await context.new_page()
        second.on("pageerror", lambda exc: errors.append(str(exc)))
        await second.goto(first.url)
        await question(second, "采集状态")

        await click(first, "已采集")
        await question(first, "填表人")
        await click(second, "未采集")
        await second.wait_for_selector("#flash:has-text('在别处更新过')")
        await question(second, "填表人")
        async with sessions() as session:
            record = await session.scalar(
                select(Record).where(Record.live_person_id == people["adult"].person_id)
            )
            assert record is not None
            assert record.state["answers"]["collection_status"] == "collected"
    finally:
        await context.close()
    assert not errors, f"script errors on the page: {errors}"
