"""Migration 0006: inbox rows stored before it get the fingerprint of their payload, so a
redelivery just after the upgrade is still known as a duplicate."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import text

from storage.db import ensure_schema, make_engine, make_sessionmaker
from storage.repositories import inbox
from storage.testing import schema_engine, sqlite_url
from storage.types import UTCDateTime

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
# The table as revision 0002 had it.
OLD_INBOX = sa.table(
    "inbox",
    sa.column("bot_id", sa.BigInteger()),
    sa.column("update_id", sa.BigInteger()),
    sa.column("payload", sa.JSON()),
    sa.column("received_at", UTCDateTime()),
    sa.column("processed_at", UTCDateTime()),
    sa.column("attempts", sa.Integer()),
)
PAYLOADS = [
    {"update_id": 5, "message": {"message_id": 1, "text": "你好"}},
    {"update_id": 6, "callback_query": {"id": "q1", "data": "x"}},
]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_stored_updates_keep_being_recognised_after_the_upgrade(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if backend == "postgresql":
        url = request.getfixturevalue("pg_url")
        schema = "t_inbox_migration"
        admin = make_engine(url)
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = schema_engine(url, schema)
    else:
        admin = None
        engine = make_engine(sqlite_url(tmp_path))
    try:
        await ensure_schema(engine, "0002")
        at = dt.datetime(2014, 11, 1, tzinfo=dt.UTC)
        async with engine.begin() as conn:
            await conn.execute(
                OLD_INBOX.insert(),
                [
                    {
                        "bot_id": 7,
                        "update_id": p["update_id"],
                        "payload": p,
                        "received_at": at,
                        "processed_at": at,
                        "attempts": 0,
                    }
                    for p in PAYLOADS
                ],
            )
        await ensure_schema(engine)
        sessions = make_sessionmaker(engine)
        async with sessions() as s, s.begin():
            for payload in PAYLOADS:
                status = await inbox.record_update(s, 7, payload["update_id"], payload)
                assert status is inbox.InboxStatus.processed
            # The same id with other content is another update (the ids started again).
            again = {"update_id": 5, "message": {"message_id": 9, "text": "新的"}}
            assert await inbox.record_update(s, 7, 5, again) is inbox.InboxStatus.new
    finally:
        await engine.dispose()
        if admin is not None:
            async with admin.begin() as conn:
                await conn.execute(text('DROP SCHEMA IF EXISTS "t_inbox_migration" CASCADE'))
            await admin.dispose()
