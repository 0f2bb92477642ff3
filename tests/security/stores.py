"""Several engines on one fresh database: as many processes, as far as the store can tell."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import ensure_schema, make_engine
from storage.testing import schema_engine, sqlite_url


@asynccontextmanager
async def shared_database(
    pg_url: str | None, directory: Path, *, count: int = 2
) -> AsyncIterator[list[AsyncEngine]]:
    """``count`` engines (own connection pools) on one migrated database: a PostgreSQL schema
    of its own in ``pg_url``'s database, or a SQLite file in ``directory``."""
    engines: list[AsyncEngine] = []
    admin: AsyncEngine | None = None
    schema = f"t_{secrets.token_hex(6)}"
    try:
        if pg_url is not None:
            admin = make_engine(pg_url)
            async with admin.begin() as conn:
                await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            engines = [schema_engine(pg_url, schema) for _ in range(count)]
        else:
            url = sqlite_url(directory, f"shared-{secrets.token_hex(4)}.db")
            engines = [make_engine(url) for _ in range(count)]
        await ensure_schema(engines[0])
        yield engines
    finally:
        for engine in engines:
            await engine.dispose()
        if admin is not None:
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()
