"""Reaching the roster in a real browser: from the 未联系 tile to the person list, a person's
page, a contact recorded through the form, and the list on a phone screen. Screenshots go to
``tests/artifacts/``."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest
from seed import PASSWORD, World
from sqlalchemy import select
from test_console import ARTIFACTS, CHROMIUM, _tile
from test_console import browser as browser  # the fixtures, shared
from test_console import site as site

from storage.models import Contact, ContactOutcome

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium not installed at /usr/bin/chromium"
    ),
]


async def test_person_list_and_contact_form(
    site: tuple[str, World, Any],
    browser: Any,
) -> None:
    base, _world, sessions = site
    ARTIFACTS.mkdir(exist_ok=True)
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{base}/console/progress")
    await page.fill("input[name=username]", "city_admin")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r"/console/progress"))
    assert await _tile(page, "未联系") == "1"

    await page.click("p.links >> text=未联系")
    await page.wait_for_url(re.compile(r"/console/persons\?.*status=not_contacted"))
    rows = page.locator("table.persons tbody tr")
    assert await rows.count() == 1
    assert "赵丽" in await rows.first.inner_text()
    assert "189****5678" in await rows.first.inner_text()
    await page.screenshot(path=ARTIFACTS / "console-persons.png", full_page=True)

    await page.click("table.persons >> text=赵丽")
    await page.wait_for_url(re.compile(r"/console/persons/\d+$"))
    assert "未联系" in await page.locator("h1").inner_text()
    await page.check("input[name=outcome][value=no_answer]")
    await page.fill("textarea[name=note]", "下午三点再打")
    await page.click("text=保存联系记录")
    await page.wait_for_selector(".flash.ok")
    assert "无人接听" in await page.locator(".flash").inner_text()
    assert "已联系（无人接听）" in await page.locator("h1").inner_text()
    assert "下午三点再打" in await page.locator("table.contacts").inner_text()
    await page.screenshot(path=ARTIFACTS / "console-person.png", full_page=True)
    async with sessions() as db:
        (contact,) = (await db.scalars(select(Contact))).all()
        assert contact.outcome == ContactOutcome.no_answer and contact.note == "下午三点再打"

    await page.goto(f"{base}/console/progress")
    assert await _tile(page, "未联系") == "0"
    assert await _tile(page, "已联系") == "1"

    # The community list on a phone: the table scrolls inside its box, not the page.
    phone = await browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN"
    )
    await phone.add_cookies(await context.cookies())
    mobile = await phone.new_page()
    await mobile.goto(f"{base}/console/persons")
    assert await mobile.locator("table.persons tbody tr").count() == 7
    width = await mobile.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, "the person list scrolls sideways on a phone"
    await mobile.screenshot(path=ARTIFACTS / "console-persons-phone.png", full_page=True)
    await phone.close()
    await context.close()
