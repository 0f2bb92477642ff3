"""The demo's badge and reports: ``canbao demo`` prints the demo investigator's badge and the
address of its verification page, which says 有效; a second run keeps the same badge; the
console prints each demo community's roster, the summary and the evaluation table."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from conftest import CSRF_RE
from sqlalchemy import select

from bot.cli import main
from bot.demo import demo_settings
from bot.server import create_app
from bot.settings import Settings
from flows import load_default_form
from storage.db import make_engine, make_sessionmaker
from storage.models import Community


@pytest.fixture
def demo_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'demo.db'}"
    monkeypatch.setenv("CANBAO_DATABASE_URL", url)
    monkeypatch.setenv("CANBAO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CANBAO_BOT_TOKEN", raising=False)
    monkeypatch.delenv("CANBAO_PUBLIC_URL", raising=False)
    return url


def test_demo_badge_and_rosters(
    demo_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--no-serve", "--port", "8099"]) == 0
    out = capsys.readouterr().out
    found = re.search(r"居民扫码核验页：http://127\.0\.0\.1:8099(/badge/[0-9A-Z-]{19})", out)
    login = re.search(r"用户名 admin\s+密码 (\S+)", out)
    assert found is not None and login is not None, out
    assert main(["demo", "--no-serve", "--port", "8099"]) == 0
    assert found.group(1) in capsys.readouterr().out  # the same badge on every run
    asyncio.run(_walk(demo_env, tmp_path, found.group(1), login.group(1)))


async def _walk(url: str, tmp_path: Path, badge_path: str, password: str) -> None:
    engine = make_engine(url)
    settings = demo_settings(Settings(_env_file=None, database_url=url, data_dir=tmp_path / "data"))  # type: ignore[call-arg]
    try:
        sessions = make_sessionmaker(engine)
        app = create_app(settings, sessions, load_default_form())
        async with TestClient(TestServer(app)) as client:
            page = await (await client.get(badge_path)).text()
            assert "有效" in page and "演示调查员" in page and "0512-00000000" in page
            match = CSRF_RE.search(await (await client.get("/console/login")).text())
            assert match
            signed = await client.post(
                "/console/login",
                data={"_csrf": match.group(1), "username": "admin", "password": password},
                allow_redirects=False,
            )
            assert signed.status == 303
            async with sessions() as db:
                ids = list((await db.scalars(select(Community.id))).all())
            assert len(ids) == 5
            for community in ids:
                got = await client.get(f"/console/rosters/print?community={community}&format=xlsx")
                assert got.status == 200
            for path in ("/console/summary", "/console/evaluation", "/console/badges"):
                assert (await client.get(path)).status == 200, path
            summary = await (await client.get("/console/summary?format=xlsx")).read()
            assert summary.startswith(b"PK")
    finally:
        await engine.dispose()
