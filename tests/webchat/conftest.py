"""Fixtures of the web chat tests: a real store (SQLite, and PostgreSQL where marked), the
real application from ``bot.server.create_app``, and aiohttp's test client over loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.server import create_app
from bot.settings import Settings
from flows import Form, load_default_form
from storage.db import make_sessionmaker
from storage.testing import temporary_database
from tests.webchat.chatkit import ChatClient, Resident, load_people


@dataclass
class ChatEnv:
    """Everything a web chat test touches."""

    client: TestClient[Any, Any]
    sessions: async_sessionmaker[AsyncSession]
    people: dict[str, Resident]
    form: Form
    settings: Settings
    app: web.Application

    def chat(self, key: str = "adult") -> ChatClient:
        """A client for that resident's link (shares this browser's cookies)."""
        return ChatClient(self.client, self.people[key].code)

    async def new_browser(self) -> TestClient[Any, Any]:
        """Another device: a second client on the same server, without cookies."""
        other = TestClient(TestServer(self.app))
        await other.start_server()
        return other


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for tests: nothing read from the environment or a .env file."""
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "session_secret": SecretStr("webchat-tests-secret-0123456789"),
        "bot_token": None,
        "public_url": "http://127.0.0.1:8080",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(params=["sqlite"])
async def chat_env(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ChatEnv]:
    """The web chat on a fresh store with three synthetic residents; parametrise indirectly
    with ``"postgresql"`` to run on the PostgreSQL server."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    async with temporary_database(url, directory=tmp_path, migrate=True) as engine:
        sessions = make_sessionmaker(engine)
        people = await load_people(sessions)
        settings = make_settings(tmp_path)
        form = load_default_form()
        app = create_app(settings, sessions, form)
        async with TestClient(TestServer(app)) as client:
            yield ChatEnv(client, sessions, people, form, settings, app)
