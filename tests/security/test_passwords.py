"""The staff password policy (length ≥ 12, not a common password, not the username) on every
path that sets one, and the forced change of an initial password at the first sign-in."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import main
from storage import passwords
from storage.db import make_engine, make_sessionmaker
from storage.models import AuditEvent, Staff
from storage.repositories import accounts
from storage.repositories.actors import Actor
from storage.repositories.errors import AccountError
from tests.console.seed import PASSWORD, World
from tests.security.conftest import csrf_of, login, try_login
from tests.security.test_sessions import opens_queue, saved_cookie

WEAK = [
    "1234567890",
    "password12",
    "password1234",
    "qwertyuiop123",
    "123456789012",
    "woaini1314520",
    "Password1234",
    "aaaaaaaaaaaaaaaa",
    " leading space pass",
]


def test_the_policy_refuses_short_common_and_username_passwords() -> None:
    assert len(passwords.common_passwords()) > 3000
    for weak in WEAK:
        with pytest.raises(passwords.WeakPassword):
            passwords.check_password(weak)
    with pytest.raises(passwords.WeakPassword, match="用户名"):
        passwords.check_password("zhangwei-2014-pass", username="zhangwei")
    passwords.check_password("平江路的银杏叶黄了 2014")
    passwords.check_password("tea at the lion grove")


async def test_every_way_of_setting_a_password_applies_it(
    sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    async with sessions() as db, db.begin():
        for weak in WEAK:
            with pytest.raises(AccountError):
                await accounts.create_staff(db, "newcomer", weak)
        staff = world.staff["gusu"]
        row = await db.get(Staff, staff.id)
        assert row is not None
        for weak in WEAK:
            with pytest.raises(AccountError):
                await accounts.set_staff_password(db, row, weak, actor=Actor.system())
        with pytest.raises(AccountError, match="相同"):
            await accounts.set_staff_password(db, row, PASSWORD, actor=Actor.system())


def test_staff_add_sets_an_initial_password_to_be_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CANBAO_DATABASE_URL", url)
    monkeypatch.setattr("sys.stdin", io.StringIO("password1234\n"))
    assert main(["staff", "add", "wangfang", "--city", "--password-stdin"]) == 2
    assert "太常见" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("initial pass for wang 2014\n"))
    assert main(["staff", "add", "wangfang", "--city", "--password-stdin"]) == 0
    assert "首次登录" in capsys.readouterr().out
    assert main(["staff", "list"]) == 0
    assert "须修改密码" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("a reset by the operator 01\n"))
    assert main(["staff", "password", "wangfang", "--password-stdin"]) == 0
    assert main(["staff", "disable", "wangfang"]) == 0
    assert main(["staff", "disable", "nobody"]) == 2

    async def check() -> None:
        engine = make_engine(url)
        try:
            async with make_sessionmaker(engine)() as db:
                staff = await db.scalar(select(Staff).where(Staff.username == "wangfang"))
                assert staff is not None
                assert staff.must_change_password and not staff.active
                actions = (await db.scalars(select(AuditEvent.action))).all()
                assert {"staff_created", "staff_password_set", "staff_deactivated"} <= set(actions)
        finally:
            await engine.dispose()

    import asyncio

    asyncio.run(check())


async def change(client: Any, current: str, new: str, repeat: str | None = None) -> Any:
    token = await csrf_of(client, "/console/password")
    return await client.post(
        "/console/password",
        data={"_csrf": token, "current": current, "new": new, "repeat": repeat or new},
        allow_redirects=False,
    )


async def test_an_initial_password_must_be_changed_before_anything_else(
    web: Any, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as db, db.begin():
        await accounts.create_staff(
            db, "newcomer", "initial pass for the new one", must_change_password=True
        )
    client, other = await web(), await web()
    response = await try_login(client, "newcomer", "initial pass for the new one")
    assert response.status == 303 and response.headers["Location"] == "/console/password"
    for path in ("/console/queue", f"/console/records/{world.records['plain']}"):
        blocked = await client.get(path, allow_redirects=False)
        assert blocked.status == 303 and blocked.headers["Location"] == "/console/password"
    page = await client.get("/console/password")
    assert "初始密码" in await page.text()
    await login(other, "newcomer", "initial pass for the new one")
    other_cookie = saved_cookie(other)
    assert (await change(client, "wrong current password", "a brand new passphrase")).status == 401
    assert (await change(client, "initial pass for the new one", "password1234")).status == 400
    mismatch = await change(client, "initial pass for the new one", "a brand new pass", "another")
    assert mismatch.status == 400
    done = await change(client, "initial pass for the new one", "a brand new passphrase")
    assert done.status == 303 and done.headers["Location"] == "/console/queue"
    assert (await client.get("/console/queue", allow_redirects=False)).status == 200
    # The other device's sign-in ended with the change.
    assert not await opens_queue(other, other_cookie)
    async with sessions() as db:
        staff = await db.scalar(select(Staff).where(Staff.username == "newcomer"))
        assert staff is not None and not staff.must_change_password
    assert (await try_login(other, "newcomer", "initial pass for the new one")).status == 401
    assert (await try_login(other, "newcomer", "a brand new passphrase")).status == 303
