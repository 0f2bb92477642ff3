"""Two real web servers (``canbao run`` without a bot token) sharing one store.

Each test gets its own database: a SQLite file, or a database of its own on the PostgreSQL
server (``bench.stores.fresh_database``), with a synthetic roster and invites loaded before the
servers start.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.procs import BotProcess, free_port
from bench.stores import Resident, fresh_database, seed_residents

SESSION_SECRET = "security-tests-session-secret-0123456789abcdef"


def web_server(
    name: str,
    *,
    database_url: str,
    data_dir: Path,
    port: int,
    log_path: Path,
    extra_env: dict[str, str] | None = None,
) -> BotProcess:
    """``python -m bot run`` serving the web parts only (no Telegram token)."""
    env = {
        "CANBAO_BOT_TOKEN": "",
        "CANBAO_REDIS_URL": "",
        "CANBAO_WEBHOOK_URL": "",
        "CANBAO_DATABASE_URL": database_url,
        "CANBAO_DATA_DIR": str(data_dir),
        "CANBAO_HOST": "127.0.0.1",
        "CANBAO_PORT": str(port),
        "CANBAO_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CANBAO_SESSION_SECRET": SESSION_SECRET,
        **(extra_env or {}),
    }
    return BotProcess(
        name=name,
        argv=[sys.executable, "-m", "bot", "run", "--no-migrate", "--log-level", "WARNING"],
        env=env,
        health_url=f"http://127.0.0.1:{port}/healthz",
        log_path=log_path,
    )


@dataclass
class Servers:
    """The store's URL, its residents, and the base URLs of the running servers."""

    database_url: str
    residents: list[Resident]
    urls: list[str]
    processes: list[BotProcess]


@asynccontextmanager
async def two_servers(
    kind: str,
    tmp_path: Path,
    *,
    pg_url: str | None = None,
    residents: int = 2,
    extra_env: dict[str, str] | None = None,
    count: int = 2,
) -> AsyncIterator[Servers]:
    """``count`` servers on one fresh store (``kind``: ``sqlite`` or ``postgres``)."""
    args = (kind, tmp_path) if pg_url is None else (kind, tmp_path, pg_url)
    async with fresh_database(*args) as url:
        people = await seed_residents(url, residents, tmp_path, seed=12)
        ports = [free_port() for _ in range(count)]
        processes = [
            web_server(
                f"web{n}",
                database_url=url,
                data_dir=tmp_path,
                port=port,
                log_path=tmp_path / f"web{n}.log",
                extra_env=extra_env,
            )
            for n, port in enumerate(ports)
        ]
        try:
            for process in processes:
                process.start()
            for process in processes:
                await process.wait_healthy()
            yield Servers(url, people, [f"http://127.0.0.1:{p}" for p in ports], processes)
        finally:
            for process in processes:
                await process.stop()
