"""Fixtures of the browser tests: the real application on a loopback port, Debian's chromium,
a phone-sized page (helpers to use it: tests/browser/chatpage.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.server import create_app
from flows import load_default_form
from storage.db import make_sessionmaker
from storage.repositories.accounts import create_staff
from storage.testing import temporary_database
from tests.browser.chatpage import ARGS, CHROMIUM, STAFF_PASSWORD, Site, phone_page
from tests.webchat.chatkit import load_people
from tests.webchat.conftest import make_settings


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    """The real application on a loopback port, over a fresh SQLite store, with a staff
    account ``reviewer``."""
    async with temporary_database(directory=tmp_path, migrate=True) as engine:
        sessions = make_sessionmaker(engine)
        people = await load_people(sessions)
        async with sessions() as session, session.begin():
            await create_staff(session, "reviewer", STAFF_PASSWORD)
        app = create_app(make_settings(tmp_path), sessions, load_default_form())
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            yield server, sessions, people
        finally:
            await server.close()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """A headless chromium (offline: loopback only)."""
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as pw:
        instance = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield instance
        finally:
            await instance.close()


@pytest.fixture
async def page(browser: Any) -> AsyncIterator[Any]:
    """A phone-sized chromium page; no script error may happen on it."""
    context, tab, errors = await phone_page(browser)
    try:
        yield tab
    finally:
        await context.close()
    assert not errors, f"script errors on the page: {errors}"
