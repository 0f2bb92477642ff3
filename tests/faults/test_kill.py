"""SIGKILL the real bot process (``canbao run``) at random moments while residents fill their
forms, restart it, and let everyone finish (see :mod:`bench.chaos`, which repeats it at scale).

Checked: every conversation completes; each resident has exactly one submitted record with one
revision holding exactly what they answered (so no acknowledged answer was lost and none was
applied twice); no question the bot had moved past was asked again after a restart; the inbox
holds no unfinished update.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.chaos import run_with_kills

pytestmark = pytest.mark.slow


async def test_sigkill_at_random_moments_on_sqlite(tmp_path: Path) -> None:
    # Ten residents make some 450 Bot API calls; three kills each within 40-110 calls of the last
    # land well before the end, however fast the bot is.
    result = await run_with_kills(tmp_path, users=10, kills=3, seed=7, calls=(40, 110))
    assert result.kills == 3
    assert result.problems == []
    assert result.completed == result.users


# On PostgreSQL + Redis a killed worker leaves its per-user locks in Redis; the restarted worker
# frees them before it takes updates (they used to hold the residents it was serving for up to a
# minute, and their repeated /start then arrived as a burst of copies of one question. Once, a
# road typed at the first copy and again at a late one was stored as the road and as the 号 too:
# the second was applied to a question not yet shown; since fixed, see
# tests/telegram/test_resident_typing_ahead.py).
async def test_sigkill_on_postgresql_with_redis(
    tmp_path: Path, pg_url: str, redis_url: str
) -> None:
    result = await run_with_kills(
        tmp_path,
        users=12,
        kills=2,
        seed=11,
        calls=(40, 120),
        db="postgres",
        redis=True,
        pg_url=pg_url,
    )
    assert result.kills == 2
    assert result.problems == []
    assert result.completed == result.users
