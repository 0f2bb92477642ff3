"""English in chromium: a browser that prefers English gets the web chat in English; the
console stays Chinese until a staff member picks English, and remembers the pick."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.chatpage import (
    ARTIFACTS,
    Site,
    click,
    keep,
    needs_chromium,
    phone_page,
    sign_in,
    type_answer,
)

pytestmark = [pytest.mark.browser, needs_chromium]


async def test_the_web_chat_speaks_english_to_an_english_browser(site: Site, browser: Any) -> None:
    server, _sessions, people = site
    adult = people["adult"]
    context, page, errors = await phone_page(browser, locale="en-US")
    try:
        await page.goto(str(server.make_url(f"/c/{adult.code}")))
        await page.wait_for_selector("#app[data-stage='identity']")
        assert await page.get_attribute("html", "lang") == "en"
        log = await page.inner_text("#log")
        assert "Please enter the 18-character citizen ID number" in log
        assert await page.inner_text("#send") == "Send"
        await type_answer(page, adult.id_number)
        assert "questions left" in await page.inner_text("#progress")
        await click(page, "I have read it, continue")
        await click(page, "The person")
        await keep(page)
        await keep(page)
        await type_answer(page, "12345")
        assert "11 digits" in await page.locator(".bubble.error").last.inner_text()
        await keep(page)
        question = await page.locator(".bubble.question").last.inner_text()
        assert "Insurance status now" in question
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "webchat-english.png"))
        await page.click("#summary-btn")
        panel = await page.inner_text("#panel")
        assert "Answers" in panel and "Change" in panel and "Date of birth" in panel
    finally:
        await context.close()
    assert not errors


async def test_a_staff_member_picks_english_for_the_console(site: Site, page: Any) -> None:
    server, _sessions, _people = site
    await sign_in(page, server)
    assert "审核队列" in await page.inner_text("h1")
    await page.click("form.lang button")
    await page.wait_for_selector("html[lang='en']")
    assert "Review queue" in await page.inner_text("h1")
    await page.goto(str(server.make_url("/console/progress")))  # remembered on this browser
    assert "Progress" in await page.inner_text("h1")
    await page.set_viewport_size({"width": 1200, "height": 700})
    await page.screenshot(path=str(ARTIFACTS / "console-english.png"))
    await page.click("form.lang button")
    await page.wait_for_selector("html[lang='zh-CN']")
    assert "采集进度" in await page.inner_text("h1")
