"""aiosqlite, one thread hop per statement.

SQLAlchemy's aiosqlite adapter drives each statement through aiosqlite's cursor API: create a
cursor, execute, fetch the rows, close, each a round trip to the connection's thread (a queue
put, a thread wake-up, a wake-up of the event loop through its self-pipe, the GIL handed over
twice). Here the cursor runs the four steps as one function on that thread and keeps what the
statement returned (rows, description, row count, last row id), so a statement costs one round
trip instead of three or four. Everything else (transactions, errors, server-side cursors) is
SQLAlchemy's own. Used through the URL ``sqlite+aiosqlite`` as usual: :func:`storage.db.make_engine`
picks this dialect for it.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)

DRIVER = "canbao_aiosqlite"

_Outcome = tuple[list[Any] | None, Any, int, int | None]


def _run(conn: sqlite3.Connection, operation: str, parameters: Any) -> _Outcome:
    cursor = conn.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return rows, description, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _run_many(conn: sqlite3.Connection, operation: str, parameters: Any) -> _Outcome:
    cursor = conn.cursor()
    try:
        cursor.executemany(operation, parameters)
        return None, cursor.description, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statement runs in one call on the connection's thread."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass

    async def _async_soft_close(self) -> None:
        pass  # nothing is open on the thread between statements

    def close(self) -> None:
        self._rows.clear()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        return await self._call(_run, operation, parameters)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        return await self._call(_run_many, operation, seq_of_parameters)

    async def _call(self, fn: Any, operation: Any, parameters: Any) -> None:
        async with self._adapt_connection._execute_mutex:
            conn = self._connection
            outcome = await conn._execute(fn, conn._conn, operation, parameters)
            rows, self._description, self._rowcount, self._lastrowid = outcome
            self._rows = collections.deque(rows) if rows else collections.deque()


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneHopCursor


class _DBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        # Same slots: the connection only learns to make the one-hop cursor.
        adapted.__class__ = _Connection
        return adapted


class OneHopDialect(SQLiteDialect_aiosqlite):
    """``sqlite+aiosqlite`` with :class:`OneHopCursor`."""

    driver = DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> AsyncAdapt_aiosqlite_dbapi:
        return _DBAPI(__import__("aiosqlite"), __import__("sqlite3"))


registry.register(f"sqlite.{DRIVER}", __name__, "OneHopDialect")
