"""Five tries are five, however they arrive: a burst of well-formed wrong 公民身份号码 sent at
once to two server processes on one store, then the right number, evaluates at most five
guesses; the lock holds even against the right number."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.synthetic import make_id_number
from storage.db import make_engine, make_sessionmaker
from storage.models import AuditEvent, Invite
from tests.security.servers import two_servers

pytestmark = pytest.mark.slow
HEADERS = {"X-Canbao-Chat": "1"}
BURST = 40


def wrong_numbers(right: str, count: int) -> list[str]:
    """Distinct valid numbers (right check digit, real date, a region of the roster)."""
    birth = dt.date(1985, 3, 14)
    numbers = [make_id_number(birth, "M", right[:6], seq=n) for n in range(count + 1)]
    return [n for n in numbers if n != right][:count]


async def burst(urls: list[str], code: str, right: str) -> tuple[Counter[int], int]:
    """40 wrong guesses spread over the servers at once, the right one 10 ms later."""
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def guess(url: str, number: str, delay: float = 0.0) -> int:
            await asyncio.sleep(delay)
            async with http.post(
                f"{url}/c/{code}/api/identity", json={"id_number": number}, headers=HEADERS
            ) as response:
                await response.read()
                return response.status

        wrong = [
            guess(urls[n % len(urls)], number)
            for n, number in enumerate(wrong_numbers(right, BURST))
        ]
        results = await asyncio.gather(*wrong, guess(urls[0], right, delay=0.01))
    return Counter(results[:-1]), results[-1]


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_a_burst_over_two_processes_evaluates_at_most_five_guesses(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    pg_url = request.getfixturevalue("pg_url") if kind == "postgres" else None
    async with two_servers(kind, tmp_path, pg_url=pg_url) as servers:
        person = servers.residents[0]
        statuses, right_status = await burst(servers.urls, person.code, person.id_number)
        # Every answer is a refusal the person can read, never a server error.
        assert set(statuses) <= {403, 423}, statuses
        # At most four are told "wrong, try again"; the fifth wrong one locks the link.
        assert statuses[403] + (right_status == 200) <= 5, (statuses, right_status)
        engine = make_engine(servers.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                invite = await session.scalar(select(Invite).where(Invite.code == person.code))
                failed = await session.scalar(
                    select(func.count())
                    .select_from(AuditEvent)
                    .where(AuditEvent.action == "identity_failed")
                )
        finally:
            await engine.dispose()
        assert invite is not None
        # Compared guesses, as audited and as counted on the invite: never more than five.
        assert failed is not None and failed <= 5, (failed, statuses, right_status)
        assert invite.failed_attempts <= 5
        if right_status != 200:
            # The five wrong ones came first: the link is locked and the right number refused.
            assert right_status == 423
            assert invite.failed_attempts == 5 and invite.locked_at is not None
            assert invite.verified_at is None
        # Whatever the order, once locked even the right number is refused.
        async with aiohttp.ClientSession() as http:
            if invite.locked_at is not None:
                async with http.post(
                    f"{servers.urls[1]}/c/{person.code}/api/identity",
                    json={"id_number": person.id_number},
                    headers=HEADERS,
                ) as response:
                    assert response.status == 423
