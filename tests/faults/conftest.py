"""Fixtures for fault tests: the instrumented fake Bot API and the real service in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bench.fakeserver import LoadTelegram
from bench.procs import free_port
from bench.stores import Resident, fresh_database, seed_residents
from bot.settings import Settings
from bot.telegram.retry import RetryPolicy
from bot.telegram.service import Service
from flows import load_default_form
from storage.db import make_engine, make_sessionmaker

# Short backoffs keep the tests quick; a 429's retry_after is always honoured in full.
FAST_RETRY = RetryPolicy(attempts=10, base_delay=0.05, max_delay=0.5)


class Running:
    """The fake server, the service, the store and the residents of one test."""

    def __init__(self, server: LoadTelegram, service: Service, url: str, residents: list[Resident]):
        self.server = server
        self.service = service
        self.url = url
        self.residents = residents


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Running]]]:
    """``await running(residents=6)``: a fresh SQLite store, the roster, the real bot service
    (polling) against the fake server; stopped after the test."""
    stack: list[Any] = []

    async def start(residents: int = 6, **service_kwargs: Any) -> Running:
        database = fresh_database("sqlite", tmp_path)
        url = await database.__aenter__()
        stack.append(database)
        people = await seed_residents(url, residents, tmp_path, seed=3)
        server = await LoadTelegram(reply_timeout=30).start()
        stack.append(server)
        engine = make_engine(url)
        stack.append(engine)
        port = free_port()
        settings = Settings(
            _env_file=None,
            bot_token=SecretStr(server.token),
            telegram_api_url=server.base_url,
            database_url=url,
            data_dir=tmp_path,
            host="127.0.0.1",
            port=port,
            public_url=f"http://127.0.0.1:{port}",
            redis_url=None,
            webhook_url=None,
        )
        service_kwargs.setdefault("retry", FAST_RETRY)
        service_kwargs.setdefault("polling_timeout", 2)
        service_kwargs.setdefault("outbox_idle_interval", 0.05)
        service = Service(
            settings,
            sessionmaker=make_sessionmaker(engine),
            form=load_default_form(),
            **service_kwargs,
        )
        await service.start()
        stack.append(service)
        return Running(server, service, url, people)

    yield start
    for item in reversed(stack):
        if isinstance(item, Service):
            await item.stop()
        elif isinstance(item, LoadTelegram):
            await item.close()
        elif hasattr(item, "dispose"):
            await item.dispose()
        else:
            await item.__aexit__(None, None, None)
