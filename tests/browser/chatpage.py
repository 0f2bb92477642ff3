"""Using the chat page in chromium the way a person does: click a button, type an answer,
wait for the page to draw the server's answer; constants of the browser tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from tests.webchat.chatkit import Resident

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
STAFF_PASSWORD = "browser-test-password-1"
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian chromium not installed at /usr/bin/chromium"
)

Site = tuple[TestServer, Any, dict[str, Resident]]


async def phone_page(browser: Any, locale: str = "zh-CN") -> tuple[Any, Any, list[str]]:
    """(context, page, script errors) of a phone-sized page in ``locale``."""
    context = await browser.new_context(
        viewport={"width": 390, "height": 780}, device_scale_factor=2, locale=locale
    )
    tab = await context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, tab, errors


async def responses(page: Any) -> int:
    return int(await page.get_attribute("#app", "data-responses") or 0)


async def step(page: Any, action: Callable[[], Awaitable[None]]) -> None:
    """Do ``action`` and wait until the page has drawn the server's answer."""
    before = await responses(page)
    await action()
    # A selector, not a script: the page's CSP rightly forbids evaluating strings.
    await page.wait_for_selector(f"#app[data-responses]:not([data-responses='{before}'])")


async def click(page: Any, label: str) -> None:
    await step(
        page, lambda: page.locator("#choices").get_by_role("button", name=label, exact=True).click()
    )


async def keep(page: Any) -> None:
    """Press the 确认 button keeping the value shown."""
    await step(page, lambda: page.click("#choices .keep"))


async def type_answer(page: Any, text: str) -> None:
    async def send() -> None:
        await page.fill("#text", text)
        await page.click("#send")

    await step(page, send)


async def at(page: Any) -> str:
    return str(
        await page.get_attribute("#app", "data-state")
        or await page.get_attribute("#app", "data-stage")
    )


async def stage(page: Any) -> str:
    return str(await page.get_attribute("#app", "data-stage"))


async def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"webchat-{name}.png"))


async def bot_texts(page: Any) -> list[str]:
    return [str(t) for t in await page.locator(".bubble.bot").all_inner_texts()]


async def sign_in(page: Any, server: TestServer) -> None:
    """Sign in to the console as ``reviewer``."""
    await page.goto(str(server.make_url("/console/login")))
    await page.fill("input[name=username]", "reviewer")
    await page.fill("input[name=password]", STAFF_PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector("table.queue")


async def open_verified(page: Any, server: TestServer, person: Resident) -> None:
    """Open the person's link and prove the identity."""
    await page.goto(str(server.make_url(f"/c/{person.code}")))
    await page.wait_for_selector("#app[data-stage='identity']")
    await type_answer(page, person.id_number)


async def fill_adult(page: Any) -> None:
    """From the privacy notice to the completed form (the adult of tests.webchat.chatkit)."""
    await click(page, "我已阅读，继续")
    await click(page, "本人")
    for _ in range(3):
        await keep(page)  # name, ID, mobile from the roster
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
