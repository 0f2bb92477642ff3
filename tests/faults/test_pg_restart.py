"""Restart the PostgreSQL server under load while the real bot (``canbao run``, Redis FSM) keeps
running: the bot recovers without losing acknowledged answers (see :mod:`bench.chaos`, which
repeats it at scale with ``--pg-restarts``).

The server is a private one the test creates on a free port (:mod:`bench.pgcluster`): the
suite's shared server is used by other runs at the same time and is never stopped. Restarts are
``pg_ctl`` stop and start, ``-m fast`` twice and ``-m immediate`` (a crash) once, with the
server down for 0.3-1.5 s each time, while 10 residents fill their forms.

Checked: the bot process stays up; every conversation completes; each resident has exactly one
submitted record with one revision holding exactly what they answered; no question the bot had
moved past was asked again; the inbox holds no unfinished update (an update that failed while
the server was down was handled again once it was back).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench.chaos import run_with_db_restarts
from bench.pgcluster import unavailable

pytestmark = pytest.mark.slow


@pytest.fixture
def private_postgres() -> None:
    """Skip, with the reason, where a private PostgreSQL server cannot be started."""
    reason = unavailable()
    if reason:
        pytest.skip(f"no private PostgreSQL server: {reason}")


@pytest.mark.usefixtures("private_postgres")
async def test_postgresql_restarted_under_load(tmp_path: Path, redis_url: str) -> None:
    # redis_url only skips the test when Redis is down; the run uses the bench's database, under
    # a bot id of its own. The bound turns a stuck conversation into a failure, not a hang.
    async with asyncio.timeout(150):
        result = await run_with_db_restarts(
            tmp_path, users=10, restarts=3, seed=5, calls=(40, 110), down=(0.3, 1.5)
        )
    assert result.db_restarts == 3
    assert result.db_crashes >= 1
    assert result.problems == []
    assert result.completed == result.users
