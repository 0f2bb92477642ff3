"""axe-core's WCAG 2.2 A and AA rules find nothing on any screen of the web chat (every
question of a whole form, the summary panel, a wrong answer, a locked link, an unknown link)
or on any page of the staff console, on a phone (390×844) and on a desktop (1366×900)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.synthetic import make_id_number
from tests.browser.a11y import VIEWPORTS, axe_violations
from tests.browser.chatpage import (
    Site,
    at,
    click,
    keep,
    needs_chromium,
    sign_in,
    stage,
    step,
    type_answer,
)
from tests.webchat.chatkit import years_ago

pytestmark = [pytest.mark.browser, needs_chromium]


async def _context(browser: Any, viewport: str) -> tuple[Any, Any, list[str]]:
    width, height = VIEWPORTS[viewport]
    context = await browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, page, errors


class Audit:
    """axe-core's findings, screen by screen."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.found: dict[str, list[str]] = {}
        self.screens: list[str] = []

    async def check(self, name: str | None = None) -> None:
        label = name or f"{await stage(self.page)}:{await at(self.page)}"
        self.screens.append(label)
        violations = await axe_violations(self.page)
        if violations:
            self.found[label] = violations

    def assert_clean(self) -> None:
        report = "\n".join(f"[{k}]\n  " + "\n  ".join(v) for k, v in self.found.items())
        assert not self.found, f"axe-core WCAG 2.2 AA violations:\n{report}"


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
async def test_every_chat_screen_passes_axe(site: Site, browser: Any, viewport: str) -> None:
    server, _sessions, people = site
    adult = people["adult"]
    context, page, errors = await _context(browser, viewport)
    audit = Audit(page)
    try:
        await page.goto(str(server.make_url(f"/c/{adult.code}")))
        await page.wait_for_selector("#app[data-stage='identity']")
        await audit.check()
        await type_answer(page, make_id_number(years_ago(50), "M", "320508", seq=99))
        await audit.check("identity, wrong number")
        await type_answer(page, adult.id_number)
        await audit.check()
        await click(page, "我已阅读，继续")
        await audit.check()
        await click(page, "本人")
        for _ in range(2):
            await audit.check()
            await keep(page)
        await type_answer(page, "12345")
        await audit.check("mobile, wrong number")
        await keep(page)
        await audit.check()
        await click(page, "从未参保")
        for label in ("江苏省", "苏州市", "姑苏区"):
            await audit.check()
            await click(page, label)
        await audit.check()
        await type_answer(page, "人民路")
        await audit.check()
        await type_answer(page, "100")
        await audit.check()
        await click(page, "无业")
        await audit.check()
        await click(page, "无缴费能力")
        await audit.check("multiple choice, one toggled")
        await click(page, "完成")
        await audit.check()
        await click(page, "跳过")
        await audit.check()
        await page.click("#summary-btn")
        await audit.check("summary panel")
        await page.click("#panel-close")
        await click(page, "确认无误，继续")
        await audit.check()
        await keep(page)
        await audit.check()
        await click(page, "确认")
        await audit.check()
        await click(page, "提交")
        await audit.check()
        assert await stage(page) == "submitted"

        other = people["other"]
        await page.goto(str(server.make_url(f"/c/{other.code}")))
        await page.wait_for_selector("#app[data-stage='identity']")
        for n in range(5):
            await type_answer(page, make_id_number(years_ago(50 + n), "M", "320508", seq=91))
        assert await stage(page) == "locked"
        await audit.check()
        await page.goto(str(server.make_url("/c/NoSuchInvite0000000000")))
        await audit.check("unknown link")

        await sign_in(page, server)
        await page.goto(str(server.make_url("/c/preview")))
        await page.wait_for_selector("#app[data-state='privacy_notice']")
        await audit.check("preview")
        await step(page, lambda: page.click("#restart-investigator"))
        await audit.check("preview, investigator")
    finally:
        await context.close()
    audit.assert_clean()
    assert not errors, errors


async def test_the_checker_itself_finds_what_is_wrong(browser: Any) -> None:
    """axe-core really runs with these rules: a page with faults gets them reported."""
    context, page, _errors = await _context(browser, "phone")
    try:
        await page.set_content(
            '<html lang="zh-CN"><head><title>t</title></head><body><main>'
            '<button></button><p style="color:#bbb;background:#fff">浅色文字</p>'
            '<input type="text"></main></body></html>'
        )
        found = " ".join(await axe_violations(page))
    finally:
        await context.close()
    for rule in ("button-name", "color-contrast", "label"):
        assert rule in found, (rule, found)
