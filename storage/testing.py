"""Throw-away databases for tests, on SQLite or PostgreSQL, with the real schema.

A PostgreSQL test gets its own schema (``search_path``) in the shared test database, dropped
afterwards, so tests never see each other's rows and no server-side setup is needed::

    async with temporary_database(pg_url) as engine:
        sessions = make_sessionmaker(engine)
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import counters  # noqa: F401 (its tables and triggers belong to the schema)
from storage.db import ensure_schema, make_engine
from storage.models import Base


def sqlite_url(directory: Path | str, name: str = "test.db") -> str:
    """The aiosqlite URL of a database file in ``directory``."""
    return f"sqlite+aiosqlite:///{Path(directory) / name}"


def schema_engine(pg_url: str, schema: str) -> AsyncEngine:
    """An engine whose connections all use ``schema`` first on the search path."""
    return make_engine(pg_url, connect_args={"server_settings": {"search_path": schema}})


@asynccontextmanager
async def temporary_database(
    url: str | None = None, *, migrate: bool = False, directory: Path | None = None
) -> AsyncIterator[AsyncEngine]:
    """Yield an engine on an empty database with every table created.

    ``url`` is a PostgreSQL URL (a fresh schema is made inside it) or None for a SQLite file in
    ``directory`` (a temporary directory when not given). ``migrate=True`` builds the schema with
    the Alembic migrations instead of ``create_all``.
    """
    if url is not None and make_url(url).get_backend_name() == "postgresql":
        schema = f"t_{secrets.token_hex(6)}"
        admin = make_engine(url)
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = schema_engine(url, schema)
        try:
            await _build(engine, migrate)
            yield engine
        finally:
            await engine.dispose()
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()
        return
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        engine = make_engine(url or sqlite_url(tmp))
        try:
            await _build(engine, migrate)
            yield engine
        finally:
            await engine.dispose()


async def _build(engine: AsyncEngine, migrate: bool) -> None:
    if migrate:
        await ensure_schema(engine)
    else:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)


def unsealed(value: object) -> object:
    """Tests reading a database with raw SQL: a sealed value as its plain text (JSON as its
    text), whatever column it came from; anything else as it is."""
    from storage import crypto
    from storage.keys import SEALED

    if not isinstance(value, str) or not crypto.is_sealed(value):
        return value
    keys = crypto.keyring()
    for table, columns in SEALED.items():
        for column in columns:
            try:
                return keys.decrypt(value, f"{table}.{column}")
            except crypto.DataKeyError:
                continue
    raise crypto.DataKeyError("a sealed value no column's context opens")
