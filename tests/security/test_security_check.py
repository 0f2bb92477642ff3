"""``canbao security check`` names the deployment's weak points and fails on serious ones."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from bot.cli import main
from storage import crypto
from storage.db import ensure_schema, make_engine, make_sessionmaker
from storage.repositories.accounts import create_staff
from storage.repositories.actors import Actor
from storage.repositories.audit import add_event

STRONG = "x" * 16 + "a-strong-session-secret-0123456789"


async def store(url: str, *, weak: bool) -> None:
    await ensure_schema(url)
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await create_staff(session, "owner_chosen", "my own good passphrase")
            if weak:
                await create_staff(
                    session, "newcomer", "initial pass for someone", must_change_password=True
                )
                await create_staff(session, "demo_admin", "demo-printed-password-1")
                add_event(
                    session,
                    Actor.system("网页服务"),
                    "forwarded_header_ignored",
                    details={"peer": "127.0.0.1"},
                )
    finally:
        await engine.dispose()


def check(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> int:
    for key in list(os.environ):
        if key.startswith("CANBAO_") and not key.startswith("CANBAO_TEST_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return main(["security", "check"])


def test_a_careful_deployment_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    database = tmp_path / "canbao.db"
    asyncio.run(store(f"sqlite+aiosqlite:///{database}", weak=False))
    for path in tmp_path.glob("canbao.db*"):
        path.chmod(0o600)
    env = {
        "CANBAO_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "CANBAO_DATA_DIR": str(tmp_path / "data"),
        "CANBAO_SESSION_SECRET": STRONG,
        "CANBAO_PUBLIC_URL": "https://canbao.example.org",
        "CANBAO_TRUSTED_PROXIES": "127.0.0.1",
        "CANBAO_WEBHOOK_URL": "https://canbao.example.org/telegram/webhook",
        "CANBAO_WEBHOOK_SECRET": "w" * 40,
    }
    assert check(monkeypatch, env) == 0
    assert "未发现问题" in capsys.readouterr().out


def test_weak_points_are_named_and_serious_ones_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    database = tmp_path / "canbao.db"
    asyncio.run(store(f"sqlite+aiosqlite:///{database}", weak=True))
    database.chmod(0o644)
    data = tmp_path / "data"
    data.mkdir()
    (data / "demo-login.json").write_text(
        json.dumps({"username": "demo_admin", "password": "demo-printed-password-1"})
    )
    (data / "demo-login.json").chmod(0o600)
    beside = tmp_path / "canbao-data.key"  # the suite's keys, next to the database
    crypto.write_key_file(beside, crypto.keyring())
    env = {
        "CANBAO_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "CANBAO_DATA_KEY_FILE": str(beside),
        "CANBAO_DATA_DIR": str(data),
        "CANBAO_PUBLIC_URL": "http://canbao.example.org",
        "CANBAO_WEBHOOK_URL": "http://canbao.example.org/telegram/webhook",
        "CANBAO_WEBHOOK_SECRET": "test-secret_0123456789",
        "CANBAO_SESSION_SECRET": "short",
    }
    assert check(monkeypatch, env) == 1
    out = capsys.readouterr().out
    for expected in (
        "CANBAO_SESSION_SECRET 太短",
        "CANBAO_PUBLIC_URL 是 http",
        "CANBAO_WEBHOOK_SECRET 是示例值",
        "所有用户都可以读取",
        "X-Forwarded-For",
        "newcomer",
        "演示账号 demo_admin",
        "与数据库在同一目录",
    ):
        assert expected in out, expected
    assert "owner_chosen" not in out
    # Unset secret on SQLite: a note, not serious; the proxy once trusted is no longer reported.
    env.update(
        CANBAO_SESSION_SECRET="",
        CANBAO_TRUSTED_PROXIES="127.0.0.1",
        CANBAO_PUBLIC_URL="http://127.0.0.1:8080",
        CANBAO_WEBHOOK_URL="",
    )
    database.chmod(0o600)
    (data / "demo-login.json").unlink()
    assert check(monkeypatch, env) == 0
    out = capsys.readouterr().out
    assert "提示：未设置 CANBAO_SESSION_SECRET" in out and "X-Forwarded-For" not in out
    assert "仅本机访问" in out
