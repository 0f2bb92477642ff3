"""Whatever string the database already holds, every place that shows or exports it works.

Input cleaning keeps new control characters and lone surrogates out; these rows are what was
stored before (or by hand): a 备注 of ``"a\\u0001b\\u0000c"`` made the XLSX export answer 500
for the whole district, ``"x\\ud800y"`` broke the record page, the CSV stream mid-body and the
API's JSON.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientPayloadError
from aiohttp.test_utils import TestClient
from conftest import login
from seed import World
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.console.views import exports
from storage.models import Person, Record, RecordRevision
from storage.testing import temporary_database
from tests.outputs import csv_rows, pdf_text, strict_json, xlsx_rows

Client = TestClient  # type: ignore[type-arg]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """Both engines: PostgreSQL's json keeps "\\u0000" and lone surrogates as well."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    async with temporary_database(url, directory=tmp_path) as eng:
        yield eng


CONTROLS = "a\u0001b\u0000c\u001bd\u0085e"
# A text column holds no NUL on PostgreSQL (its JSON does, as an escape).
CONTROLS_TEXT = "a\u0001bc\u001bd\u0085e"
SURROGATE = "x\ud800y\udfffz"
BIDI = "王\u202e强"


async def store_bad_strings(sessions: async_sessionmaker[AsyncSession], record_id: int) -> None:
    """Write bad strings straight into a handed-in record, as an old row would hold them."""
    async with sessions() as db, db.begin():
        revision = await db.scalar(
            select(RecordRevision)
            .where(RecordRevision.record_id == record_id)
            .order_by(RecordRevision.n.desc())
        )
        assert revision is not None
        answers = dict(revision.answers)
        answers.update(remarks=CONTROLS, workplace_name=SURROGATE, name=f"林{BIDI}")
        revision.answers = answers
        record = await db.get(Record, record_id)
        assert record is not None
        state = dict(record.state)
        state["answers"] = {**state.get("answers", {}), "remarks": SURROGATE}
        record.state = state
        record.return_comment = CONTROLS_TEXT
        person = await db.get(Person, record.person_id)
        assert person is not None
        person.name = "林\u0007晓"  # a text column: SQLite and PostgreSQL store no surrogate there


@pytest.fixture
async def bad(world: World, sessions: async_sessionmaker[AsyncSession]) -> int:
    record_id = world.records["plain"]
    await store_bad_strings(sessions, record_id)
    return record_id


async def test_xlsx_export_opens_with_controls_and_surrogates_stored(
    client: Client, bad: int
) -> None:
    await login(client, "city_admin")
    response = await client.get("/console/exports/records.xlsx?status=all")
    assert response.status == 200
    rows = xlsx_rows(await response.read())
    header = rows[0]
    remarks = [row[header.index("备注")] for row in rows[1:]]
    assert "abcde" in remarks
    assert "x\ufffdy\ufffdz" in [row[header.index("工作或学习单位名称")] for row in rows[1:]]


async def test_csv_export_is_whole_with_bad_strings_stored(client: Client, bad: int) -> None:
    await login(client, "city_admin")
    response = await client.get("/console/exports/records.csv?status=all")
    assert response.status == 200
    body = await response.read()
    assert b"HTTP/1.1" not in body
    rows = csv_rows(body)
    header = rows[0]
    assert len(rows) == 6  # header and the five handed-in records
    line = next(r for r in rows if r[header.index("备注")] == "abcde")
    assert line[header.index("工作或学习单位名称")] == "x\ufffdy\ufffdz"
    assert line[header.index("姓名")] == "林王强"


async def test_record_page_and_queue_render_bad_strings(client: Client, bad: int) -> None:
    await login(client, "city_admin")
    page = await client.get(f"/console/records/{bad}")
    assert page.status == 200
    html = await page.text()
    assert "x\ufffdy\ufffdz" in html and "abcde" in html
    assert "\u202e" not in html and "\u0000" not in html
    queue = await client.get("/console/queue?status=all")
    assert queue.status == 200
    assert "林晓" in await queue.text()  # the roster name, bell removed
    employers = await client.get("/console/employers")
    assert employers.status == 200


async def test_pdf_prints_bad_strings(client: Client, bad: int) -> None:
    await login(client, "city_admin")
    response = await client.get(f"/console/records/{bad}.pdf")
    assert response.status == 200
    text = pdf_text(await response.read())
    assert "abcde" in text


async def test_api_json_parses_strictly_with_bad_strings_stored(
    client: Client, world: World, bad: int
) -> None:
    headers = {"Authorization": f"Bearer {world.token_city}"}
    one = await client.get(f"/api/v1/records/{bad}", headers=headers)
    assert one.status == 200
    record = strict_json(await one.read())
    assert record["answers"]["workplace_name"] == "x\ufffdy\ufffdz"
    assert record["answers"]["remarks"] == "abcde"
    listing = await client.get("/api/v1/records", headers=headers)
    strict_json(await listing.read())


async def test_a_csv_that_fails_after_its_first_rows_is_cut_not_given_an_error_page(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows fail only after the status line went out: the client must see a broken download
    (no final chunk), not a 200 file whose tail is the text of an error page."""
    real = exports.layout.values
    calls = {"n": 0}

    def failing(form: Any, row: Any) -> list[Any]:
        calls["n"] += 1
        if calls["n"] > 2:
            raise RuntimeError("a row the export cannot write")
        return real(form, row)

    monkeypatch.setattr(exports, "CSV_BATCH", 1, raising=False)
    monkeypatch.setattr(exports.layout, "values", failing)
    await login(client, "city_admin")
    response = await client.get("/console/exports/records.csv?status=all")
    assert response.status == 200
    received = b""
    with pytest.raises(ClientPayloadError):
        async for chunk in response.content.iter_any():
            received += chunk
    assert b"HTTP/1.1" not in received and "系统出错".encode() not in received


async def test_a_csv_that_fails_on_its_first_rows_is_an_error_page(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(form: Any, row: Any) -> list[Any]:
        raise RuntimeError("a row the export cannot write")

    monkeypatch.setattr(exports.layout, "values", failing)
    await login(client, "city_admin")
    response = await client.get("/console/exports/records.csv?status=all")
    assert response.status == 500
    assert response.content_type == "text/html"
    assert "系统出错" in await response.text()
