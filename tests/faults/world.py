"""A bot wired to the fake Bot API and a fresh store, for feeding updates directly.

The dispatcher is the real one (:func:`bot.telegram.create_dispatcher` with the real handlers),
its Bot talks to the fake server over loopback; updates go in through ``dp.feed_update``, so a
test knows exactly when each one is finished.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import Update
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.stores import Resident, seed_residents
from bot.settings import Settings
from bot.telegram import RetryPolicy, create_bot, create_dispatcher
from flows import Conversation, Form, load_default_form
from storage.db import ensure_schema, make_engine, make_sessionmaker
from storage.models import InboxUpdate, Record, RecordRevision, RecordStatus
from tests.fakebot import FakeTelegram


class ErrorLog(logging.Handler):
    """Collects every ERROR (and worse) log record while installed."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def describe(self) -> list[str]:
        return [
            f"{r.name}: {r.getMessage()} {r.exc_info and r.exc_info[1]!r}" for r in self.records
        ]


@dataclass
class World:
    """The fake server, the store, the dispatcher and its bot, and the roster's residents."""

    server: FakeTelegram
    sessions: async_sessionmaker[AsyncSession]
    dispatcher: Dispatcher
    bot: Bot
    form: Form
    residents: list[Resident]
    errors: ErrorLog = field(default_factory=ErrorLog)
    opened_versions: dict[int, int] = field(default_factory=dict)  # record id → version

    async def feed(self, payload: dict[str, Any]) -> None:
        """Hand one update to the dispatcher and wait until it is handled."""
        update = Update.model_validate(payload, context={"bot": self.bot})
        await self.dispatcher.feed_update(self.bot, update)


@asynccontextmanager
async def running_world(tmp: Path, residents: int = 6) -> AsyncIterator[World]:
    """Start everything on a SQLite file in ``tmp``; ERROR logs are collected in ``errors``."""
    url = f"sqlite+aiosqlite:///{tmp / 'world.db'}"
    await ensure_schema(url)
    people = await seed_residents(url, residents, tmp, seed=7)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    form = load_default_form()
    async with FakeTelegram() as server:
        settings = Settings(
            _env_file=None,
            bot_token=SecretStr(server.token),
            telegram_api_url=server.base_url,
            database_url=url,
            data_dir=tmp,
            redis_url=None,
            webhook_url=None,
        )
        bot = create_bot(settings, retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05))
        dispatcher = create_dispatcher(settings, sessions, form, MemoryStorage())
        world = World(server, sessions, dispatcher, bot, form, people)
        root = logging.getLogger()
        root.addHandler(world.errors)
        try:
            yield world
        finally:
            root.removeHandler(world.errors)
            await bot.session.close()
            await dispatcher.storage.close()
            await engine.dispose()


async def store_problems(world: World) -> list[str]:
    """Everything wrong with the stored records and the inbox (empty when all is well).

    A record's state must restore into a conversation of its form; a handed-in record must be
    complete, with exactly one revision per submission holding the conversation's answers;
    one live record per person; no update left failed in the inbox.
    """
    problems: list[str] = []
    async with world.sessions() as session:
        records = (await session.scalars(select(Record))).all()
        live: dict[int, int] = {}
        for record in records:
            where = f"record {record.id} ({record.status})"
            try:
                conv = Conversation.restore(world.form, record.state)
            except Exception as exc:  # any failure to restore is the corruption we look for
                problems.append(f"{where}: state does not restore: {type(exc).__name__}: {exc}")
                continue
            if record.live_person_id is not None:
                if record.live_person_id in live:
                    problems.append(f"{where}: a second live record for one person")
                live[record.live_person_id] = record.id
            if record.status in (RecordStatus.submitted, RecordStatus.confirmed):
                if not conv.complete:
                    problems.append(f"{where}: handed in but the conversation is not complete")
                revisions = (
                    await session.scalars(
                        select(RecordRevision)
                        .where(RecordRevision.record_id == record.id)
                        .order_by(RecordRevision.n)
                    )
                ).all()
                if not revisions:
                    problems.append(f"{where}: handed in without a revision")
                elif [r.n for r in revisions] != list(range(1, len(revisions) + 1)):
                    problems.append(f"{where}: revision numbers {[r.n for r in revisions]}")
        failed = (
            await session.scalars(select(InboxUpdate).where(InboxUpdate.last_error.is_not(None)))
        ).all()
        problems += [f"update {row.update_id} failed: {row.last_error}" for row in failed]
    return problems
