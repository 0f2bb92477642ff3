"""After residents fill in and hand in their forms through the web chat, the database file
(SQLite, with its WAL) and a ``pg_dump`` of the PostgreSQL schema hold none of their ID
numbers, mobiles or names: personal data is sealed at rest."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from tests.webchat.chatkit import ADULT_SCRIPT, TAIL_SCRIPT, run_script
from tests.webchat.conftest import ChatEnv


async def _walk(env: ChatEnv) -> None:
    chat = env.chat("adult")
    await chat.state()
    wrong = env.people["child"].id_number  # someone else's number: refused, counted
    await chat.identity(wrong)
    await chat.identity(env.people["adult"].id_number)
    assert chat.status == 200, chat.last
    await run_script(chat, ADULT_SCRIPT)
    await chat.act("proceed")
    await run_script(chat, TAIL_SCRIPT, stop_at="complete")
    await chat.act("submit")
    assert chat.view["stage"] == "submitted"


def _secrets(env: ChatEnv) -> list[str]:
    found = []
    for person in env.people.values():
        found += [person.id_number, person.name]
        if person.mobile:
            found.append(person.mobile)
    return found


def _leaks(data: bytes, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s.encode() in data]


def _database_files(directory: Path) -> bytes:
    """The bytes of every SQLite file under ``directory`` (the database, its -wal and -shm)."""
    files = [p for p in directory.rglob("*") if p.is_file() and ".db" in p.name]
    assert any(p.name.endswith(".db") for p in files), files
    return b"".join(p.read_bytes() for p in files)


@pytest.mark.parametrize("chat_env", ["sqlite"], indirect=True)
async def test_the_sqlite_file_holds_no_id_number_mobile_or_name(
    chat_env: ChatEnv, tmp_path: Path
) -> None:
    await _walk(chat_env)
    data = _database_files(tmp_path)
    assert len(data) > 10_000
    assert _leaks(data, _secrets(chat_env)) == []


def _pg_dump(pg_url: str, schema: str) -> bytes:
    parts = urlsplit(pg_url)
    return subprocess.run(
        [
            "pg_dump",
            "-h",
            parts.hostname or "127.0.0.1",
            "-p",
            str(parts.port or 5432),
            "-U",
            parts.username or "postgres",
            "-n",
            str(schema),
            "--data-only",
            parts.path.lstrip("/"),
        ],
        capture_output=True,
        check=True,
        env={**os.environ, "PGPASSWORD": parts.password or ""},
    ).stdout


@pytest.mark.postgres
@pytest.mark.parametrize("chat_env", ["postgresql"], indirect=True)
async def test_a_pg_dump_holds_no_id_number_mobile_or_name(chat_env: ChatEnv, pg_url: str) -> None:
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    await _walk(chat_env)
    async with chat_env.sessions() as session:
        schema = await session.scalar(text("SELECT current_schema()"))
    dump = _pg_dump(pg_url, str(schema))
    assert b"COPY " in dump and b"persons" in dump
    assert _leaks(dump, _secrets(chat_env)) == []
