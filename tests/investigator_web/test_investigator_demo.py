"""``canbao demo`` prints the demo investigator's browser sign-in link, the same on a second
run, and the link signs a phone in."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.cli import main
from bot.server import create_app
from bot.settings import Settings
from flows import load_default_form
from storage.db import make_engine, make_sessionmaker
from tests.webchat.test_webchat_demo import demo_env  # noqa: F401  (fixture)

SIGNIN = re.compile(r"http://127\.0\.0\.1:8099/i/login/([A-Za-z0-9_-]{43})")


async def signs_in(url: str, token: str, tmp_path: Path) -> str:
    engine = make_engine(url)
    try:
        settings = Settings(_env_file=None, data_dir=tmp_path / "data", database_url=url)
        app = create_app(settings, make_sessionmaker(engine), load_default_form())
        async with TestClient(TestServer(app)) as client:
            await client.get(f"/i/login/{token}")
            response = await client.post("/i/login", data={"token": token})
            assert response.status == 200  # redirected to the app shell
            me = await client.get("/i/api/me", headers={"X-Canbao-Chat": "1"})
            name: str = (await me.json())["name"]
            return name
    finally:
        await engine.dispose()


def test_demo_prints_an_investigator_sign_in_link(
    demo_env: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--no-serve", "--port", "8099"]) == 0
    first = SIGNIN.findall(capsys.readouterr().out)
    assert len(first) == 1
    assert main(["demo", "--no-serve", "--port", "8099"]) == 0
    assert SIGNIN.findall(capsys.readouterr().out) == first
    assert asyncio.run(signs_in(demo_env, first[0], tmp_path)) == "演示调查员"
