"""Values typed into the console: comments stored clean, a correction to another person's
公民身份号码 flagged (the roster's value shown beside it), typed dates read by one rule."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from conftest import csrf_of, login
from seed import World
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Person, Record

Client = TestClient  # type: ignore[type-arg]


async def _record(sessions: async_sessionmaker[AsyncSession], record_id: int) -> Record:
    async with sessions() as db:
        record = await db.get(Record, record_id)
        assert record is not None
        return record


async def _number(sessions: async_sessionmaker[AsyncSession], record_id: int) -> str:
    record = await _record(sessions, record_id)
    async with sessions() as db:
        person = await db.get(Person, record.person_id)
        assert person is not None
        return person.id_number


async def test_a_return_comment_is_stored_clean(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "city_admin")
    record = await _record(sessions, world.records["plain"])
    token = await csrf_of(client, f"/console/records/{record.id}")
    response = await client.post(
        f"/console/records/{record.id}/return",
        data={
            "_csrf": token,
            "version": str(record.version),
            "comment": "请核对\x00手机\u202e号码\u200b",
        },
    )
    assert response.status == 200
    assert (await _record(sessions, record.id)).return_comment == "请核对手机号码"


async def test_a_correction_to_another_persons_number_is_flagged(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "city_admin")
    record_id = world.records["confirmed"]
    own, other = await _number(sessions, record_id), await _number(sessions, world.records["plain"])
    record = await _record(sessions, record_id)
    token = await csrf_of(client, f"/console/records/{record_id}")
    html = await (
        await client.post(
            f"/console/records/{record_id}/correct",
            data={
                "_csrf": token,
                "version": str(record.version),
                "field": "id_number",
                "value": other,
                "reason": "电话核实",
            },
        )
    ).text()
    assert "已更正" in html
    assert f"{other}（花名册为 {own}）" in html
    assert "属于名册上的另一位人员" in html
    after = await _record(sessions, record_id)
    assert {"id_changed", "id_conflict"} <= set(after.flags)
    queue = await (await client.get("/console/queue?flag=identity&status=all")).text()
    assert f"/console/records/{record_id}" in queue


async def test_an_enrolment_date_may_be_typed_the_chinese_way(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "city_admin")
    record = await _record(sessions, world.records["confirmed"])
    token = await csrf_of(client, f"/console/records/{record.id}")
    html = await (
        await client.post(
            f"/console/records/{record.id}/enroll",
            data={
                "_csrf": token,
                "version": str(record.version),
                "enrolled_at": "2014年11月20日",
                "insurance": "居民医疗保险",
            },
        )
    ).text()
    assert "已登记动员后参保情况" in html
    assert str((await _record(sessions, record.id)).enrolled_at) == "2014-11-20"
