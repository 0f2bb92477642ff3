"""Fixtures of the security tests: the bot fixtures of tests/telegram (fake Bot API server,
service), and the console's synthetic world on the real application."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.server import create_app
from bot.settings import Settings
from flows import load_default_form
from storage.db import make_sessionmaker
from storage.testing import temporary_database
from tests.console.seed import PASSWORD, World, build_world
from tests.telegram.conftest import (  # noqa: F401  (fixtures, found by name)
    make_settings,
    start_service,
    tg,
)

CSRF_RE = re.compile(r'name="_csrf" value="([^"]+)"')
Client = TestClient[Any, Any]


def web_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings of a web-only server; nothing read from the environment."""
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "session_secret": SecretStr("security-tests-secret-0123456789abcdef"),
        "bot_token": None,
        "webhook_url": None,
        "outbound_webhook_url": None,
        "public_url": "http://127.0.0.1:8080",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(params=["sqlite"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A fresh migrated database; parametrise indirectly with "postgresql"."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    async with temporary_database(url, directory=tmp_path, migrate=True) as eng:
        yield eng


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on the test database."""
    return make_sessionmaker(engine)


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> World:
    """Two districts, staff of each scope, records in every status, API tokens."""
    return await build_world(sessions, load_default_form())


@pytest.fixture
async def web(
    tmp_path: Path, sessions: async_sessionmaker[AsyncSession], world: World
) -> AsyncIterator[Callable[..., Any]]:
    """``client = await web(**settings)``: a test client on the real application."""
    clients: list[Client] = []

    async def start(**overrides: Any) -> Client:
        settings = web_settings(tmp_path, **overrides)
        app = create_app(settings, sessions, load_default_form())
        client: Client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


async def csrf_of(client: Client, path: str = "/console/login") -> str:
    """The CSRF token of a page (the client keeps the page's session cookie)."""
    response = await client.get(path)
    match = CSRF_RE.search(await response.text())
    assert match, f"no CSRF field on {path}"
    return match.group(1)


async def try_login(client: Client, username: str, password: str = PASSWORD, **headers: str) -> Any:
    """Post the login form; returns the response (not followed)."""
    token = await csrf_of(client)
    return await client.post(
        "/console/login",
        data={"_csrf": token, "username": username, "password": password},
        headers=headers or None,
        allow_redirects=False,
    )


async def login(client: Client, username: str, password: str = PASSWORD) -> None:
    """Sign in, asserting it worked."""
    response = await try_login(client, username, password)
    assert response.status == 303, await response.text()
