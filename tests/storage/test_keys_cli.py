"""``canbao keys init|rotate`` and ``canbao db check`` on a SQLite store."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import clock
from bot.cli import main
from storage import crypto
from storage.db import ensure_schema, make_engine, make_sessionmaker
from storage.repositories.persons import find_person_by_id_number
from tests.storage.conftest import Factory


@pytest.fixture
def own_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A key file of this test's own (rotation rewrites it), restored to the suite's after."""
    before = crypto.keyring()
    path = tmp_path / "keys" / "data.key"
    monkeypatch.setenv(crypto.ENV_VAR, str(path))
    crypto.install(None)
    try:
        yield path
    finally:
        crypto.install(before)


def _store(url: str, people: int) -> list[str]:
    async def fill() -> list[str]:
        engine = make_engine(url)
        try:
            await ensure_schema(engine)
            sessions = make_sessionmaker(engine)
            factory = Factory(sessions)
            async with sessions() as session, session.begin():
                return [(await factory.person(session)).id_number for _ in range(people)]
        finally:
            await engine.dispose()

    return asyncio.run(fill())


def _found(url: str, number: str) -> str | None:
    async def find() -> str | None:
        engine = make_engine(url)
        try:
            async with make_sessionmaker(engine)() as session:
                person = await find_person_by_id_number(session, number)
                return None if person is None else person.id_number
        finally:
            await engine.dispose()

    return asyncio.run(find())


def test_init_writes_a_private_file_once(
    own_keys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "init"]) == 0
    assert own_keys.stat().st_mode & 0o777 == 0o600
    assert "CANBAO_DATA_KEY_FILE" in capsys.readouterr().out
    first = own_keys.read_text()
    assert main(["keys", "init"]) == 2
    assert "不会覆盖" in capsys.readouterr().err
    assert own_keys.read_text() == first


def test_commands_stop_without_keys_or_with_open_ones(
    own_keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'canbao.db'}"
    assert main(["db", "upgrade", "--database-url", url]) == 2
    assert "canbao keys init" in capsys.readouterr().err
    assert not (tmp_path / "canbao.db").exists()
    assert main(["keys", "init"]) == 0
    os.chmod(own_keys, 0o644)
    assert main(["db", "upgrade", "--database-url", url]) == 2
    assert "chmod 600" in capsys.readouterr().err


def test_rotate_reseals_everything_in_batches_and_resumes(
    own_keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "canbao.db"
    url = f"sqlite+aiosqlite:///{db}"
    assert main(["keys", "init"]) == 0
    numbers = _store(url, 7)
    assert main(["keys", "rotate", "--batch", "3", "--database-url", url]) == 0
    out = capsys.readouterr().out
    assert "新密钥 k2" in out and "persons: 7" in out
    with sqlite3.connect(db) as conn:
        stored = [r[0] for r in conn.execute("SELECT id_number FROM persons")]
        probes = [r[0] for r in conn.execute("SELECT key_id FROM data_keys ORDER BY key_id")]
    assert all(v.startswith("sm4g1:k2:") for v in stored) and probes == ["k1", "k2"]
    assert _found(url, numbers[3]) == numbers[3]
    # Resuming has nothing left to do; db check finds every value sealed under the new key.
    assert main(["keys", "rotate", "--resume", "--database-url", url]) == 0
    assert "persons: 0" in capsys.readouterr().out
    assert main(["db", "check", "--database-url", url]) == 0
    assert "个人信息均已加密" in capsys.readouterr().out


def test_db_check_fails_on_a_plain_value(
    own_keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "canbao.db"
    url = f"sqlite+aiosqlite:///{db}"
    assert main(["keys", "init"]) == 0
    _store(url, 2)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE persons SET name = '林晓' WHERE id = 1")
    assert main(["db", "check", "--database-url", url]) == 1
    assert "persons.name 有 1 个值是明文" in capsys.readouterr().out


def test_data_purge_waits_for_the_end_of_the_retention_period(
    own_keys: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'canbao.db'}"
    assert main(["keys", "init"]) == 0
    _store(url, 1)
    monkeypatch.setenv("CANBAO_SURVEY_END", clock.today().isoformat())
    assert main(["data", "purge", "--database-url", url]) == 2
    assert "之后才能清理" in capsys.readouterr().err
    monkeypatch.setenv("CANBAO_SURVEY_END", "2015-01-31")
    assert main(["data", "purge", "--dry-run", "--database-url", url]) == 0
    assert "将清理" in capsys.readouterr().out
    assert main(["data", "purge", "--database-url", url]) == 0
    assert "已清理" in capsys.readouterr().out
