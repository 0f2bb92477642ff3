"""Console sign-ins live on the server: a cookie saved before logout, a password change or the
account being disabled opens nothing afterwards; idle and absolute timeouts end a sign-in."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.console.sessions import COOKIE_NAME
from storage.models import AuditEvent, Staff
from storage.repositories import accounts
from storage.repositories.actors import Actor
from storage.types import frozen_time, utcnow
from tests.console.seed import World
from tests.security.conftest import csrf_of, login


def saved_cookie(client: Any) -> str:
    """The console cookie as the browser holds it now (what a thief would copy)."""
    for cookie in client.session.cookie_jar:
        if cookie.key == COOKIE_NAME:
            return str(cookie.value)
    raise AssertionError("no console cookie")


async def opens_queue(client: Any, cookie: str) -> bool:
    """Whether that cookie, replayed from another browser, still reads the review queue."""
    response = await client.get(
        "/console/queue",
        headers={"Cookie": f"{COOKIE_NAME}={cookie}"},
        allow_redirects=False,
    )
    return response.status == 200


async def logout(client: Any) -> None:
    token = await csrf_of(client, "/console/queue")
    response = await client.post("/console/logout", data={"_csrf": token}, allow_redirects=False)
    assert response.status == 303


async def test_a_cookie_saved_before_logout_opens_nothing(web: Any, world: World) -> None:
    browser = await web()
    thief = await web()
    await login(browser, "gusu_rev")
    cookie = saved_cookie(browser)
    assert await opens_queue(thief, cookie)
    await logout(browser)
    assert not await opens_queue(thief, cookie)
    record = await thief.get(
        f"/console/records/{world.records['plain']}",
        headers={"Cookie": f"{COOKIE_NAME}={cookie}"},
        allow_redirects=False,
    )
    assert record.status == 303


async def test_logout_ends_every_session_of_the_account(
    web: Any, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    office, phone, other = await web(), await web(), await web()
    await login(office, "gusu_rev")
    await login(phone, "gusu_rev")
    await login(other, "city_admin")
    phone_cookie, other_cookie = saved_cookie(phone), saved_cookie(other)
    await logout(office)
    assert not await opens_queue(phone, phone_cookie)
    assert await opens_queue(other, other_cookie)  # another account is untouched
    async with sessions() as db:
        event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "logout_all"))
    assert event is not None and event.details["sessions"] == 2


async def test_password_change_and_disabling_end_every_session(
    web: Any, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    first, second = await web(), await web()
    await login(first, "gusu_rev")
    await login(second, "city_admin")
    gusu, city = saved_cookie(first), saved_cookie(second)
    async with sessions() as db, db.begin():
        staff = await db.scalar(select(Staff).where(Staff.username == "gusu_rev"))
        assert staff is not None
        await accounts.set_staff_password(
            db, staff, "a new long passphrase 2014", actor=Actor.system()
        )
    assert not await opens_queue(first, gusu)
    async with sessions() as db, db.begin():
        staff = await db.scalar(select(Staff).where(Staff.username == "city_admin"))
        assert staff is not None
        await accounts.deactivate_staff(db, staff, actor=Actor.system())
    assert not await opens_queue(second, city)
    # Enabling the account again does not bring the old sign-in back.
    async with sessions() as db, db.begin():
        staff = await db.scalar(select(Staff).where(Staff.username == "city_admin"))
        assert staff is not None
        staff.active = True
    assert not await opens_queue(second, city)


async def test_idle_and_absolute_timeouts(web: Any, world: World) -> None:
    client = await web(console_idle_minutes=30, console_session_hours=8)
    start = utcnow()
    with frozen_time(start):
        await login(client, "gusu_rev")
    cookie = saved_cookie(client)
    # Used every 20 minutes, it stays open …
    for step in range(1, 24):
        with frozen_time(start + dt.timedelta(minutes=20 * step)):
            assert await opens_queue(client, cookie), step
    # … until eight hours after signing in, however busy.
    with frozen_time(start + dt.timedelta(hours=8, minutes=1)):
        assert not await opens_queue(client, cookie)
    with frozen_time(start + dt.timedelta(hours=8, minutes=2)):
        await login(client, "gusu_rev")
    idle = saved_cookie(client)
    with frozen_time(start + dt.timedelta(hours=8, minutes=31)):
        assert await opens_queue(client, idle)
    # Thirty-one minutes without a request end it.
    with frozen_time(start + dt.timedelta(hours=9, minutes=2)):
        assert not await opens_queue(client, idle)
