"""SIGKILL the real bot process, or restart its PostgreSQL server, while residents fill forms.

    python -m bench.chaos --kills 12                 # 80 residents, SQLite
    python -m bench.chaos --kills 12 --db postgres --redis
    python -m bench.chaos --pg-restarts 6            # PostgreSQL + Redis, the bot keeps running

Each kill is followed by a restart of the bot; a PostgreSQL restart (``pg_ctl restart -m fast``,
every third one ``-m immediate``, a crash) happens on a private server of the run's own
(:mod:`bench.pgcluster`), never on the shared one. Residents whose step goes unanswered tap their
invite link again, as people do. In the end: every conversation completed, one submitted record
each with one revision holding exactly the persona's answers (nothing lost, nothing applied
twice), no question the bot had acknowledged was ever asked again, and the inbox holds no
unfinished update.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import func, select

from bench.driver import Outcome
from bench.fakeserver import LoadTelegram
from bench.load import assign, check_store
from bench.personas import EMPLOYED, FLEXIBLE, Persona
from bench.pgcluster import PgCluster, ShutdownMode, unavailable
from bench.procs import BotProcess, canbao_run
from bench.resident import Walk, state_labels, state_order
from bench.stores import (
    PG_URL,
    REDIS_URL,
    Resident,
    clean_redis,
    fresh_database,
    seed_residents,
)
from bot.telegram.fsm import KEY_PREFIX
from flows import load_default_form
from storage.db import make_engine, make_sessionmaker
from storage.models import InboxUpdate

FIRST_USER_ID = 60_000_001
# What the bot's error handler tells a user whose update failed (bot.telegram.errors).
APOLOGY = "系统暂时出了点问题"


@dataclass
class ChaosResult:
    """What a run with kills (or database restarts) found."""

    users: int
    kills: int = 0
    db_restarts: int = 0
    db_crashes: int = 0  # of the restarts, those in ``immediate`` mode
    seconds: float = 0.0
    completed: int = 0
    resyncs: int = 0
    apologies: int = 0  # "sorry, a problem" messages the residents were shown
    failed_updates: int = 0  # inbox rows whose handling failed at least once
    unfinished_updates: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.completed == self.users


async def _calls_reach(server: LoadTelegram, mark: int, done: asyncio.Event) -> bool:
    """Wait until the bot has made ``mark`` Bot API calls in all; False if the run ends first."""
    while len(server.calls) < mark:
        if done.is_set():
            return False
        await asyncio.sleep(0.01)
    return True


async def _next_moment(
    server: LoadTelegram,
    rng: random.Random,
    gaps: tuple[float, float],
    calls: tuple[int, int] | None,
    done: asyncio.Event,
) -> bool:
    """Wait for the next fault: a random time within ``gaps`` seconds or, given ``calls``, a
    random number within it of further Bot API calls. False if the run ends first."""
    if calls is not None:
        # Moments counted in the bot's work rather than in seconds: as many faults land in a
        # run however fast the bot gets through it.
        return await _calls_reach(server, len(server.calls) + rng.randint(*calls), done)
    try:
        await asyncio.wait_for(done.wait(), rng.uniform(*gaps))
        return False
    except TimeoutError:
        return True


async def _killer(
    proc: BotProcess,
    server: LoadTelegram,
    kills: int,
    rng: random.Random,
    gaps: tuple[float, float],
    calls: tuple[int, int] | None,
    done: asyncio.Event,
    result: ChaosResult,
) -> None:
    for _ in range(kills):
        if not await _next_moment(server, rng, gaps, calls, done):
            return
        proc.kill()
        result.kills += 1
        proc.start()
        await proc.wait_healthy()


def restart_mode(index: int) -> ShutdownMode:
    """The shutdown mode of the ``index``-th database restart (from 0): every third one, the
    second first, is a crash."""
    return "immediate" if index % 3 == 1 else "fast"


async def _restarter(
    cluster: PgCluster,
    server: LoadTelegram,
    restarts: int,
    rng: random.Random,
    gaps: tuple[float, float],
    calls: tuple[int, int] | None,
    down: tuple[float, float],
    done: asyncio.Event,
    result: ChaosResult,
) -> None:
    for index in range(restarts):
        if not await _next_moment(server, rng, gaps, calls, done):
            return
        mode = restart_mode(index)
        await cluster.restart(mode, down=rng.uniform(*down))
        result.db_restarts += 1
        result.db_crashes += mode == "immediate"


async def _unfinished(url: str) -> int:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(InboxUpdate)
                .where(InboxUpdate.processed_at.is_(None))
            )
            return int(count or 0)
    finally:
        await engine.dispose()


async def _failed(url: str) -> int:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            count = await session.scalar(
                select(func.count()).select_from(InboxUpdate).where(InboxUpdate.attempts > 0)
            )
            return int(count or 0)
    finally:
        await engine.dispose()


async def _cast(url: str, users: int, workdir: Path) -> list[tuple[Resident, Persona]]:
    # A /back cut short by a fault is not retried by the walk (it would not know), so the
    # personas here answer straight through; mistakes stay in.
    return [
        (r, replace(EMPLOYED if p is FLEXIBLE else p, back_after={}))
        for r, p in assign(await seed_residents(url, users, workdir), users)
    ]


def _walks(
    server: LoadTelegram, cast: list[tuple[Resident, Persona]], patience: float
) -> list[Walk]:
    form = load_default_form()
    labels, order = state_labels(form), state_order(form)
    return [
        Walk(
            server,
            server.user(FIRST_USER_ID + i, r.name),
            r,
            p,
            labels,
            Outcome(FIRST_USER_ID + i, p.name),
            patience=patience,
            order=order,
        )
        for i, (r, p) in enumerate(cast)
    ]


async def _conclude(result: ChaosResult, url: str, walks: list[Walk]) -> None:
    """What the walks and the store say, once the bot has stopped."""
    result.completed = sum(1 for w in walks if w.outcome.completed)
    result.resyncs = sum(w.resyncs for w in walks)
    result.apologies = sum(
        1 for w in walks for m in w.user.bot_messages if APOLOGY in (m.text or "")
    )
    result.problems += [f"user {w.user.id}: {w.outcome.error}" for w in walks if w.outcome.error]
    result.problems += [f"user {w.user.id}: {r}" for w in walks for r in w.regressions]
    result.problems += await check_store(url, walks)
    result.failed_updates = await _failed(url)
    result.unfinished_updates = await _unfinished(url)
    if result.unfinished_updates:
        result.problems.append(f"{result.unfinished_updates} updates never finished")


async def run_with_kills(
    workdir: Path,
    *,
    users: int,
    kills: int,
    db: str = "sqlite",
    redis: bool = False,
    seed: int = 1,
    gaps: tuple[float, float] = (1.0, 3.0),
    calls: tuple[int, int] | None = None,
    patience: float = 8.0,
    pg_url: str = PG_URL,
) -> ChaosResult:
    """One run: fresh store, ``users`` residents, up to ``kills`` SIGKILLs (fewer if everyone
    finishes first). Kills come ``gaps`` seconds apart, or, given ``calls``, after a random
    number within it of the bot's Bot API calls since the last restart."""
    result = ChaosResult(users)
    rng = random.Random(seed)
    async with fresh_database(db, workdir, pg_url) as url:
        cast = await _cast(url, users, workdir)
        if redis:
            await clean_redis(REDIS_URL)
        async with LoadTelegram(reply_timeout=60) as server:
            proc = canbao_run(
                "canbao",
                api_url=server.base_url,
                token=server.token,
                database_url=url,
                data_dir=workdir,
                redis_url=REDIS_URL if redis else None,
                log_path=workdir / "bot.log",
            )
            proc.start()
            await proc.wait_healthy()
            walks = _walks(server, cast, patience)
            done = asyncio.Event()
            started = time.perf_counter()
            killer = asyncio.create_task(
                _killer(proc, server, kills, rng, gaps, calls, done, result)
            )
            try:
                await asyncio.gather(*(w.run() for w in walks))
            finally:
                done.set()
                await killer
                result.seconds = time.perf_counter() - started
                # Let the bot finish what it has in hand, then stop it cleanly.
                await asyncio.sleep(0.5)
                await proc.stop()
        if redis:
            await clean_redis(REDIS_URL)
        await _conclude(result, url, walks)
    return result


async def run_with_db_restarts(
    workdir: Path,
    *,
    users: int,
    restarts: int,
    seed: int = 1,
    gaps: tuple[float, float] = (1.0, 3.0),
    calls: tuple[int, int] | None = None,
    down: tuple[float, float] = (0.0, 1.5),
    patience: float = 8.0,
    redis_url: str = REDIS_URL,
) -> ChaosResult:
    """One run on a private PostgreSQL server (and Redis FSM): fresh store, ``users`` residents,
    up to ``restarts`` restarts of the database server (fewer if everyone finishes first), each
    with the server down for a random time within ``down`` seconds. The bot keeps running.
    Restarts are timed as the kills of :func:`run_with_kills` are (``gaps`` or ``calls``)."""
    result = ChaosResult(users)
    rng = random.Random(seed)
    async with PgCluster() as cluster, fresh_database("postgres", workdir, cluster.url) as url:
        cast = await _cast(url, users, workdir)
        # A bot id of its own: the FSM keys in Redis carry it, so other runs on the same Redis
        # database (same fake token, same user ids) share neither this run's locks nor its data,
        # and cleaning up removes this run's keys only.
        bot_id = 7_000_000_000 + secrets.randbelow(10**9)
        keys = f"{KEY_PREFIX}:{bot_id}:*"
        async with LoadTelegram(
            f"{bot_id}:AAFakeTokenForChaos_canbao-01234567", reply_timeout=60
        ) as server:
            proc = canbao_run(
                "canbao",
                api_url=server.base_url,
                token=server.token,
                database_url=url,
                data_dir=workdir,
                redis_url=redis_url,
                log_path=workdir / "bot.log",
            )
            proc.start()
            await proc.wait_healthy()
            walks = _walks(server, cast, patience)
            done = asyncio.Event()
            started = time.perf_counter()
            restarter = asyncio.create_task(
                _restarter(cluster, server, restarts, rng, gaps, calls, down, done, result)
            )
            try:
                await asyncio.gather(*(w.run() for w in walks))
            finally:
                done.set()
                await restarter
                result.seconds = time.perf_counter() - started
                await asyncio.sleep(0.5)
                if not proc.alive():
                    result.problems.append(f"the bot exited ({proc.proc and proc.proc.poll()})")
                await proc.stop()
        await clean_redis(redis_url, keys)
        await _conclude(result, url, walks)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=80)
    parser.add_argument("--kills", type=int, default=12)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--redis", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--pg-restarts",
        type=int,
        metavar="N",
        help="restart a private PostgreSQL server N times instead of killing the bot "
        "(PostgreSQL + Redis; --kills, --db and --redis do not apply)",
    )
    args = parser.parse_args()
    if args.pg_restarts is not None:
        restarts(args)
        return
    with tempfile.TemporaryDirectory(prefix="canbao-chaos-") as tmp:
        result = asyncio.run(
            run_with_kills(
                Path(tmp),
                users=args.users,
                kills=args.kills,
                db=args.db,
                redis=args.redis,
                seed=args.seed,
            )
        )
    print(
        f"{args.users} residents, {args.db}{' + Redis' if args.redis else ''}: "
        f"{result.kills} SIGKILLs in {result.seconds:.0f} s; completed {result.completed}/"
        f"{result.users}; re-opened by /start after a kill: {result.resyncs}; "
        f"unfinished updates: {result.unfinished_updates}; "
        + ("store check OK" if result.ok else f"{len(result.problems)} problems")
    )
    for problem in result.problems[:20]:
        print(f"  - {problem}")
    sys.exit(0 if result.ok else 1)


def restarts(args: argparse.Namespace) -> None:
    """``--pg-restarts N``: the database-restart run, with its one-line summary."""
    reason = unavailable()
    if reason:
        sys.exit(f"cannot start a private PostgreSQL server: {reason}")
    with tempfile.TemporaryDirectory(prefix="canbao-chaos-") as tmp:
        result = asyncio.run(
            run_with_db_restarts(
                Path(tmp), users=args.users, restarts=args.pg_restarts, seed=args.seed
            )
        )
    print(
        f"{args.users} residents, postgres + Redis: {result.db_restarts} PostgreSQL restarts "
        f"({result.db_crashes} -m immediate) in {result.seconds:.0f} s; completed "
        f"{result.completed}/{result.users}; apologies shown: {result.apologies}; updates "
        f"failed at least once: {result.failed_updates}; re-opened by /start: "
        f"{result.resyncs}; unfinished updates: {result.unfinished_updates}; "
        + ("store check OK" if result.ok else f"{len(result.problems)} problems")
    )
    for problem in result.problems[:20]:
        print(f"  - {problem}")
    sys.exit(0 if result.ok else 1)


if __name__ == "__main__":
    main()
