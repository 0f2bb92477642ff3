"""Staff unlock a locked invite from the console (record page, list of locked links) and from
the command line, after checking the person's identity another way; audited with the reason,
scoped to the staff member's district."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import main
from bot.synthetic import make_id_number
from storage.models import AuditEvent, Channel, Invite, Person, Record
from storage.repositories import invites as inv
from tests.console.seed import World
from tests.security.conftest import csrf_of, login
from tests.telegram.test_resident_support import years_ago

HEADERS = {"X-Canbao-Chat": "1"}


async def lock(sessions: async_sessionmaker[AsyncSession], person_id: int) -> str:
    """Make the person's invite and lock it with five wrong numbers; returns its code."""
    async with sessions() as db, db.begin():
        await inv.ensure_invites(db)
        invite = await inv.invite_for_person(db, person_id)
        assert invite is not None
        code = invite.code
    for n in range(5):
        async with sessions() as db, db.begin():
            invite = await inv.find_invite(db, code)
            assert invite is not None
            wrong = make_id_number(years_ago(30 + n), "M", "320508", seq=n)
            await inv.verify_identity(db, invite, wrong, channel=Channel.web, chat_id="x")
    return code


async def person_of_record(sessions: async_sessionmaker[AsyncSession], record_id: int) -> Person:
    async with sessions() as db:
        record = await db.get(Record, record_id)
        assert record is not None
        person = await db.get(Person, record.person_id)
        assert person is not None
        return person


async def unlock(client: Any, person_id: int, reason: str, back: str) -> Any:
    token = await csrf_of(client, back)
    return await client.post(
        f"/console/persons/{person_id}/unlock",
        data={"_csrf": token, "reason": reason, "next": back},
        allow_redirects=False,
    )


async def test_unlock_from_the_record_page_needs_a_reason_and_is_audited(
    web: Any, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    person = await person_of_record(sessions, world.records["plain"])
    code = await lock(sessions, person.id)
    client = await web()
    # The resident is refused even with the right number.
    refused = await client.post(
        f"/c/{code}/api/identity", json={"id_number": person.id_number}, headers=HEADERS
    )
    assert refused.status == 423
    await login(client, "gusu_rev")
    page = f"/console/records/{world.records['plain']}"
    text = await (await client.get(page)).text()
    assert "登记链接已锁定" in text and f"/console/persons/{person.id}/unlock" in text
    listed = await (await client.get("/console/invites/locked")).text()
    assert person.name in listed and f"/console/persons/{person.id}" in listed
    # The person's page carries the same card.
    person_page = await (await client.get(f"/console/persons/{person.id}")).text()
    assert "登记链接已锁定" in person_page
    assert f'name="next" value="/console/persons/{person.id}"' in person_page
    no_reason = await unlock(client, person.id, "  ", page)
    assert no_reason.status == 303 and no_reason.headers["Location"] == page
    assert "写明" in await (await client.get(page)).text()
    done = await unlock(client, person.id, "电话核实，本人报出身份证号后四位", page)
    assert done.status == 303
    assert "已解锁" in await (await client.get(page)).text()
    async with sessions() as db:
        invite = await db.scalar(select(Invite).where(Invite.code == code))
        event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "invite_unlocked"))
    assert invite is not None and invite.locked_at is None and invite.failed_attempts == 0
    assert event is not None and event.actor_kind == "staff" and event.person_id == person.id
    assert event.reason == "电话核实，本人报出身份证号后四位" and event.channel == "console"
    ok = await client.post(
        f"/c/{code}/api/identity", json={"id_number": person.id_number}, headers=HEADERS
    )
    assert ok.status == 200


async def test_staff_of_another_district_cannot_unlock(
    web: Any, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    person = await person_of_record(sessions, world.records["plain"])  # 姑苏区
    await lock(sessions, person.id)
    client = await web()
    await login(client, "gaoxin_rev")
    assert person.name not in await (await client.get("/console/invites/locked")).text()
    response = await unlock(client, person.id, "电话核实", "/console/invites/locked")
    assert response.status == 404
    async with sessions() as db:
        invite = await inv.invite_for_person(db, person.id)
    assert invite is not None and inv.is_locked(invite)


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
async def test_unlock_from_the_command_line(
    world: World,
    sessions: async_sessionmaker[AsyncSession],
    engine: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    person = await person_of_record(sessions, world.records["other"])
    code = await lock(sessions, person.id)
    monkeypatch.setenv("CANBAO_DATABASE_URL", str(engine.url))
    monkeypatch.setenv("CANBAO_DATA_DIR", str(tmp_path))
    assert await _run(main, ["security", "locked"]) == 0
    out = capsys.readouterr().out
    assert code in out and person.name in out and person.id_number not in out
    assert await _run(main, ["security", "unlock", code]) == 2  # a reason is required
    assert "--reason" in capsys.readouterr().err
    assert await _run(main, ["security", "unlock", "no-such-code", "--reason", "电话核实"]) == 2
    assert await _run(main, ["security", "unlock", code, "--reason", "当面核实身份证"]) == 0
    assert "已解锁" in capsys.readouterr().out
    async with sessions() as db:
        invite = await inv.invite_for_person(db, person.id)
        event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "invite_unlocked"))
    assert invite is not None and not inv.is_locked(invite)
    assert event is not None and event.reason == "当面核实身份证" and event.actor_kind == "system"


async def _run(entry: Any, argv: list[str]) -> int:
    """The CLI runs its own event loop: run it in a thread."""
    import asyncio

    return int(await asyncio.to_thread(entry, argv))
