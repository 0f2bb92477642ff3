"""The web chat for people who use a keyboard, a screen reader, a zoomed phone or large text,
in chromium: what axe-core cannot see, checked by hand.

A whole form with the keyboard alone, the focus on each new question; every target at least
44×44; a refused answer kept and marked; the summary panel a real dialog; old 修改 buttons
dead; one live region; at 200% zoom every province, city and district reachable and tappable;
大字模式 remembered; the question read aloud."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.browser.a11y import axe_violations, focus_ring, outline_contrast, small_targets, too_wide
from tests.browser.chatpage import (
    Site,
    at,
    click,
    keep,
    needs_chromium,
    open_verified,
    stage,
    step,
    type_answer,
)
from tests.webchat.chatkit import Resident

pytestmark = [pytest.mark.browser, needs_chromium]

# Where the focus is, against the newest question (a bubble that takes the focus), in words.
FOCUS = """() => {
    const a = document.activeElement;
    const all = document.querySelectorAll("#log [tabindex='-1']");
    const last = all[all.length - 1];
    if (!last) return "no question drawn";
    if (a === last) return "question";
    if (a && a.id === "text" && a.getAttribute("aria-labelledby") === last.id + "-text")
        return "text box of the question";
    return `focus on <${a ? a.tagName.toLowerCase() : "none"}> #${a && a.id}`
        + ` "${a ? (a.textContent || "").trim().slice(0, 20) : ""}", not on ${last.id}`;
}"""


async def _focus(page: Any) -> str:
    return str(await page.evaluate(FOCUS))


async def _context(browser: Any, width: int, height: int, scale: float = 2) -> tuple[Any, Any]:
    context = await browser.new_context(
        viewport={"width": width, "height": height}, device_scale_factor=scale, locale="zh-CN"
    )
    page = await context.new_page()
    page.on("pageerror", lambda exc: pytest.fail(f"script error on the page: {exc}"))
    return context, page


class Keyboard:
    """The chat used with Tab, Shift+Tab, Enter and typing only; after every answer the focus
    must be on the new question and every target at least 44×44."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.small: dict[str, list[str]] = {}
        self.tabs: dict[str, int] = {}

    async def arrived(self) -> None:
        where = f"{await stage(self.page)}:{await at(self.page)}"
        focus = await _focus(self.page)
        assert focus in ("question", "text box of the question"), f"{where}: {focus}"
        tiny = await small_targets(self.page)
        if tiny:
            self.small[where] = tiny

    async def _tab_to(self, found: str, what: str, backwards: bool = False) -> None:
        key = "Shift+Tab" if backwards else "Tab"
        for n in range(1, 80):
            await self.page.keyboard.press(key)
            if await self.page.evaluate(found):
                self.tabs[f"{await at(self.page)} → {what}"] = n
                return
        raise AssertionError(f"{what!r} cannot be reached with {key} at {await at(self.page)}")

    async def choose(self, label: str) -> None:
        """Tab to the answer button ``label`` and press Enter."""
        found = (
            "() => { const a = document.activeElement; return !!a && a.closest('#choices')"
            f" !== null && a.tagName === 'BUTTON' && a.textContent.trim() === {label!r}; }}"
        )
        await self._tab_to(found, label)
        await step(self.page, lambda: self.page.keyboard.press("Enter"))
        await self.arrived()

    async def keep(self) -> None:
        """Tab to 确认：… (the value on file) and press Enter."""
        found = "() => document.activeElement && document.activeElement.classList.contains('keep')"
        await self._tab_to(found, "确认：…")
        await step(self.page, lambda: self.page.keyboard.press("Enter"))
        await self.arrived()

    async def type(self, text: str) -> None:
        """Type into the text box (the focus is in it, or Tab leads there past the question's
        buttons) and press Enter."""
        if await self.page.evaluate("document.activeElement.id") != "text":
            await self._tab_to("() => document.activeElement.id === 'text'", "text box")
        await self.page.keyboard.type(text)
        await step(self.page, lambda: self.page.keyboard.press("Enter"))
        await self.arrived()


async def test_the_whole_form_with_the_keyboard_alone(site: Site, browser: Any) -> None:
    server, _sessions, people = site
    adult: Resident = people["adult"]
    context, page = await _context(browser, 390, 844)
    keys = Keyboard(page)
    try:
        await page.goto(str(server.make_url(f"/c/{adult.code}")))
        await page.wait_for_selector("#app[data-stage='identity']")
        await keys.arrived()
        await keys.type("32050819750101001")  # too short: refused, kept, marked
        assert await page.input_value("#text") == "32050819750101001"
        assert await page.get_attribute("#text", "aria-invalid") == "true"
        said = await page.get_attribute("#text", "aria-describedby")
        assert said and "18" in await page.inner_text(f"#{said}")
        await page.fill("#text", "")
        await page.focus("#text")
        await keys.type(adult.id_number)
        assert await page.get_attribute("#text", "aria-invalid") is None
        await keys.choose("我已阅读，继续")
        await keys.choose("本人")
        await keys.keep()  # name
        await keys.keep()  # ID
        # A refused mobile number stays in the box, marked, described by the message.
        await page.keyboard.press("Shift+Tab")  # back into the box from the question
        await page.focus("#text")
        await keys.type("1390000111")
        assert await page.input_value("#text") == "1390000111"
        assert await page.get_attribute("#text", "aria-invalid") == "true"
        said = await page.get_attribute("#text", "aria-describedby")
        assert said and "11位" in await page.inner_text(f"#{said}")
        assert await page.get_attribute("#text", "autocomplete") == "tel-national"
        await keys.keep()
        await keys.choose("从未参保")
        for label in ("江苏省", "苏州市", "姑苏区"):
            await keys.choose(label)
        assert await at(page) == "residence.road"
        await keys.type("人民路")
        await keys.type("100")
        await keys.choose("无业")
        # A toggle keeps the focus and says its state.
        found = "() => document.activeElement.textContent.trim() === '无缴费能力'"
        await keys._tab_to(found, "无缴费能力")
        assert await page.evaluate("document.activeElement.getAttribute('aria-pressed')") == "false"
        await step(page, lambda: page.keyboard.press("Enter"))
        assert await page.evaluate("document.activeElement.getAttribute('aria-pressed')") == "true"
        assert await page.evaluate("document.activeElement.textContent.trim()") == "无缴费能力"
        await keys.choose("完成")
        await keys.choose("跳过")
        assert await stage(page) == "review"
        await keys.choose("确认无误，继续")
        await keys.keep()
        await keys.choose("确认")
        assert await stage(page) == "complete"
        await keys.choose("提交")
        assert await stage(page) == "submitted"
    finally:
        await context.close()
    assert not keys.small, f"targets under 44×44 CSS px: {keys.small}"
    # The answers follow the question: from the question the first Tabs reach them.
    assert keys.tabs["insured_status → 从未参保"] == 1
    assert keys.tabs["name → 确认：…"] == 1
    assert all(n <= 40 for n in keys.tabs.values()), keys.tabs


async def test_screen_reader_names_states_and_one_live_region(site: Site, page: Any) -> None:
    server, _sessions, people = site
    await open_verified(page, server, people["adult"])
    live = await page.eval_on_selector_all(
        "[aria-live]:not([aria-live=off]), [role=status], [role=log], [role=alert]",
        "nodes => nodes.map(n => n.id)",
    )
    assert live == ["announce"]
    await click(page, "我已阅读，继续")
    # The question says its answers; the buttons are a group named by the question.
    question = page.locator(".bubble.question").last
    assert "选项：本人、监护人" in (await question.text_content() or "")
    group = await page.get_attribute("#choices", "aria-labelledby")
    assert (
        group
        and await page.inner_text(f"#{group}")
        == await question.locator(".bubble-text").inner_text()
    )
    await click(page, "本人")
    # A text question: the box is labelled by the question, not 「输入回答」.
    label = await page.get_attribute("#text", "aria-labelledby")
    assert label and "姓名" in await page.inner_text(f"#{label}")
    assert await page.get_attribute("#text", "autocomplete") == "name"
    for _ in range(2):
        await keep(page)
    await type_answer(page, "13900001111")
    await click(page, "从未参保")
    # A long list: said by its length, with a search box.
    assert "共 " in (await page.locator(".bubble.question").last.text_content() or "")
    await page.fill("#choice-search", "江苏")
    visible = await page.locator("#choices button.choice:visible").all_inner_texts()
    assert visible == ["江苏省"]
    await click(page, "江苏省")
    for label in ("苏州市", "姑苏区"):
        await click(page, label)
    await type_answer(page, "人民路")
    await type_answer(page, "100")
    await click(page, "无业")
    await click(page, "无缴费能力")
    await click(page, "完成")
    await click(page, "跳过")
    # Every 修改 says what it changes.
    names = await page.locator(".bubble.review .edit").evaluate_all(
        "nodes => nodes.map(n => n.getAttribute('aria-label'))"
    )
    assert len(names) == len(set(names)) >= 8 and "修改：手机号码" in names
    assert (
        await page.locator(".bubble.review .edit[data-field='mobile']")
        .get_by_role("button", name="修改：手机号码")
        .count()
        + await page.get_by_role("button", name="修改：手机号码").count()
        >= 1
    )

    # The summary panel is a modal dialog: focus inside, Tab stays inside, Escape closes.
    await page.click("#summary-btn")
    assert await page.evaluate("document.getElementById('panel').open")
    inside = "document.getElementById('panel').contains(document.activeElement)"
    assert await page.evaluate(inside)
    for _ in range(15):
        await page.keyboard.press("Tab")
        assert await page.evaluate(inside) or await page.evaluate(
            "document.activeElement === document.body"  # the browser's own chrome, between
        )
    await page.keyboard.press("Escape")
    assert not await page.evaluate("document.getElementById('panel').open")
    assert await page.evaluate("document.activeElement.id") == "summary-btn"

    # Edit from the review: the old review's 修改 buttons are dead afterwards.
    await step(page, lambda: page.locator(".bubble.review .edit[data-field='mobile']").last.click())
    await type_answer(page, "13700002222")
    assert await stage(page) == "review"
    reviews = page.locator(".bubble.review")
    assert await reviews.count() == 2
    assert await reviews.first.locator(".edit:enabled").count() == 0
    assert await reviews.last.locator(".edit:enabled").count() >= 8


async def test_a_refused_id_keeps_what_was_typed(site: Site, page: Any) -> None:
    server, _sessions, people = site
    await page.goto(str(server.make_url(f"/c/{people['adult'].code}")))
    await page.wait_for_selector("#app[data-stage='identity']")
    await type_answer(page, "320508X")
    assert await page.input_value("#text") == "320508X"
    assert await page.get_attribute("#text", "aria-invalid") == "true"
    described = await page.get_attribute("#text", "aria-describedby")
    assert described and await page.locator(f"#{described}").is_visible()
    assert await page.get_attribute("#text", "autocomplete") == "off"


async def _reachable(page: Any) -> list[str]:
    """The answer buttons that cannot be scrolled to and tapped: scrolled to (as far as the
    page lets), each must be the element under its own centre, inside the window."""
    missing: list[str] = []
    for button in await page.locator("#choices button.choice").all():
        await button.scroll_into_view_if_needed()
        hit = await button.evaluate(
            """b => {
                const r = b.getBoundingClientRect();
                const x = r.left + r.width / 2, y = r.top + r.height / 2;
                if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) return false;
                const top = document.elementFromPoint(x, y);
                return !!top && (top === b || b.contains(top));
            }"""
        )
        if not hit:
            missing.append(await button.inner_text())
    return missing


@pytest.mark.parametrize("large", [False, True], ids=["200% zoom", "200% zoom and 大字模式"])
async def test_at_200_percent_zoom_every_place_can_be_reached_and_tapped(
    site: Site, browser: Any, large: bool
) -> None:
    server, _sessions, people = site
    # A 390×844 phone at 200% zoom lays out 195×422 CSS px.
    context, page = await _context(browser, 195, 422, scale=4)
    try:
        if large:
            await page.goto(str(server.make_url(f"/c/{people['adult'].code}")))
            await page.wait_for_selector("#app[data-stage='identity']")
            await page.click(".large-switch")
        await open_verified(page, server, people["adult"])
        await click(page, "我已阅读，继续")
        await click(page, "本人")
        for _ in range(3):
            # Nothing sticks out sideways, not even 确认：<a masked ID number>.
            assert not await too_wide(page), await too_wide(page)
            await keep(page)
        await click(page, "从未参保")
        for label in ("江苏省", "苏州市", "姑苏区"):
            question = page.locator(".bubble.question").last
            box = await question.bounding_box()
            assert box is not None and box["y"] >= 0, f"{label}: the question is out of view"
            missing = await _reachable(page)
            assert not missing, f"{await at(page)}: cannot be tapped: {missing}"
            assert await page.evaluate(
                "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
            )
            # A real tap at the button's place, after scrolling to it.
            target = page.locator("#choices").get_by_role("button", name=label, exact=True)
            await target.scroll_into_view_if_needed()
            spot = await target.bounding_box()
            assert spot is not None
            x, y = spot["x"] + spot["width"] / 2, spot["y"] + spot["height"] / 2
            await step(page, lambda x=x, y=y: page.mouse.click(x, y))
        assert await at(page) == "residence.road"
    finally:
        await context.close()


async def test_large_text_is_offered_first_and_remembered(site: Site, browser: Any) -> None:
    server, _sessions, people = site
    context, page = await _context(browser, 390, 844)
    try:
        await page.goto(str(server.make_url(f"/c/{people['adult'].code}")))
        await page.wait_for_selector("#app[data-stage='identity']")
        switch = page.get_by_role("button", name="大字模式")
        assert await switch.get_attribute("aria-pressed") == "false"
        before = await page.locator(".bubble.question .bubble-text").evaluate(
            "n => parseFloat(getComputedStyle(n).fontSize)"
        )
        await switch.click()
        assert await switch.get_attribute("aria-pressed") == "true"
        after = await page.locator(".bubble.question .bubble-text").evaluate(
            "n => parseFloat(getComputedStyle(n).fontSize)"
        )
        assert after >= before * 1.3
        # Remembered by this browser: the next page opens large, the next context does not.
        await open_verified(page, server, people["adult"])
        assert await page.evaluate("document.documentElement.classList.contains('large')")
        height = await page.locator("#choices button").first.evaluate(
            "n => n.getBoundingClientRect().height"
        )
        assert height >= 56
        assert not await small_targets(page)
        assert not await axe_violations(page)
        await click(page, "我已阅读，继续")
        assert not await axe_violations(page)
        other = await context.browser.new_context(viewport={"width": 390, "height": 844})
        fresh = await other.new_page()
        await fresh.goto(str(server.make_url(f"/c/{people['child'].code}")))
        await fresh.wait_for_selector("#app[data-stage='identity']")
        assert not await fresh.evaluate("document.documentElement.classList.contains('large')")
        await other.close()
    finally:
        await context.close()


# Records what the page asks the browser's speech synthesis to say (nothing is played).
SPEECH_SPY = """
window.__spoken = [];
if (window.speechSynthesis) {
  window.SpeechSynthesisUtterance = function (text) { this.text = text; };
  window.speechSynthesis.speak = (u) => window.__spoken.push({ text: u.text, lang: u.lang,
      voice: u.voice ? u.voice.lang : null });
  window.speechSynthesis.getVoices = () => [
      { lang: "en-US", name: "English" }, { lang: "zh-CN", name: "普通话" }];
}
"""


async def test_the_question_is_read_aloud_on_the_device(site: Site, browser: Any) -> None:
    server, _sessions, people = site
    context, page = await _context(browser, 390, 844)
    await context.add_init_script(SPEECH_SPY)
    try:
        if not await page.evaluate("'speechSynthesis' in window"):
            pytest.skip("this chromium has no speechSynthesis")
        await open_verified(page, server, people["adult"])
        await click(page, "我已阅读，继续")
        await page.click("#read-aloud")
        spoken = await page.evaluate("window.__spoken")
    finally:
        await context.close()
    assert len(spoken) == 1
    assert spoken[0]["lang"] == "zh-CN" and spoken[0]["voice"] == "zh-CN"
    assert "本人" in spoken[0]["text"] and "监护人" in spoken[0]["text"]


async def test_outlines_focus_ring_and_no_fading_while_waiting(site: Site, page: Any) -> None:
    server, _sessions, people = site
    await open_verified(page, server, people["adult"])
    await click(page, "我已阅读，继续")
    await click(page, "本人")
    assert await at(page) == "name"  # a text box, 确认：…, 上一题, 已填内容
    for selector in ("#text", "#back", "#summary-btn", "#choices .keep"):
        ratio = await outline_contrast(page.locator(selector))
        assert ratio >= 3, f"{selector}: outline contrast {ratio:.2f}:1"
        width = await focus_ring(page, page.locator(selector))
        assert 2 <= width <= 3, f"{selector}: focus ring {width} px"

    # While the server answers, the buttons keep their look (no fading below contrast).
    release = asyncio.Event()

    async def slow(route: Any) -> None:
        await release.wait()
        await route.continue_()

    await page.route("**/api/keep", slow)
    before = await page.locator("#choices .keep").evaluate("n => getComputedStyle(n).color")
    await page.locator("#choices .keep").click()
    await page.wait_for_selector("#app.busy")
    looks = await page.eval_on_selector_all(
        ".composer button:not([disabled])",
        "nodes => nodes.map(n => [getComputedStyle(n).opacity, n.getAttribute('aria-disabled')])",
    )
    assert looks and all(opacity == "1" and off == "true" for opacity, off in looks), looks
    assert await page.locator("#choices .keep").evaluate("n => getComputedStyle(n).color") == before
    await step(page, lambda: _release(release))
    assert await at(page) == "id_number"


async def _release(event: asyncio.Event) -> None:
    event.set()
