"""Engines, sessions and schema upgrades for SQLite (aiosqlite) and PostgreSQL (asyncpg).

The caller owns the transaction::

    engine = make_engine(settings.database_url)
    await ensure_schema(engine)
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        ...
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, make_url, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage import sqlite_driver

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# How long a SQLite writer waits for another writer's lock before giving up (ms).
SQLITE_BUSY_TIMEOUT_MS = 15_000
# An arbitrary constant naming the PostgreSQL advisory lock that serialises schema upgrades
# when several workers start at once.
_PG_UPGRADE_LOCK = 0x63616E62


# SQLSTATEs of a server that is not there for the moment: class 08 (connection exception), and
# 57P01-57P03 (terminated by a shutdown, by a crash of another backend, or "the database system
# is starting up / shutting down": a restart in progress).
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc``, raised by a database call, says the server could not be reached or
    dropped the connection (a restart, a crash, a cut network) rather than that the statement
    failed: what trying again a moment later can cure.

    Refused connections reach the caller as the socket's own ``ConnectionError`` (SQLAlchemy
    wraps only the driver's errors); a connection that broke in the middle of a call may leave
    asyncpg's protocol confused (``InternalClientError``: "cannot switch to state ...").
    The exceptions ``exc`` was raised from or while handling count too: a session whose
    connection broke fails its rollback with ``PendingRollbackError``, which hides the cause.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if _unavailable(current):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _unavailable(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    state = getattr(exc.orig, "sqlstate", None)
    if isinstance(state, str) and state.startswith(_UNAVAILABLE_SQLSTATES):
        return True
    return type(exc.orig).__name__ == "InternalClientError"


def is_sqlite(url: str | URL) -> bool:
    """Whether the URL points at SQLite."""
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; synchronous=FULL makes an acknowledged commit
    # survive a power cut; foreign keys are off in SQLite unless asked for on every connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


# In a connection's ``info``: the open transaction has executed something other than a read.
_WROTE = "canbao_wrote"
_READS = ("SELECT", "PRAGMA")


def _note_statement(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    if not conn.info.get(_WROTE) and not statement.lstrip()[:6].upper().startswith(_READS):
        conn.info[_WROTE] = True


def _end_transaction(conn: Connection) -> None:
    # An invalidated connection (it broke under the transaction) is thrown away, mark and all;
    # asking for its info would raise.
    if not conn.invalidated:
        conn.info.pop(_WROTE, None)


def _track_writes(engine: AsyncEngine) -> None:
    sync = engine.sync_engine
    event.listen(sync, "before_cursor_execute", _note_statement)
    event.listen(sync, "commit", _end_transaction)
    event.listen(sync, "rollback", _end_transaction)


async def release_if_read_only(session: AsyncSession) -> bool:
    """End ``session``'s transaction when it has only read (a commit that writes nothing), so
    its connection goes back to the pool; loaded objects stay usable (the sessions do not
    expire on commit). A transaction that has written, or holds unflushed changes, is left
    alone. Returns whether the transaction was ended. Needs an engine made ``for_updates``
    (elsewhere every transaction counts as one that has written)."""
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return False
    conn = await session.connection()
    if conn.invalidated or not _tracked(conn) or conn.info.get(_WROTE):
        return False
    await session.commit()
    return True


def _tracked(conn: AsyncConnection) -> bool:
    return event.contains(conn.engine.sync_engine, "before_cursor_execute", _note_statement)


def _private_file(path: Path) -> None:
    """Make the SQLite file (and its directory) if missing, readable by its owner only:
    SQLite gives the -wal and -shm files the same permissions, and the store holds every
    resident's ID number. An existing file keeps its permissions (``canbao security check``
    reports loose ones)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError:
        return  # a read-only place: SQLite will say what is wrong


def make_engine(url: str | URL, *, for_updates: bool = False, **kwargs: Any) -> AsyncEngine:
    """Create the async engine for ``url``.

    SQLite: the database file is created readable by its owner only (directory and all), and
    every connection gets WAL, ``synchronous=FULL``, foreign keys and a busy timeout.
    PostgreSQL (``postgresql+asyncpg``): connections are checked before use, so a restarted
    server costs one retry, not an error.
    Extra keyword arguments go to :func:`~sqlalchemy.ext.asyncio.create_async_engine`.

    ``for_updates``: the engine of the bot's update handling, which retries an update whole
    when the database was away (:mod:`bot.telegram.middlewares.db_retry`) and hands a
    connection back before each Bot API call when it has only read
    (:func:`release_if_read_only`): no connection waits on Telegram. On SQLite it holds
    one connection, for which sessions queue in the event loop: SQLite lets one writer in at
    a time anyway, and connections of one process competing for it wait in SQLite's busy
    handler, which sleeps (1, 2, 5 … 100 ms) while the process has work to do. On PostgreSQL
    connections are not pinged before use (a round trip per session, a third of a millisecond
    of CPU): a dropped connection fails the update's try, and the retry gets a new one.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            _private_file(Path(database).expanduser())
            if for_updates:
                kwargs.setdefault("pool_size", 1)
                kwargs.setdefault("max_overflow", 0)
        if parsed.get_driver_name() == "aiosqlite":
            parsed = parsed.set(drivername=f"sqlite+{sqlite_driver.DRIVER}")
        engine = create_async_engine(parsed, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        kwargs.setdefault("pool_pre_ping", not for_updates)
        engine = create_async_engine(parsed, **kwargs)
    if for_updates:
        _track_writes(engine)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (``expire_on_commit=False``)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str | URL | None = None) -> Config:
    """An Alembic configuration pointing at the migrations shipped inside this package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        rendered = url if isinstance(url, str) else url.render_as_string(hide_password=False)
        # ConfigParser interpolation treats "%" specially; URLs may carry %-escapes.
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def _upgrade_on(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def ensure_schema(engine: AsyncEngine | str, revision: str = "head") -> None:
    """Bring the database up to ``revision`` (default: the newest); a no-op when it is current.

    Safe to call from several processes at once: on PostgreSQL an advisory lock serialises them;
    on SQLite the migration's write lock does. The data keys are checked first
    (:func:`storage.keys.check_keys`): a missing or wrong key file stops it before anything
    is changed.
    """
    from storage.keys import check_keys

    owned = isinstance(engine, str)
    eng = make_engine(engine) if isinstance(engine, str) else engine
    try:
        # The wrong key file stops here, before the upgrade seals or reads anything.
        await check_keys(eng, register=False)
        await _upgrade(eng, revision)
        await check_keys(eng)
    finally:
        if owned:
            await eng.dispose()


async def _upgrade(eng: AsyncEngine, revision: str) -> None:
    if eng.dialect.name == "sqlite":
        await _upgrade_sqlite(eng, revision)
        return
    async with eng.begin() as conn:
        if conn.dialect.name == "postgresql":
            lock = text("SELECT pg_advisory_xact_lock(:k)")
            await conn.execute(lock, {"k": _PG_UPGRADE_LOCK})
        await conn.run_sync(_upgrade_on, revision)


async def _upgrade_sqlite(engine: AsyncEngine, revision: str) -> None:
    """SQLite changes a table by copying it (Alembic's batch mode), and dropping the old copy
    of a table other rows point at fails while foreign keys are enforced; the pragma cannot
    change inside a transaction. So: off around the upgrade's transaction, every reference
    checked (``foreign_key_check``) before it commits, and on again."""
    async with engine.connect() as conn:
        await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        await conn.commit()
        try:
            async with conn.begin():
                await conn.run_sync(_upgrade_on, revision)
                broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                if broken:
                    raise RuntimeError(f"schema upgrade would break references: {broken[:5]}")
        finally:
            await conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            await conn.commit()


def upgrade(url: str, revision: str = "head") -> None:
    """Synchronous :func:`ensure_schema` for the command line (runs its own event loop)."""
    asyncio.run(ensure_schema(url, revision))


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    def _current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(_current)


def head_revision() -> str | None:
    """The newest revision shipped with this package."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
