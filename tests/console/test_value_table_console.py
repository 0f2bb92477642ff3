"""The table of typed values (tests/value_cases.py) through the console's correction of a
confirmed record: the same module decides, so the same spellings are kept and the same
messages shown. The API only reads (``/api/v1`` takes no such value): it serves what was kept."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from conftest import csrf_of, login
from seed import World
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Record
from tests.value_cases import ID_CASES, MOBILE_CASES, NAME_CASES, Case

Client = TestClient  # type: ignore[type-arg]
FIELDS = {"id_number": ID_CASES, "mobile": MOBILE_CASES, "name": NAME_CASES}


async def _record(sessions: async_sessionmaker[AsyncSession], record_id: int) -> Record:
    async with sessions() as db:
        record = await db.get(Record, record_id)
        assert record is not None
        return record


async def _correct(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    record_id: int,
    field: str,
    case: Case,
) -> tuple[str, Record]:
    record = await _record(sessions, record_id)
    token = await csrf_of(client, f"/console/records/{record_id}")
    response = await client.post(
        f"/console/records/{record_id}/correct",
        data={
            "_csrf": token,
            "version": str(record.version),
            "field": field,
            "value": case.typed,
            "reason": "电话核实",
        },
    )
    return await response.text(), await _record(sessions, record_id)


async def test_console_correction_takes_the_table(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "city_admin")
    record_id = world.records["confirmed"]
    for field, cases in FIELDS.items():
        for case in cases:
            before = await _record(sessions, record_id)
            html, after = await _correct(client, sessions, record_id, field, case)
            if case.accepted:
                if before.state["answers"][field] != case.kept:
                    assert "已更正" in html, (field, case.id)
                assert after.state["answers"][field] == case.kept, (field, case.id)
            else:
                assert case.message in html, (field, case.id)
                assert after.version == before.version, (field, case.id)

    # Typed full-width, kept (and served by the API) as the plain 18 characters.
    full_width = next(c for c in ID_CASES if c.id == "full-width")
    await _correct(client, sessions, record_id, "id_number", full_width)
    response = await client.get(
        f"/api/v1/records/{record_id}", headers={"Authorization": f"Bearer {world.token_city}"}
    )
    assert (await response.json())["answers"]["id_number"] == full_width.kept
