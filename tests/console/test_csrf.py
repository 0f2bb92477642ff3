"""Every POST form carries the session's CSRF token; without it nothing happens (403)."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient
from conftest import csrf_of, login
from seed import PASSWORD, World
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Record, RecordStatus

Client = TestClient  # type: ignore[type-arg]


@pytest.mark.parametrize("token", [None, "", "forged-token"])
async def test_confirm_without_the_right_token_is_403_and_changes_nothing(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession], token: str | None
) -> None:
    await login(client, "city_admin")
    record_id = world.records["plain"]
    data = {"version": "2"}
    if token is not None:
        data["_csrf"] = token
    response = await client.post(f"/console/records/{record_id}/confirm", data=data)
    assert response.status == 403
    assert "安全校验失败" in await response.text()
    async with sessions() as db:
        record = await db.get(Record, record_id)
        assert record is not None and record.status == RecordStatus.submitted


async def test_a_token_from_another_session_is_refused(
    client: Client, world: World, settings: object, sessions: async_sessionmaker[AsyncSession]
) -> None:
    other_token = await csrf_of(client)  # this browser's token before signing in
    await login(client, "city_admin")  # signing in starts a new session with a new token
    response = await client.post(
        f"/console/records/{world.records['plain']}/return",
        data={"_csrf": other_token, "comment": "x"},
    )
    assert response.status == 403


async def test_login_form_needs_the_token_too(client: Client, world: World) -> None:
    response = await client.post(
        "/console/login",
        data={"username": "city_admin", "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status == 403


async def test_bulk_confirm_and_logout_need_the_token(client: Client, world: World) -> None:
    await login(client, "city_admin")
    bulk = await client.post(
        "/console/queue/confirm", data={"ids": str(world.records["plain"]), "scope": "selected"}
    )
    assert bulk.status == 403
    logout = await client.post("/console/logout", data={}, allow_redirects=False)
    assert logout.status == 403
    still_in = await client.get("/console/queue", allow_redirects=False)
    assert still_in.status == 200
