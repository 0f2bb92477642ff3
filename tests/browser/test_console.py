"""The staff console in a real browser: Debian's chromium driven by Playwright.

Sign in, review a record, return it with a comment, confirm another, and watch the progress
page change. Screenshots go to ``tests/artifacts/``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))

from seed import PASSWORD, World, build_world

from bot.server import create_app
from bot.settings import Settings
from flows import load_default_form
from storage.db import make_sessionmaker
from storage.models import Record, RecordStatus
from storage.testing import temporary_database

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium not installed at /usr/bin/chromium"
    ),
]


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[tuple[str, World, Any]]:
    """The real application on a loopback port with synthetic data; (base URL, world, sessions)."""
    form = load_default_form()
    async with temporary_database(directory=tmp_path) as engine:
        sessions = make_sessionmaker(engine)
        world = await build_world(sessions, form)
        settings = Settings(data_dir=tmp_path / "data", session_secret="browser-test")  # type: ignore[arg-type]
        server = TestServer(create_app(settings, sessions, form))
        await server.start_server()
        try:
            yield str(server.make_url("")).rstrip("/"), world, sessions
        finally:
            await server.close()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """A headless chromium (skipped, with the reason, without the playwright package)."""
    playwright_api = pytest.importorskip("playwright.async_api")

    async with playwright_api.async_playwright() as p:
        instance = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield instance
        finally:
            await instance.close()


async def _tile(page: Any, label: str) -> str:
    tile = page.locator(".tiles div", has_text=label).first
    return str(await tile.locator("b").inner_text())


async def _status(sessions: Any, record_id: int) -> RecordStatus:
    async with sessions() as db:
        record = await db.get(Record, record_id)
        return RecordStatus(record.status)


async def test_review_return_confirm_and_progress(
    site: tuple[str, World, Any], browser: Any
) -> None:
    base, world, sessions = site
    ARTIFACTS.mkdir(exist_ok=True)
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = await context.new_page()

    await page.goto(f"{base}/console/progress")
    assert "/console/login" in page.url
    await page.fill("input[name=username]", "gusu_rev")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r"/console/progress"))
    confirmed_before = await _tile(page, "已确认")
    returned_before = await _tile(page, "已退回")
    await page.screenshot(path=ARTIFACTS / "console-progress-before.png", full_page=True)

    await page.goto(f"{base}/console/queue")
    await page.screenshot(path=ARTIFACTS / "console-queue.png", full_page=True)
    assert await page.locator("table.queue tbody tr").count() == 2
    # Review the flagged record and return it with a comment and a field to fix.
    await page.click("text=林大海")
    await page.wait_for_url(re.compile(r"/console/records/\d+$"))
    assert await page.locator(".card.warn").count() == 1
    await page.screenshot(path=ARTIFACTS / "console-record.png", full_page=True)
    await page.fill("textarea[name=comment]", "未参保原因与当前状态不一致，请核对")
    await page.check("input[name=fields][value=uninsured_reasons]")
    await page.click("text=退回修改")
    await page.wait_for_selector(".flash.ok")
    assert "已退回" in await page.locator(".flash").inner_text()
    assert await _status(sessions, world.records["flagged"]) == RecordStatus.returned

    # Confirm another one.
    await page.goto(f"{base}/console/queue")
    await page.click("text=林晓")
    await page.click("text=确认无误")
    await page.wait_for_selector(".flash.ok")
    assert "已确认" in await page.locator(".flash").inner_text()
    assert await _status(sessions, world.records["plain"]) == RecordStatus.confirmed

    await page.goto(f"{base}/console/progress")
    assert int(await _tile(page, "已确认")) == int(confirmed_before) + 1
    assert int(await _tile(page, "已退回")) == int(returned_before) + 1
    await page.screenshot(path=ARTIFACTS / "console-progress-after.png", full_page=True)

    # The same pages on a phone screen.
    phone = await browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN"
    )
    await phone.add_cookies(await context.cookies())
    mobile = await phone.new_page()
    await mobile.goto(f"{base}/console/records/{world.records['plain']}")
    assert "林晓" in await mobile.locator("h1").inner_text()
    width = await mobile.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, "the record page scrolls sideways on a phone"
    await mobile.screenshot(path=ARTIFACTS / "console-record-phone.png", full_page=True)
    await phone.close()
    await context.close()


async def test_wrong_password_shows_a_chinese_message(
    site: tuple[str, World, Any], browser: Any
) -> None:
    base, _, _ = site
    page = await browser.new_page()
    await page.goto(f"{base}/console/login")
    await page.fill("input[name=username]", "gusu_rev")
    await page.fill("input[name=password]", "not the password")
    await page.click("button[type=submit]")
    assert "用户名或密码不正确" in await page.locator(".flash.error").inner_text()
    await page.close()
