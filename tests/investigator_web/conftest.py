"""Fixtures of the investigators' browser app: a real store with two communities, an
investigator for each, and aiohttp's test client over loopback (one per phone)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.server import create_app
from flows import Form, load_default_form
from storage.db import make_sessionmaker
from storage.models import Community, Investigator
from storage.repositories import accounts as acc
from storage.repositories import investigator_web as iw
from storage.repositories.actors import Actor
from storage.testing import temporary_database
from tests.webchat.chatkit import Resident, load_people
from tests.webchat.conftest import make_settings

HEADERS = {"X-Canbao-Chat": "1"}


class Phone:
    """One investigator's browser: signs in with a link and talks to ``/i/api`` like the page."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.client = client
        self.screen: dict[str, Any] = {}
        self.last: dict[str, Any] = {}
        self.status = 0
        self._n = 0

    async def sign_in(self, token: str) -> int:
        """Open the link and press 登录; the status of the answer (303 when signed in)."""
        await self.client.get(f"/i/login/{token}")
        response = await self.client.post("/i/login", data={"token": token}, allow_redirects=False)
        return response.status

    async def get(self, path: str) -> dict[str, Any]:
        response = await self.client.get(f"/i/api/{path}", headers=HEADERS)
        self.status = response.status
        self.last = await response.json()
        if "screen" in self.last:
            self.screen = self.last["screen"]
        return self.last

    def next_aid(self) -> str:
        self._n += 1
        return f"test-action-{id(self)}-{self._n}"

    async def act(self, op: str, *, aid: str | None = None, **body: Any) -> dict[str, Any]:
        """One action (a fresh id unless ``aid`` is given); a step names the last version."""
        payload = {"aid": aid or self.next_aid(), "op": op, **body}
        if op not in ("contact", "collect", "add_person"):
            payload.setdefault("record", self.screen.get("record_id"))
            if "after" not in payload:
                payload.setdefault("version", self.screen.get("version"))
        response = await self.client.post("/i/api/act", json=payload, headers=HEADERS)
        self.status = response.status
        self.last = await response.json()
        if "screen" in self.last:
            self.screen = self.last["screen"]
        return self.last

    @property
    def question(self) -> str | None:
        prompt = self.screen.get("prompt")
        return prompt["state"] if prompt else self.screen.get("stage") or self.screen.get("kind")


@dataclass
class WebEnv:
    """Everything an investigator app test touches."""

    app: web.Application
    sessions: async_sessionmaker[AsyncSession]
    people: dict[str, Resident]
    form: Form
    investigators: dict[str, int]
    phones: list[TestClient[Any, Any]]

    async def link(self, who: str) -> str:
        """A fresh sign-in link token for investigator ``who`` ("gusu" or "gaoxin")."""
        async with self.sessions() as session, session.begin():
            investigator = await session.get(Investigator, self.investigators[who])
            assert investigator is not None
            return await iw.issue_link(session, investigator, actor=Actor.system("测试"))

    async def phone(self) -> Phone:
        """Another device: a client of its own, without cookies."""
        client = TestClient(TestServer(self.app))
        await client.start_server()
        self.phones.append(client)
        return Phone(client)

    async def signed_in(self, who: str) -> Phone:
        phone = await self.phone()
        assert await phone.sign_in(await self.link(who)) == 303
        return phone


@pytest.fixture(params=["sqlite"])
async def web_env(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[WebEnv]:
    """Two communities (平江路社区: 张丽 and 李强; 狮山社区: 王小明), an investigator each."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    async with temporary_database(url, directory=tmp_path, migrate=True) as engine:
        sessions = make_sessionmaker(engine)
        people = await load_people(sessions)
        investigators = {}
        async with sessions() as session, session.begin():
            communities = {c.name: c for c in (await session.scalars(select(Community))).all()}
            for key, name, community in (
                ("gusu", "赵敏", "平江路社区"),
                ("gaoxin", "钱进", "狮山社区"),
            ):
                investigator, _code = await acc.create_investigator(
                    session, name, [communities[community]], actor=Actor.system("测试")
                )
                investigators[key] = investigator.id
        app = create_app(make_settings(tmp_path), sessions, load_default_form())
        env = WebEnv(app, sessions, people, load_default_form(), investigators, [])
        try:
            yield env
        finally:
            for client in env.phones:
                await client.close()
