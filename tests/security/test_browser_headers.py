"""The security headers in a real browser (Debian's chromium through Playwright): the console
and the chat page work under their Content-Security-Policy without a single violation, and no
other site can frame them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.server import create_app
from flows import load_default_form
from tests.console.seed import PASSWORD, World
from tests.security.conftest import web_settings
from tests.telegram.test_resident_support import seed_person, years_ago

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not at /usr/bin/chromium"),
]


@pytest.fixture
async def site(
    tmp_path: Path, sessions: async_sessionmaker[AsyncSession], world: World
) -> AsyncIterator[str]:
    server = TestServer(create_app(web_settings(tmp_path), sessions, load_default_form()))
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        instance = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield instance
        finally:
            await instance.close()


def watch(page: Any) -> list[str]:
    """Console errors (policy violations among them) and script errors of the page, as they
    come; the browser's own request for a favicon, which the site does not have, aside."""
    problems: list[str] = []

    def console(message: Any) -> None:
        if message.type == "error" and "favicon" not in str(message.location.get("url", "")):
            problems.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


async def test_console_and_chat_pages_run_under_their_policy(
    site: str, browser: Any, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    person = await seed_person(sessions, "郑十一", born=years_ago(36), household="0505")
    page = await browser.new_page(locale="zh-CN")
    problems = watch(page)
    await page.goto(f"{site}/console/login")
    await page.fill("input[name=username]", "city_admin")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/console/queue")
    for path in (
        f"/console/records/{world.records['plain']}",
        "/console/progress",
        "/console/invites/locked",
        "/console/password",
        "/c/preview",
    ):
        await page.goto(site + path)
        await page.wait_for_load_state("networkidle")
    chat = await browser.new_page(locale="zh-CN")
    problems += watch(chat)
    await chat.goto(f"{site}/c/{person.code}")
    await chat.wait_for_selector("#app[data-stage='identity']")
    assert "郑某（平江路社区）" in await chat.inner_text("#log")
    await chat.fill("#text", person.id_number)
    await chat.click("#send")
    await chat.wait_for_selector("#app[data-state='privacy_notice']")
    assert problems == []


async def test_no_other_site_can_frame_the_console(site: str, browser: Any) -> None:
    async def framing(request: web.Request) -> web.Response:
        return web.Response(
            text=f'<iframe id="f" src="{site}/console/login"></iframe>', content_type="text/html"
        )

    other = web.Application()
    other.router.add_get("/", framing)
    server = TestServer(other)
    await server.start_server()
    try:
        page = await browser.new_page(locale="zh-CN")
        problems = watch(page)
        await page.goto(str(server.make_url("/")))
        await page.wait_for_timeout(500)
        frame = page.frame_locator("#f")
        assert await frame.locator("input[name=username]").count() == 0
        assert any("frame-ancestors" in p or "X-Frame-Options" in p for p in problems), problems
    finally:
        await server.close()
