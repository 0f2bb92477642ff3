"""``CANBAO_TRUSTED_PROXIES``: forwarding headers believed only from a trusted peer; the
client's address in audit entries and limits; Secure cookies behind a TLS-terminating proxy."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.security.proxies import forwarded_client, forwarded_scheme, parse_networks
from bot.settings import Settings
from storage.models import AuditEvent
from tests.console.seed import PASSWORD, World
from tests.security.conftest import try_login
from tests.telegram.test_resident_support import seed_person, years_ago

TRUSTED = parse_networks("127.0.0.1, 10.0.0.0/8, ::1")


def test_the_client_is_the_first_untrusted_hop_from_the_right() -> None:
    assert forwarded_client("127.0.0.1", ["203.0.113.5"], TRUSTED) == "203.0.113.5"
    # A client may write anything on the left; only what trusted hops appended counts.
    assert forwarded_client("127.0.0.1", ["1.2.3.4, 203.0.113.5, 10.0.0.7"], TRUSTED) == (
        "203.0.113.5"
    )
    assert forwarded_client("127.0.0.1", ["1.2.3.4", "203.0.113.5"], TRUSTED) == "203.0.113.5"
    assert forwarded_client("127.0.0.1", ["garbage, 10.0.0.7"], TRUSTED) == "10.0.0.7"
    assert forwarded_client("127.0.0.1", ["[2001:db8::1]:4711"], TRUSTED) == "2001:db8::1"
    assert forwarded_scheme(["https"]) == "https"
    assert forwarded_scheme(["http, https"]) == "https"
    assert forwarded_scheme(["gopher"]) is None
    with pytest.raises(ValueError, match="not an IP"):
        parse_networks("10.0.0.0/8, nginx")
    with pytest.raises(ValueError):
        Settings(_env_file=None, trusted_proxies="10.0.0.0/33")


async def logins(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
    async with sessions() as db:
        events = await db.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(["login", "login_failed"]))
        )
        return [e.details for e in events]


async def test_behind_a_trusted_proxy_the_client_address_and_https_are_believed(
    web: Any, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    client = await web(trusted_proxies="127.0.0.1")
    forwarded = {"X-Forwarded-For": "198.51.100.23", "X-Forwarded-Proto": "https"}
    failed = await try_login(client, "gusu_rev", "not the password at all", **forwarded)
    assert failed.status == 401
    response = await try_login(client, "gusu_rev", PASSWORD, **forwarded)
    assert response.status == 303
    cookie = response.cookies["canbao_console"]
    assert cookie["secure"] and cookie["httponly"]
    assert [d["ip"] for d in await logins(sessions)] == ["198.51.100.23", "198.51.100.23"]


async def test_forwarding_headers_from_an_untrusted_peer_are_ignored_and_noted(
    web: Any, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    client = await web()  # no trusted proxies
    forwarded = {"X-Forwarded-For": "198.51.100.23", "X-Forwarded-Proto": "https"}
    for _ in range(2):
        response = await try_login(client, "gusu_rev", PASSWORD, **forwarded)
        assert response.status == 303
        assert not response.cookies["canbao_console"]["secure"]
    assert {d["ip"] for d in await logins(sessions)} == {"127.0.0.1"}
    async with sessions() as db:
        notes = (
            await db.scalars(
                select(AuditEvent).where(AuditEvent.action == "forwarded_header_ignored")
            )
        ).all()
    assert [n.details["peer"] for n in notes] == ["127.0.0.1"]  # once per process and peer


async def test_api_token_use_from_a_new_address_is_audited(
    web: Any, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    client = await web(trusted_proxies="127.0.0.1")
    for address in ("192.0.2.1", "192.0.2.1", "192.0.2.99", "192.0.2.1"):
        response = await client.get(
            "/api/v1/records",
            headers={"Authorization": f"Bearer {world.token_city}", "X-Forwarded-For": address},
        )
        assert response.status == 200
    async with sessions() as db:
        events = (
            await db.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "api_token_new_address")
                .order_by(AuditEvent.id)
            )
        ).all()
    assert [e.details["ip"] for e in events] == ["192.0.2.1", "192.0.2.99"]
    assert events[1].details["known"] == ["192.0.2.1"]


async def test_the_chat_cookie_is_secure_behind_a_tls_proxy(
    web: Any, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    person = await seed_person(sessions, "陈九", born=years_ago(30), household="0909")
    client = await web(trusted_proxies="127.0.0.1")
    response = await client.post(
        f"/c/{person.code}/api/identity",
        json={"id_number": person.id_number},
        headers={"X-Canbao-Chat": "1", "X-Forwarded-Proto": "https"},
    )
    assert response.status == 200, await response.text()
    cookie = response.cookies["canbao_chat"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Strict"
