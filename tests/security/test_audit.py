"""Audit entries of the security events: failed logins, the lock they cause, logout of every
sign-in, a failed password change, identity failures and the invite lock with the client's
address."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import AuditEvent
from tests.console.seed import World
from tests.security.conftest import csrf_of, login, try_login
from tests.security.test_passwords import change
from tests.telegram.test_resident_support import seed_person, synthetic_id, years_ago


async def events(sessions: async_sessionmaker[AsyncSession]) -> list[AuditEvent]:
    async with sessions() as db:
        return list((await db.scalars(select(AuditEvent).order_by(AuditEvent.id))).all())


async def test_login_failures_the_lock_and_logout_are_audited(
    web: Any, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    client = await web(trusted_proxies="127.0.0.1")
    for _ in range(5):
        failed = await try_login(
            client, "gusu_rev", "not it at all!", **{"X-Forwarded-For": "192.0.2.8"}
        )
        assert failed.status == 401
    again = await try_login(
        client, "gusu_rev", "not it at all!", **{"X-Forwarded-For": "192.0.2.8"}
    )
    assert again.status == 429
    trail = await events(sessions)
    failures = [e for e in trail if e.action == "login_failed"]
    assert len(failures) == 5 and {e.details["ip"] for e in failures} == {"192.0.2.8"}
    locks = [e for e in trail if e.action == "login_locked"]
    assert len(locks) == 1 and locks[0].details["keys"] == ["pair"]
    assert locks[0].details["username"] == "gusu_rev"

    await login(client, "city_admin")
    assert (await change(client, "wrong current one", "a new one entirely 1")).status == 401
    token = await csrf_of(client, "/console/queue")
    await client.post("/console/logout", data={"_csrf": token}, allow_redirects=False)
    trail = await events(sessions)
    assert [e.action for e in trail if e.action == "password_change_failed"] == [
        "password_change_failed"
    ]
    logout = [e for e in trail if e.action == "logout_all"]
    assert len(logout) == 1 and logout[0].actor_kind == "staff"
    assert logout[0].details["sessions"] == 1


async def test_identity_failures_and_the_lock_are_audited_with_the_address(
    web: Any, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    person = await seed_person(sessions, "吴十", born=years_ago(44), household="0606")
    client = await web(trusted_proxies="127.0.0.1")
    for n in range(5):
        await client.post(
            f"/c/{person.code}/api/identity",
            json={"id_number": synthetic_id(years_ago(25 + n))},
            headers={"X-Canbao-Chat": "1", "X-Forwarded-For": "198.51.100.77"},
        )
    trail = await events(sessions)
    failed = [e for e in trail if e.action == "identity_failed"]
    assert [e.details["failed_attempts"] for e in failed] == [1, 2, 3, 4, 5]
    assert {e.details["ip"] for e in failed} == {"198.51.100.77"}
    assert [e.person_id for e in trail if e.action == "invite_locked"] == [person.person_id]
