"""Handling an update again while the database is unavailable (``DatabaseRetryMiddleware``),
and which database errors count as "unavailable" (``storage.db.database_unavailable``).

The whole story, a PostgreSQL server restarted under load, is ``tests/faults/test_pg_restart.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.types import Update
from sqlalchemy.exc import DBAPIError, IntegrityError, PendingRollbackError

from bot.telegram.middlewares import DatabaseRetryMiddleware
from storage.db import database_unavailable


class DriverError(Exception):
    """A driver's error carrying a SQLSTATE, as asyncpg's (adapted by SQLAlchemy) do."""

    def __init__(self, sqlstate: str | None) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def wrapped(sqlstate: str | None, *, invalidated: bool = False) -> DBAPIError:
    return DBAPIError("SELECT 1", {}, DriverError(sqlstate), connection_invalidated=invalidated)


@pytest.mark.parametrize(
    ("exc", "unavailable"),
    [
        (ConnectionRefusedError(111, "Connect call failed"), True),
        (ConnectionResetError(104, "Connection reset by peer"), True),
        (wrapped("57P03"), True),  # the database system is starting up / shutting down
        (wrapped("57P01"), True),  # terminating connection due to administrator command
        (wrapped("08006"), True),  # connection failure
        (wrapped(None, invalidated=True), True),
        (wrapped("40001"), False),  # a serialization failure is the statement's, not the server's
        (IntegrityError("INSERT", {}, DriverError("23505")), False),
        (ValueError("bad answer"), False),
        (TimeoutError(), False),
    ],
)
def test_what_counts_as_the_database_being_unavailable(
    exc: BaseException, unavailable: bool
) -> None:
    assert database_unavailable(exc) is unavailable


def raised_while_handling(outer: BaseException, inner: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException:
            raise outer  # noqa: B904 - the implicit context is the point
    except BaseException as caught:
        return caught


def test_an_error_hiding_a_dropped_connection_counts_as_unavailable() -> None:
    # What a session's rollback raises once its connection broke under it.
    hiding = PendingRollbackError("Can't reconnect until invalid transaction is rolled back.")
    assert database_unavailable(raised_while_handling(hiding, wrapped("08006")))
    assert not database_unavailable(raised_while_handling(hiding, wrapped("40001")))
    assert not database_unavailable(hiding)


UPDATE = Update(update_id=7)


class Handler:
    """The rest of the middleware chain: fails with the given exceptions, then returns "done"."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.seen: list[dict[str, Any]] = []

    async def __call__(self, event: Any, data: dict[str, Any]) -> str:
        self.seen.append(dict(data))
        data["session"] = f"session of try {len(self.seen)}"
        if self.failures:
            raise self.failures.pop(0)
        return "done"


def middleware(slept: list[float], within: float = 15.0) -> DatabaseRetryMiddleware:
    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return DatabaseRetryMiddleware(within=within, first_delay=0.25, max_delay=2.0, sleep=sleep)


async def test_an_update_is_tried_again_until_the_database_is_back() -> None:
    slept: list[float] = []
    handler = Handler(ConnectionRefusedError(), wrapped("57P03"), wrapped("08003"))
    result = await middleware(slept)(handler, UPDATE, {"state": "fsm"})
    assert result == "done"
    assert slept == [0.25, 0.5, 1.0]
    # Every try starts from what the outer middlewares gave, not from the failed try's session.
    assert handler.seen == [{"state": "fsm"}] * 4


async def test_other_errors_go_up_at_once() -> None:
    slept: list[float] = []
    handler = Handler(ValueError("a bug"))
    with pytest.raises(ValueError):
        await middleware(slept)(handler, UPDATE, {})
    assert len(handler.seen) == 1 and slept == []


async def test_a_long_outage_fails_the_update_after_the_budget() -> None:
    slept: list[float] = []
    handler = Handler(*[ConnectionRefusedError() for _ in range(20)])
    with pytest.raises(ConnectionRefusedError):
        await middleware(slept, within=5.0)(handler, UPDATE, {})
    assert slept == [0.25, 0.5, 1.0, 2.0]  # 3.75 s; one more pause would pass 5 s
    assert len(handler.seen) == 5
