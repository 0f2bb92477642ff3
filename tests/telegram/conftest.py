"""Fixtures for bot tests: the fake Bot API server, a database, and the running service.

    async def test_x(tg, start_service):
        await start_service(router=my_router)            # polling; mode="webhook" for webhook
        user = tg.user(1001, "张三")
        await user.send("/start")
        assert user.last_message.text == "..."

``start_service`` runs the real :class:`~bot.telegram.service.Service` (web server, bot,
outbox sender) against the fake server over loopback; the fake server is told when the bot
has finished each update, so conversations need no sleeps.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiogram import Router
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.settings import Settings
from bot.telegram.retry import RetryPolicy
from bot.telegram.service import Service
from storage.db import make_sessionmaker
from storage.testing import temporary_database
from tests.fakebot import FakeTelegram

WEBHOOK_SECRET = "test-secret_0123456789"
# Short backoffs keep fault tests quick; the policy's logic is what they exercise.
FAST_RETRY = RetryPolicy(attempts=5, base_delay=0.05, max_delay=0.5)


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    """The fake Telegram Bot API server, listening on loopback."""
    async with FakeTelegram() as server:
        yield server


@pytest.fixture(params=["sqlite"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A fresh database with the real schema; parametrise indirectly with "postgresql"."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    async with temporary_database(url, directory=tmp_path, migrate=True) as eng:
        yield eng


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A sessionmaker on the test database."""
    return make_sessionmaker(engine)


@pytest.fixture
def make_settings(tg: FakeTelegram, tmp_path: Path) -> Callable[..., Settings]:
    """Settings pointing at the fake server; keyword arguments override fields."""

    def make(**overrides: Any) -> Settings:
        port = overrides.pop("port", None) or free_port()
        values: dict[str, Any] = {
            "bot_token": SecretStr(tg.token),
            "telegram_api_url": tg.base_url,
            "host": "127.0.0.1",
            "port": port,
            "public_url": f"http://127.0.0.1:{port}",
            "data_dir": tmp_path,
            "redis_url": None,
            "webhook_url": None,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


StartService = Callable[..., Awaitable[Service]]


@pytest.fixture
async def start_service(
    tg: FakeTelegram,
    sessions: async_sessionmaker[AsyncSession],
    make_settings: Callable[..., Settings],
) -> AsyncIterator[StartService]:
    """Start the service (``mode="polling"`` or ``"webhook"``); stopped after the test.

    Keyword arguments: ``router`` (default: the real handlers), ``form``, ``fsm_storage``,
    ``settings`` (a :class:`Settings`; else built from ``settings_overrides``) and any
    other :class:`Service` argument.
    """
    running: list[Service] = []

    async def start(
        *,
        mode: str = "polling",
        router: Router | None = None,
        form: Any = None,
        settings: Settings | None = None,
        settings_overrides: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Service:
        if settings is None:
            overrides = dict(settings_overrides or {})
            if mode == "webhook":
                port = free_port()
                overrides.update(
                    port=port,
                    webhook_url=f"http://127.0.0.1:{port}/telegram/webhook",
                    webhook_secret=SecretStr(WEBHOOK_SECRET),
                )
            settings = make_settings(**overrides)
        kwargs.setdefault("retry", FAST_RETRY)
        kwargs.setdefault("polling_timeout", 2)
        kwargs.setdefault("outbox_idle_interval", 0.05)
        service = Service(
            settings,
            sessionmaker=sessions,
            form=form,
            router=router,
            outer_middlewares=[tg.completion_middleware()],
            **kwargs,
        )
        await service.start()
        running.append(service)
        return service

    yield start
    for service in reversed(running):
        await service.stop()
