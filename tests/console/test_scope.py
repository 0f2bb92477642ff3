"""District staff and district tokens see and touch only their district, by any URL.

Out-of-scope records answer 404, exactly like records that do not exist. Runs on SQLite and
on PostgreSQL.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from conftest import csrf_of, login
from openpyxl import load_workbook
from seed import World
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.models import AuditEvent, Record, RecordStatus
from storage.testing import temporary_database

Client = TestClient  # type: ignore[type-arg]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """This module runs on both engines."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    async with temporary_database(url, directory=tmp_path) as eng:
        yield eng


async def _status(sessions: async_sessionmaker[AsyncSession], record_id: int) -> RecordStatus:
    async with sessions() as db:
        record = await db.get(Record, record_id)
        assert record is not None
        return record.status


async def test_district_staff_cannot_read_another_district(client: Client, world: World) -> None:
    await login(client, "gusu_rev")
    other = world.records["other"]
    missing = await client.get("/console/records/987654")
    assert missing.status == 404
    for path in (f"/console/records/{other}", f"/console/records/{other}.pdf"):
        response = await client.get(path)
        assert response.status == 404, path
        # The same page as for a record that does not exist: existence does not leak.
        assert await response.text() == await missing.text()
    queue = await (await client.get("/console/queue?status=all")).text()
    assert "林晓" in queue and "王强" not in queue
    # Asking for the other district by filter gives nothing, not its records.
    gaoxin = world.districts["高新区"]
    filtered = await (await client.get(f"/console/queue?status=all&district={gaoxin}")).text()
    assert "王强" not in filtered


async def test_district_staff_cannot_act_on_another_district(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await login(client, "gusu_rev")
    other = world.records["other"]
    token = await csrf_of(client, "/console/queue")
    for action, data in (
        ("confirm", {}),
        ("return", {"comment": "请修改", "fields": "mobile"}),
        ("enroll", {"enrolled_at": "2014-11-20", "insurance": "居民养老保险"}),
    ):
        response = await client.post(
            f"/console/records/{other}/{action}", data={"_csrf": token, "version": "2", **data}
        )
        assert response.status == 404, action
    bulk = await client.post(
        "/console/queue/confirm", data={"_csrf": token, "ids": str(other), "scope": "selected"}
    )
    assert bulk.status == 200
    assert await _status(sessions, other) == RecordStatus.submitted
    async with sessions() as db:
        record = await db.get(Record, other)
        assert record is not None and record.enrolled_at is None


async def test_district_staff_exports_only_their_district(client: Client, world: World) -> None:
    await login(client, "gusu_rev")
    xlsx = await client.get("/console/exports/records.xlsx?status=all")
    sheet = load_workbook(io.BytesIO(await xlsx.read()), read_only=True).active
    assert sheet is not None
    names = {row[6] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert names == {"林晓", "林大海", "周敏", "吴刚"}
    csv_text = await (await client.get("/console/exports/records.csv")).text()
    assert "王强" not in csv_text and "林晓" in csv_text
    employers = await (await client.get("/console/employers")).text()
    assert "苏州某某电子有限公司" in employers and "狮山精密机械厂" not in employers
    gaoxin = world.districts["高新区"]
    assert (await client.get(f"/console/progress?level=district&id={gaoxin}")).status == 404
    street = world.streets["高新区/狮山街道"]
    assert (await client.get(f"/console/progress?level=street&id={street}")).status == 404
    community = world.communities["gaoxin"]
    assert (await client.get(f"/console/progress?level=community&id={community}")).status == 404
    city = await (await client.get("/console/progress")).text()
    assert "姑苏区" in city and "高新区" not in city


async def test_city_staff_see_everything(client: Client, world: World) -> None:
    await login(client, "city_admin")
    assert (await client.get(f"/console/records/{world.records['other']}")).status == 200
    queue = await (await client.get("/console/queue?status=all")).text()
    assert "王强" in queue and "林晓" in queue
    gaoxin = world.districts["高新区"]
    assert (await client.get(f"/console/progress?level=district&id={gaoxin}")).status == 200


async def test_district_token_reads_only_its_district(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    headers = {"Authorization": f"Bearer {world.token_gusu}"}
    listing = await (await client.get("/api/v1/records", headers=headers)).json()
    names = {r["person"]["name"] for r in listing["records"]}
    assert names == {"林晓", "林大海", "周敏", "吴刚"}
    other = world.records["other"]
    response = await client.get(f"/api/v1/records/{other}", headers=headers)
    assert response.status == 404
    assert (await response.json())["error"] == "not_found"
    gaoxin = world.districts["高新区"]
    by_area = await client.get(f"/api/v1/records?district_id={gaoxin}", headers=headers)
    assert (await by_area.json())["records"] == []
    progress = await client.get(f"/api/v1/progress?level=district&id={gaoxin}", headers=headers)
    assert progress.status == 404
    city = await (await client.get("/api/v1/progress", headers=headers)).json()
    assert [c["name"] for c in city["children"]] == ["姑苏区"]
    # The city token sees both districts.
    everything = await client.get(
        "/api/v1/records", headers={"Authorization": f"Bearer {world.token_city}"}
    )
    assert len((await everything.json())["records"]) == 5
    async with sessions() as db:
        reads = (await db.scalars(select(AuditEvent).where(AuditEvent.action == "api_read"))).all()
    assert reads and all(json.dumps(e.details) for e in reads)
