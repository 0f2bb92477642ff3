"""A badge's verification page in a real browser (Debian's chromium): staff issue a badge, a
resident's phone opens its page and reads 有效; after staff revoke it the same page says
已注销."""

from __future__ import annotations

import re
import socket
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
from storage.testing import temporary_database
from tests.browser.chatpage import CHROMIUM, phone_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed"),
]


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[tuple[str, World]]:
    """The application on a loopback port whose public address is that port."""
    form = load_default_form()
    async with temporary_database(directory=tmp_path) as engine:
        sessions = make_sessionmaker(engine)
        world = await build_world(sessions, form)
        with socket.socket() as probe:  # a free loopback port, to be the public address
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        settings = Settings(
            data_dir=tmp_path / "data",
            session_secret="browser-test",  # type: ignore[arg-type]
            public_url=base,
        )
        server = TestServer(create_app(settings, sessions, form), host="127.0.0.1", port=port)
        await server.start_server()
        try:
            yield base, world
        finally:
            await server.close()


async def test_resident_opens_a_valid_then_a_revoked_badge(
    site: tuple[str, World], browser: Any
) -> None:
    base, _world = site
    staff = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    desk = await staff.new_page()
    await desk.goto(f"{base}/console/badges")
    await desk.fill("input[name=username]", "gusu_rev")
    await desk.fill("input[name=password]", PASSWORD)
    await desk.click("button[type=submit]")
    await desk.wait_for_url(re.compile(r"/console/badges"))
    await desk.fill("#badge-phone", "0512-65223456")
    await desk.click("form[action='/console/badges'] button[type=submit]")
    await desk.wait_for_selector(".flash:has-text('已发放工作牌')")
    link = desk.locator("a", has_text="核验页").first
    url = await link.get_attribute("href")
    assert url and url.startswith(f"{base}/badge/")

    context, phone, errors = await phone_page(browser)
    try:
        await phone.goto(url)
        state = phone.locator(".state")
        assert await state.inner_text() == "有效"
        assert "valid" in (await state.get_attribute("class") or "")
        body = await phone.locator("main").inner_text()
        assert "钱调查" in body and "平江路社区" in body and "0512-65223456" in body

        await desk.fill("input[name=reason]", "离岗")
        await desk.click("form[action$='/revoke'] button[type=submit]")
        await desk.wait_for_selector(".flash:has-text('已注销')")

        await phone.reload()
        assert await phone.locator(".state").inner_text() == "已注销"
        assert "invalid" in (await phone.locator(".state").get_attribute("class") or "")
        await phone.goto(f"{base}/badge/2222-2222-2222-2222")
        assert await phone.locator(".state").inner_text() == "查无此工作牌"
    finally:
        await context.close()
        await staff.close()
    assert not errors
