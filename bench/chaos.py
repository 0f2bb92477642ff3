"""SIGKILL the real bot process at random moments while residents fill their forms.

    python -m bench.chaos --kills 12                 # 80 residents, SQLite
    python -m bench.chaos --kills 12 --db postgres --redis

Each kill is followed by a restart; residents whose step goes unanswered tap their invite link
again, as people do. In the end: every conversation completed, one submitted record each with
one revision holding exactly the persona's answers (nothing lost, nothing applied twice), no
question the bot had acknowledged was ever asked again, and the inbox holds no unfinished update.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import func, select

from bench.driver import Outcome
from bench.fakeserver import LoadTelegram
from bench.load import assign, check_store
from bench.personas import EMPLOYED, FLEXIBLE
from bench.procs import BotProcess, canbao_run
from bench.resident import Walk, state_labels, state_order
from bench.stores import PG_URL, REDIS_URL, clean_redis, fresh_database, seed_residents
from flows import load_default_form
from storage.db import make_engine, make_sessionmaker
from storage.models import InboxUpdate

FIRST_USER_ID = 60_000_001


@dataclass
class ChaosResult:
    """What a run with kills found."""

    users: int
    kills: int = 0
    seconds: float = 0.0
    completed: int = 0
    resyncs: int = 0
    unfinished_updates: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.completed == self.users


async def _killer(
    proc: BotProcess,
    kills: int,
    rng: random.Random,
    gaps: tuple[float, float],
    done: asyncio.Event,
    result: ChaosResult,
) -> None:
    for _ in range(kills):
        try:
            await asyncio.wait_for(done.wait(), rng.uniform(*gaps))
            return
        except TimeoutError:
            pass
        proc.kill()
        result.kills += 1
        proc.start()
        await proc.wait_healthy()


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


async def run_with_kills(
    workdir: Path,
    *,
    users: int,
    kills: int,
    db: str = "sqlite",
    redis: bool = False,
    seed: int = 1,
    gaps: tuple[float, float] = (1.0, 3.0),
    patience: float = 8.0,
    pg_url: str = PG_URL,
) -> ChaosResult:
    """One run: fresh store, ``users`` residents, up to ``kills`` SIGKILLs (fewer if everyone
    finishes first)."""
    result = ChaosResult(users)
    rng = random.Random(seed)
    async with fresh_database(db, workdir, pg_url) as url:
        # A /back cut short by a kill is not retried by the walk (it would not know), so the
        # personas here answer straight through; mistakes stay in.
        cast = [
            (r, replace(EMPLOYED if p is FLEXIBLE else p, back_after={}))
            for r, p in assign(await seed_residents(url, users, workdir), users)
        ]
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
            form = load_default_form()
            labels, order = state_labels(form), state_order(form)
            walks = [
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
            done = asyncio.Event()
            started = time.perf_counter()
            killer = asyncio.create_task(_killer(proc, kills, rng, gaps, done, result))
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
        result.completed = sum(1 for w in walks if w.outcome.completed)
        result.resyncs = sum(w.resyncs for w in walks)
        result.problems += [
            f"user {w.user.id}: {w.outcome.error}" for w in walks if w.outcome.error
        ]
        result.problems += [f"user {w.user.id}: {r}" for w in walks for r in w.regressions]
        result.problems += await check_store(url, walks)
        result.unfinished_updates = await _unfinished(url)
        if result.unfinished_updates:
            result.problems.append(f"{result.unfinished_updates} updates never finished")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=80)
    parser.add_argument("--kills", type=int, default=12)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--redis", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
