"""Fresh stores for a benchmark run: a SQLite file or a new PostgreSQL database, a clean Redis
database, and a synthetic roster with invites written into the store before the bot starts."""

from __future__ import annotations

import asyncio
import csv
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import make_url, select, text

from bot.roster import import_file
from bot.synthetic import ROSTER_HEADERS, make_roster
from storage.db import ensure_schema, make_engine, make_sessionmaker
from storage.models import Invite, Person
from storage.repositories import invites

PG_URL = os.environ.get("CANBAO_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CANBAO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


@dataclass(frozen=True)
class Resident:
    """A roster person with the invite code a resident would be given on the phone."""

    name: str
    id_number: str
    mobile: str | None
    code: str

    @property
    def birth(self) -> date:
        n = self.id_number
        return date(int(n[6:10]), int(n[10:12]), int(n[12:14]))


@asynccontextmanager
async def fresh_database(kind: str, workdir: Path, pg_url: str = PG_URL) -> AsyncIterator[str]:
    """The URL of an empty, migrated database; a PostgreSQL one (a new database on the server
    of ``pg_url``) is dropped afterwards."""
    if kind == "sqlite":
        for old in await asyncio.to_thread(lambda: list(workdir.glob("bench.db*"))):
            old.unlink()
        url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        await ensure_schema(url)
        yield url
        return
    name = f"canbao_bench_{secrets.token_hex(4)}"
    admin = make_engine(pg_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
        await ensure_schema(url)
        try:
            yield url
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def clean_redis(url: str, match: str = "canbao:*") -> None:
    """Delete the bot's FSM keys (prefix ``canbao``; ``match`` narrows it, e.g. to one bot id:
    ``canbao:<bot id>:*``) from the benchmark's Redis database."""
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=match, count=1000)]
        for start in range(0, len(keys), 1000):
            await client.delete(*keys[start : start + 1000])
    finally:
        await client.aclose()


async def seed_residents(url: str, count: int, workdir: Path, seed: int = 2014) -> list[Resident]:
    """Import a synthetic roster of ``count`` people and give each an invite."""
    rows = make_roster(count, seed=seed)
    path = workdir / "roster.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(ROSTER_HEADERS))
        writer.writeheader()
        writer.writerows(rows)
    engine = make_engine(url)
    try:
        sessions = make_sessionmaker(engine)
        report = await import_file(path, sessions)
        if not report.ok:
            raise RuntimeError(f"synthetic roster rejected: {report.problems[:3]}")
        async with sessions() as session, session.begin():
            await invites.ensure_invites(session)
        async with sessions() as session:
            found = await session.execute(
                select(Person.name, Person.id_number, Person.mobile, Invite.code)
                .join(Invite, Invite.person_id == Person.id)
                .order_by(Person.id)
            )
            return [Resident(*row) for row in found.all()]
    finally:
        await engine.dispose()
