"""``canbao demo --no-serve``: a fresh database gets the demo data, and again changes nothing."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from stdnum.cn import ric

from bot.cli import main
from bot.server import create_app
from bot.settings import Settings
from flows import load_default_form
from storage.db import make_engine, make_sessionmaker
from storage.models import Community, District, Investigator, Person, Staff, StaffRole
from storage.repositories.accounts import verify_staff_password
from tests.webchat.chatkit import ChatClient

LINK = re.compile(r"(http://\S+)/c/([A-Za-z0-9_-]+)\s+身份号码 (\d{17}[\dX])")


@pytest.fixture
def demo_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)  # no stray .env; the default data dir is under tmp
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'demo.db'}"
    monkeypatch.setenv("CANBAO_DATABASE_URL", url)
    monkeypatch.setenv("CANBAO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CANBAO_BOT_TOKEN", raising=False)
    monkeypatch.delenv("CANBAO_PUBLIC_URL", raising=False)
    return url


async def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            result = {}
            for model in (Person, Community, District, Staff, Investigator):
                value = await session.scalar(select(func.count()).select_from(model))
                result[model.__name__] = int(value or 0)
            staff = await session.scalar(select(Staff))
            assert staff is not None
            assert (staff.role, staff.district_id) == (StaffRole.admin, None)  # city scope
            districts = set((await session.scalars(select(District.name))).all())
            assert districts == {"姑苏区", "高新区"}
            return result
    finally:
        await engine.dispose()


async def password_works(url: str, password: str) -> bool:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            return await verify_staff_password(session, "admin", password) is not None
    finally:
        await engine.dispose()


async def link_opens(url: str, code: str, id_number: str, tmp_path: Path) -> str:
    engine = make_engine(url)
    settings = Settings(_env_file=None, database_url=url, data_dir=tmp_path / "data")
    try:
        app = create_app(settings, make_sessionmaker(engine), load_default_form())
        async with TestClient(TestServer(app)) as client:
            chat = ChatClient(client, code)
            await chat.identity(id_number)
            return str(chat.view.get("stage"))
    finally:
        await engine.dispose()


def test_demo_loads_once_and_prints_logins_and_links(
    demo_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--no-serve", "--port", "8099"]) == 0
    first = capsys.readouterr().out
    assert "本次新增 60 人" in first
    password = re.search(r"用户名 admin\s+密码 (\S+)", first)
    assert password is not None
    assert "http://127.0.0.1:8099/console/" in first
    binding = re.search(r"绑定码：(bind-\S+)", first)
    assert binding is not None
    links = LINK.findall(first)
    assert len(links) == 4
    assert all(ric.is_valid(number) for _base, _code, number in links)
    assert {base for base, _code, _n in links} == {"http://127.0.0.1:8099"}
    before = asyncio.run(counts(demo_env))
    assert before == {
        "Person": 60, "Community": 5, "District": 2, "Staff": 1, "Investigator": 1
    }  # fmt: skip

    # Again: nothing new, the same password, the same residents.
    assert main(["demo", "--no-serve", "--port", "8099"]) == 0
    second = capsys.readouterr().out
    assert "本次新增 0 人" in second
    assert f"密码 {password.group(1)}" in second
    assert LINK.findall(second) == links
    assert asyncio.run(counts(demo_env)) == before
    assert asyncio.run(password_works(demo_env, password.group(1)))

    # A printed link with its printed ID opens the chat at the first question.
    _base, code, number = links[0]
    assert asyncio.run(link_opens(demo_env, code, number, tmp_path)) == "question"


def test_demo_refuses_bad_options(demo_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--no-serve", "--people", "0"]) == 2
    assert main(["demo", "--no-serve", "--port", "70000"]) == 2
    err = capsys.readouterr().err
    assert "--people 0" in err and "--port 70000" in err
    assert "Traceback" not in err


def test_a_second_run_keeps_the_investigators_binding_code(
    demo_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--no-serve"]) == 0
    first = re.search(r"绑定码：(bind-\S+)", capsys.readouterr().out)
    assert main(["demo", "--no-serve"]) == 0
    second = re.search(r"绑定码：(bind-\S+)", capsys.readouterr().out)
    assert first is not None and second is not None
    assert second.group(1) == first.group(1)  # README: running it again changes nothing


def test_a_taken_port_fails_before_anything_is_printed(
    demo_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["demo", "--port", str(port)]) == 2
    out, err = capsys.readouterr()
    assert "用户名" not in out and "/c/" not in out  # no logins or links for a server that fails
    assert f"127.0.0.1:{port}" in err and "--port" in err
    assert "Traceback" not in err


def test_the_server_log_leaves_out_each_state_change() -> None:
    from bot.cli.run import configure_logging

    root, machine = logging.getLogger(), logging.getLogger("transitions")
    handlers, level, machine_level = list(root.handlers), root.level, machine.level
    try:
        root.setLevel(logging.INFO)
        configure_logging("INFO")
        assert logging.getLogger("canbao.run").isEnabledFor(logging.INFO)
        assert not logging.getLogger("transitions.core").isEnabledFor(logging.INFO)
    finally:
        root.handlers[:], root.level = handlers, level
        machine.setLevel(machine_level)


async def test_the_server_address_alone_leads_to_the_console(tmp_path: Path) -> None:
    from storage.testing import temporary_database

    async with temporary_database(directory=tmp_path, migrate=True) as engine:
        settings = Settings(_env_file=None, data_dir=tmp_path / "data")
        app = create_app(settings, make_sessionmaker(engine), load_default_form())
        async with TestClient(TestServer(app)) as client:
            response = await client.get("/", allow_redirects=False)
            assert response.status == 302 and response.headers["Location"] == "/console/"
            landed = await client.get("/")
            assert landed.status == 200 and "登录" in await landed.text()
