"""Sign-in, sessions, rate limiting and sign-out."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp.test_utils import TestClient
from conftest import csrf_of, login
from seed import PASSWORD, World
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import AuditEvent, Staff
from storage.types import frozen_time, utcnow

Client = TestClient  # type: ignore[type-arg]


async def _try(client: Any, username: str, password: str) -> Any:
    token = await csrf_of(client)
    return await client.post(
        "/console/login",
        data={"_csrf": token, "username": username, "password": password},
        allow_redirects=False,
    )


async def test_pages_need_a_signed_in_user(client: Client, world: World) -> None:
    for path in (
        "/console/queue",
        f"/console/records/{world.records['plain']}",
        "/console/progress",
        "/console/exports/records.xlsx",
        f"/console/records/{world.records['plain']}.pdf",
    ):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303, path
        assert response.headers["Location"].startswith("/console/login?next=")


async def test_login_sets_an_httponly_samesite_cookie_and_lands_on_the_queue(
    client: Client, world: World
) -> None:
    response = await _try(client, "gusu_rev", PASSWORD)
    assert response.status == 303
    assert response.headers["Location"] == "/console/queue"
    cookie = response.headers["Set-Cookie"]
    assert "canbao_console=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    page = await client.get("/console/queue")
    assert "姑苏审核员" in await page.text()


async def test_wrong_password_is_refused_in_chinese_and_audited(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    response = await _try(client, "gusu_rev", "not the password")
    assert response.status == 401
    assert "用户名或密码不正确" in await response.text()
    async with sessions() as db:
        actions = (await db.scalars(select(AuditEvent.action))).all()
    assert "login_failed" in actions


async def test_five_failures_lock_the_username_for_fifteen_minutes(
    client: Client, world: World
) -> None:
    start = utcnow()
    with frozen_time(start):
        for _ in range(5):
            assert (await _try(client, "gusu_rev", "wrong-password")).status == 401
        locked = await _try(client, "gusu_rev", PASSWORD)
        assert locked.status == 429
        assert "登录失败次数过多" in await locked.text()
        assert int(locked.headers["Retry-After"]) == 15 * 60
        # Another username from the same address is not locked by these five.
        assert (await _try(client, "city_admin", PASSWORD)).status == 303
    with frozen_time(start + dt.timedelta(minutes=15)):
        assert (await _try(client, "gusu_rev", PASSWORD)).status == 303


async def test_next_parameter_only_redirects_inside_the_console(
    client: Client, world: World
) -> None:
    token = await csrf_of(client)
    response = await client.post(
        "/console/login",
        data={
            "_csrf": token,
            "username": "city_admin",
            "password": PASSWORD,
            "next": "//evil.example/console/",
        },
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/console/queue"
    await client.post("/console/logout", data={"_csrf": await csrf_of(client, "/console/queue")})
    token = await csrf_of(client)
    response = await client.post(
        "/console/login",
        data={
            "_csrf": token,
            "username": "city_admin",
            "password": PASSWORD,
            "next": "/console/progress",
        },
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/console/progress"


async def test_logout_ends_the_session(client: Client, world: World) -> None:
    await login(client, "city_admin")
    token = await csrf_of(client, "/console/queue")
    response = await client.post("/console/logout", data={"_csrf": token}, allow_redirects=False)
    assert response.status == 303
    after = await client.get("/console/queue", allow_redirects=False)
    assert after.status == 303


async def test_a_deactivated_account_is_signed_out(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "gusu_rev")
    async with sessions() as db, db.begin():
        staff = await db.scalar(select(Staff).where(Staff.username == "gusu_rev"))
        assert staff is not None
        staff.active = False
    response = await client.get("/console/queue", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/console/login")


async def test_unknown_console_page_is_a_chinese_404(client: Client, world: World) -> None:
    await login(client, "city_admin")
    response = await client.get("/console/records/999999")
    assert response.status == 404
    assert "找不到页面" in await response.text()
