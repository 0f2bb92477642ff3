"""Login limits in the store: shared by every worker, kept across restarts.

Failed sign-ins are counted per key within a window that starts at the key's first failure:

* one account from one client address: :data:`MAX_PER_PAIR` (the usual typo, or a guesser);
* one account from anywhere: :data:`MAX_PER_ACCOUNT` (guessing spread over many addresses);
* one client address, whatever the accounts: :data:`MAX_PER_ADDRESS` (trying many accounts).

A try is taken on all three keys *before* the password is checked (one conditional
``UPDATE … WHERE failures < max RETURNING``, in a fixed key order so that concurrent sign-ins
never deadlock), so a burst of guesses across workers gets no more tries than the limits; a
right password gives its try back. A locked account does not lock another account, and staff
behind one proxy are told apart by their real addresses (``CANBAO_TRUSTED_PROXIES``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LoginLimit
from storage.types import utcnow

MAX_PER_PAIR = 5
MAX_PER_ACCOUNT = 20
MAX_PER_ADDRESS = 30
WINDOW = dt.timedelta(minutes=15)
# Rows of keys quiet for this long are deleted now and then.
FORGET_AFTER = dt.timedelta(days=1)


class Throttled(Exception):
    """No try left on a key: wait ``retry_after`` seconds. Raised inside the caller's
    transaction, whose rollback gives back the tries already taken on other keys."""

    def __init__(self, kind: str, retry_after: float) -> None:
        super().__init__(f"{kind}: {retry_after:.0f} s")
        self.kind = kind
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Taken:
    """The tries taken for one sign-in: which keys this failure, if it is one, locks."""

    counts: dict[str, int]

    @property
    def locking(self) -> list[str]:
        """Kinds of key whose last try this was (a failure now locks them)."""
        return [kind for kind, n in self.counts.items() if n >= LIMITS[kind]]


LIMITS = {"address": MAX_PER_ADDRESS, "account": MAX_PER_ACCOUNT, "pair": MAX_PER_PAIR}


def _keys(username: str, address: str) -> list[tuple[str, str]]:
    user = username.strip().casefold()[:64]
    where = (address or "?")[:64]
    # The order is the lock order: address, account, pair.
    return [
        ("address", f"address:{where}"),
        ("account", f"account:{user}"),
        ("pair", f"pair:{user}|{where}"),
    ]


async def _ensure_row(session: AsyncSession, key: str, now: dt.datetime) -> None:
    values = {"key": key, "failures": 0, "window_start": now}
    if (await session.connection()).dialect.name == "postgresql":
        await session.execute(pg_insert(LoginLimit).values(values).on_conflict_do_nothing())
    else:
        await session.execute(sqlite_insert(LoginLimit).values(values).on_conflict_do_nothing())


async def _take(session: AsyncSession, kind: str, key: str, now: dt.datetime) -> int:
    return await take_slot(session, key, limit=LIMITS[kind], window=WINDOW, now=now, kind=kind)


async def take_slot(
    session: AsyncSession,
    key: str,
    *,
    limit: int,
    window: dt.timedelta,
    now: dt.datetime | None = None,
    kind: str = "address",
) -> int:
    """Take one of ``limit`` tries per ``window`` on ``key`` in one conditional UPDATE (so
    concurrent callers never take more than ``limit``); the count taken, or
    :class:`Throttled` with the wait. Any limit kept in this table goes through here."""
    now = now or utcnow()
    expired = LoginLimit.window_start <= now - window
    for _ in range(3):
        await _ensure_row(session, key, now)
        taken = (
            await session.execute(
                update(LoginLimit)
                .where(LoginLimit.key == key, (LoginLimit.failures < limit) | expired)
                .values(
                    failures=case((expired, 1), else_=LoginLimit.failures + 1),
                    window_start=case((expired, now), else_=LoginLimit.window_start),
                )
                .returning(LoginLimit.failures)
                .execution_options(synchronize_session=False)
            )
        ).scalar_one_or_none()
        if taken is not None:
            return int(taken)
        start = await session.scalar(select(LoginLimit.window_start).where(LoginLimit.key == key))
        if start is not None:
            raise Throttled(kind, max((start + window - now).total_seconds(), 1.0))
        # Deleted as stale between our insert and update: make it again.
    raise Throttled(kind, window.total_seconds())


async def take_try(session: AsyncSession, username: str, address: str) -> Taken:
    """Take one try for signing in as ``username`` from ``address`` (before the password is
    checked); raises :class:`Throttled` when a key has none left."""
    now = utcnow()
    counts = {kind: await _take(session, kind, key, now) for kind, key in _keys(username, address)}
    # Forget quiet keys; rows another sign-in holds are left for next time (no waiting, so
    # no deadlock with it).
    stale = (
        select(LoginLimit.key)
        .where(LoginLimit.window_start < now - FORGET_AFTER)
        .limit(1000)
        .with_for_update(skip_locked=True)
    )
    await session.execute(
        delete(LoginLimit)
        .where(LoginLimit.key.in_(stale.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    return Taken(counts)


async def give_back(session: AsyncSession, username: str, address: str) -> None:
    """After a right password: the try is returned, and the account's failures from this
    address are forgotten (a typo of the owner's own must not count later)."""
    for kind, key in _keys(username, address):
        if kind == "pair":
            await session.execute(delete(LoginLimit).where(LoginLimit.key == key))
        else:
            await session.execute(
                update(LoginLimit)
                .where(LoginLimit.key == key, LoginLimit.failures > 0)
                .values(failures=LoginLimit.failures - 1)
                .execution_options(synchronize_session=False)
            )


async def retry_after(session: AsyncSession, username: str, address: str) -> float | None:
    """Seconds until a sign-in as ``username`` from ``address`` may be tried again, or None
    (read only; :func:`take_try` is what enforces it)."""
    now = utcnow()
    waits = []
    for kind, key in _keys(username, address):
        row = await session.get(LoginLimit, key)
        if row is not None and row.failures >= LIMITS[kind] and row.window_start > now - WINDOW:
            waits.append((row.window_start + WINDOW - now).total_seconds())
    return max(waits) if waits else None
