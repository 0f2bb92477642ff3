"""Login limits across two server processes on one store, behind a trusted proxy.

The test plays nginx: it connects from 127.0.0.1 (``CANBAO_TRUSTED_PROXIES``) and names the
client in ``X-Forwarded-For``. A burst of bad passwords over both workers gets five checked;
the lock survives a restart; staff at other addresses, and other accounts, are not locked out.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from storage.db import make_engine, make_sessionmaker
from storage.models import AuditEvent
from storage.repositories.accounts import create_staff
from tests.security.servers import two_servers

pytestmark = pytest.mark.slow
PASSWORD = "a sentence only staff know 2014"
CSRF_RE = re.compile(r'name="_csrf" value="([^"]+)"')
ATTACKER = "203.0.113.66"


async def add_staff(url: str, *usernames: str) -> None:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            for username in usernames:
                await create_staff(session, username, PASSWORD)
    finally:
        await engine.dispose()


async def audited(url: str, action: str) -> int:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            found = await session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
            )
    finally:
        await engine.dispose()
    return int(found or 0)


class Browser:
    """One browser behind the proxy: its address, its cookies, its CSRF token."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.http = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            connector=aiohttp.TCPConnector(limit=0, force_close=True),
        )
        self.token = ""

    async def open(self, base: str) -> None:
        async with self.http.get(f"{base}/console/login", headers=self.headers) as response:
            match = CSRF_RE.search(await response.text())
        assert match
        self.token = match.group(1)

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Forwarded-For": f"{self.address}, 10.1.2.3"}

    async def login(self, base: str, username: str, password: str) -> int:
        async with self.http.post(
            f"{base}/console/login",
            data={"_csrf": self.token, "username": username, "password": password},
            headers=self.headers,
            allow_redirects=False,
        ) as response:
            await response.read()
            status = response.status
        if status == 303:  # signed in: a fresh session, with a fresh CSRF token
            await self.open(base)
        return status

    async def close(self) -> None:
        await self.http.close()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_limits_hold_across_workers_and_restarts_and_lock_nobody_else(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    pg_url = request.getfixturevalue("pg_url") if kind == "postgres" else None
    env = {"CANBAO_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"}
    async with two_servers(kind, tmp_path, pg_url=pg_url, residents=1, extra_env=env) as servers:
        url = servers.database_url
        await add_staff(url, "alice", "bob", *(f"staff{n}" for n in range(5)))
        a, b = servers.urls
        attacker, bob = Browser(ATTACKER), Browser("198.51.100.7")
        try:
            await attacker.open(a)
            await bob.open(b)
            # Twelve bad passwords for alice at once, alternating the workers.
            statuses = Counter(
                await asyncio.gather(
                    *(
                        attacker.login(servers.urls[n % 2], "alice", f"guess number {n:02d}")
                        for n in range(12)
                    )
                )
            )
            assert set(statuses) <= {401, 429}, statuses
            assert statuses[401] <= 5 and await audited(url, "login_failed") <= 5, statuses
            # Locked for this account from this address, on both workers, even the right one.
            assert await attacker.login(a, "alice", PASSWORD) == 429
            assert await attacker.login(b, "alice", PASSWORD) == 429
            assert await audited(url, "login_locked") >= 1
            # A restart keeps the limit.
            await servers.processes[0].stop()
            servers.processes[0].start()
            await servers.processes[0].wait_healthy()
            assert await attacker.login(a, "alice", PASSWORD) == 429
            # Another account is not locked, not even from the attacker's address …
            assert await attacker.login(b, "bob", PASSWORD) == 303
            # … nor are the other staff behind the same proxy: twenty more bad logins over
            # other accounts from the attacker's address lock none of them.
            for n in range(20):
                assert await attacker.login(servers.urls[n % 2], f"staff{n % 5}", "nope 1") == 401
            assert await bob.login(a, "bob", PASSWORD) == 303
            failed = await audited(url, "login_failed")
        finally:
            await attacker.close()
            await bob.close()
        engine = make_engine(url)
        try:
            async with make_sessionmaker(engine)() as session:
                addresses = {
                    e.details.get("ip")
                    for e in await session.scalars(
                        select(AuditEvent).where(AuditEvent.action.in_(["login", "login_failed"]))
                    )
                }
        finally:
            await engine.dispose()
        # The audit names the staff's own addresses, never the proxy's.
        assert addresses == {ATTACKER, "198.51.100.7"}
        assert failed <= 25
