"""Districts' notes to the city (五.7): sent by a district, seen only by it and the city, read
and answered by the city, every step audited; bad input is a message, not a note."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import csrf_of, login
from seed import World

from storage.models import AuditEvent, CityNote


async def _send(client: TestClient, **fields: str) -> str:  # type: ignore[type-arg]
    token = await csrf_of(client, "/console/notes")
    data = {
        "_csrf": token,
        "kind": "problem",
        "title": "人户分离较多",
        "body": "平江路社区人户分离 12 人。",
        "link": "",
    }
    response = await client.post("/console/notes", data={**data, **fields})
    return await response.text()


async def _actions(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as s:
        events = await s.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.like("note_%"))
            .order_by(AuditEvent.id)
        )
        return list(events.all())


async def test_send_read_answer(
    client: TestClient, sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    await login(client, "gusu_rev")
    page = await _send(client, link="/console/persons?level=community&id=1")
    assert "已报送市中心" in page and "未读" in page
    async with sessions() as s:
        note = (await s.scalars(select(CityNote))).one()
    # Another district sees nothing of it.
    await login(client, "gaoxin_rev")
    assert "人户分离较多" not in await (await client.get("/console/notes")).text()
    assert (await client.get(f"/console/notes/{note.id}")).status == 404
    # The city: one list with the status, read on opening, then answered.
    await login(client, "city_admin")
    listing = await (await client.get("/console/notes")).text()
    assert "人户分离较多" in listing and "未读" in listing and "姑苏区" in listing
    opened = await (await client.get(f"/console/notes/{note.id}")).text()
    assert "已读" in opened and 'href="/console/persons?level=community&amp;id=1"' in opened
    assert "已读" in await (await client.get("/console/notes")).text()
    token = await csrf_of(client, f"/console/notes/{note.id}")
    answered = await client.post(
        f"/console/notes/{note.id}/answer", data={"_csrf": token, "answer": "请联系户籍地核实。"}
    )
    assert "已答复" in await answered.text()
    await login(client, "gusu_rev")
    mine = await (await client.get(f"/console/notes/{note.id}")).text()
    assert "请联系户籍地核实。" in mine and "已答复" in mine
    assert "答复内容" not in mine  # only the city answers
    token = await csrf_of(client, f"/console/notes/{note.id}")
    again = await client.post(
        f"/console/notes/{note.id}/answer", data={"_csrf": token, "answer": "x"}
    )
    assert "只有市级账号可以答复" in await again.text()
    assert await _actions(sessions) == ["note_sent", "note_read", "note_answered"]


async def test_bad_notes_are_refused(
    client: TestClient, sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    await login(client, "gusu_rev")
    assert "请填写标题" in await _send(client, title="")
    assert "请选择报送类型" in await _send(client, kind="<script>")
    assert "附件链接须为本后台的地址" in await _send(client, link="javascript:alert(1)")
    assert "附件链接须为本后台的地址" in await _send(client, link="https://evil.example/")
    await login(client, "city_admin")
    assert "市级账号无需向市中心报送" in await _send(client)
    async with sessions() as s:
        assert (await s.scalars(select(CityNote))).all() == []
    assert re.search("暂无报送", await (await client.get("/console/notes")).text())
