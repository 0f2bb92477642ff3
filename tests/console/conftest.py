"""Fixtures: a fresh store with synthetic data, the real aiohttp app, a test client, sign-in."""

from __future__ import annotations

import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent))

from seed import PASSWORD, World, build_world

from bot.server import create_app
from bot.settings import Settings
from flows import Form, load_default_form
from storage.db import make_sessionmaker
from storage.testing import temporary_database

CSRF_RE = re.compile(r'name="_csrf" value="([^"]+)"')


@pytest.fixture(params=["sqlite"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A fresh database (SQLite here; the scope tests add PostgreSQL)."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    async with temporary_database(url, directory=tmp_path) as eng:
        yield eng


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on the test database."""
    return make_sessionmaker(engine)


@pytest.fixture
def form() -> Form:
    """The shipped form."""
    return load_default_form()


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession], form: Form) -> World:
    """Two districts, staff of each scope, records in every status, API tokens."""
    return await build_world(sessions, form)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a web-only server (no bot token)."""
    return Settings(
        database_url="sqlite+aiosqlite:///unused.db",
        data_dir=tmp_path / "data",
        session_secret="test-session-secret",  # type: ignore[arg-type]
        bot_token=None,
        webhook_url=None,
        outbound_webhook_url=None,
    )


@pytest.fixture
async def client(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], form: Form, world: World
) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    """A test client on the real application (console + API mounted by create_app)."""
    app = create_app(settings, sessions, form)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def csrf_of(client: TestClient, path: str = "/console/login") -> str:  # type: ignore[type-arg]
    """The CSRF token on a page (the page's session cookie is kept by the client)."""
    response = await client.get(path)
    match = CSRF_RE.search(await response.text())
    assert match, f"no CSRF field on {path}"
    return match.group(1)


async def login(client: TestClient, username: str, password: str = PASSWORD) -> None:  # type: ignore[type-arg]
    """Sign in (asserting it worked)."""
    token = await csrf_of(client)
    response = await client.post(
        "/console/login",
        data={"_csrf": token, "username": username, "password": password},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
