"""The demo's walk-through of reaching the roster: ``canbao demo`` prints 未联系 and deadlines
around today; the console shows the same counts, a community's people, records a contact and
exports the call list."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from conftest import CSRF_RE
from openpyxl import load_workbook

from bot import clock
from bot.cli import main
from bot.demo import demo_settings
from bot.server import create_app
from bot.settings import Settings
from flows import load_default_form
from storage.db import make_engine, make_sessionmaker


@pytest.fixture
def demo_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'demo.db'}"
    monkeypatch.setenv("CANBAO_DATABASE_URL", url)
    monkeypatch.setenv("CANBAO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CANBAO_BOT_TOKEN", raising=False)
    monkeypatch.delenv("CANBAO_PUBLIC_URL", raising=False)
    return url


async def _csrf(client: TestClient, path: str) -> str:  # type: ignore[type-arg]
    match = CSRF_RE.search(await (await client.get(path)).text())
    assert match, path
    return match.group(1)


def test_demo_shows_who_is_unreached_and_the_call_list(
    demo_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--no-serve", "--port", "8099"]) == 0
    out = capsys.readouterr().out
    ahead = clock.today() + dt.timedelta(days=21)
    assert f"社区完成期限 {ahead.isoformat()}（还剩 21 天）" in out
    assert "未联系：60/60 人（100.0%）" in out
    login = re.search(r"用户名 admin\s+密码 (\S+)", out)
    listing = re.search(
        r"人员名单（姑苏区/平江街道/平江路社区）：http://127\.0\.0\.1:8099(\S+)", out
    )
    assert login is not None and listing is not None
    assert "canbao invite --community 姑苏区/平江街道/平江路社区" in out
    asyncio.run(_walk(demo_env, tmp_path, login.group(1), listing.group(1), ahead))


async def _walk(demo_env: str, tmp_path: Path, password: str, listing: str, ahead: dt.date) -> None:
    engine = make_engine(demo_env)
    settings = demo_settings(
        Settings(_env_file=None, database_url=demo_env, data_dir=tmp_path / "data")
    )  # type: ignore[call-arg]
    try:
        app = create_app(settings, make_sessionmaker(engine), load_default_form())
        async with TestClient(TestServer(app)) as client:
            token = await _csrf(client, "/console/login")
            signed = await client.post(
                "/console/login",
                data={"_csrf": token, "username": "admin", "password": password},
                allow_redirects=False,
            )
            assert signed.status == 303
            progress = await (await client.get("/console/progress")).text()
            assert "<b>60</b><span>未联系</span><small>占 100.0%</small>" in progress
            assert f"{ahead.isoformat()}（还剩 21 天）" in progress
            people = await (await client.get(listing)).text()
            names = re.findall(r'<a href="/console/persons/(\d+)">([^<]+)</a>', people)
            assert names and "未联系" in people
            person_id = names[0][0]
            token = await _csrf(client, f"/console/persons/{person_id}")
            saved = await client.post(
                f"/console/persons/{person_id}/contacts",
                data={
                    "_csrf": token,
                    "contacted_on": clock.today().isoformat(),
                    "outcome": "no_answer",
                    "note": "演示：晚上再打",
                },
            )
            assert "已记录联系" in await saved.text()
            community = re.search(r"id=(\d+)", listing)
            assert community is not None
            exported = await client.post(
                "/console/calllist",
                data={"_csrf": token, "level": "community", "id": community.group(1)},
            )
            sheet = load_workbook(io.BytesIO(await exported.read())).active
            assert sheet is not None
            header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
            assert len(rows) == len(names)
            # The never-contacted first, the unanswered call after them.
            assert rows[-1][header.index("最近联系结果")] == "无人接听"
            after = await (await client.get("/console/progress")).text()
            assert "<b>0</b><span>未联系</span>" not in after
            unreached = 60 - len(names)
            assert f"<b>{unreached}</b><span>未联系</span>" in after
    finally:
        await engine.dispose()
