"""Values in the web chat: free text stored clean whatever the JSON carried, ID numbers in 备注
masked, another person's number warned about and flagged, and Beijing dates on a UTC server."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from bot.synthetic import make_id_number
from storage.models import RecordRevision, RecordStatus
from storage.repositories.accounts import create_staff
from storage.types import frozen_time
from tests.webchat.chatkit import ADULT_SCRIPT, TAIL_SCRIPT, ChatClient, record_of, run_script
from tests.webchat.conftest import ChatEnv

# 00:40 on 4 December in Beijing is still 3 December in UTC; so is 01:05 on 1 April 2027.
# (Two instants: a test run on the first one's Beijing day would not tell a machine's clock
# from the survey's.)
NIGHTS = [
    dt.datetime(2026, 12, 3, 16, 40, tzinfo=dt.UTC),
    dt.datetime(2027, 3, 31, 17, 5, tzinfo=dt.UTC),
]
PASSWORD = "correct horse battery"


async def _verified(chat_env: ChatEnv, key: str = "adult") -> ChatClient:
    chat = chat_env.chat(key)
    await chat.identity(chat_env.people[key].id_number)
    assert chat.status == 200, chat.last
    return chat


async def _answer_raw(chat: ChatClient, body: str) -> None:
    """Answer with a hand-written JSON body (escapes exactly as a client may send them)."""
    version = chat.view["version"]
    await chat.raw("answer", body.replace("VERSION", str(version)).encode())
    assert chat.status == 200, chat.last


async def test_remarks_are_stored_clean_whatever_the_json_escapes(chat_env: ChatEnv) -> None:
    for key, body, kept in (
        ("adult", '{"text": "a\\u0001b\\u0000c", "version": VERSION}', "abc"),
        ("other", '{"text": "x\\ud800y", "version": VERSION}', "x\ufffdy"),
    ):
        chat = await _verified(chat_env, key)
        await run_script(chat, ADULT_SCRIPT, stop_at="remarks")
        await _answer_raw(chat, body)
        assert chat.view["stage"] == "review", chat.last
        record = await record_of(chat_env.sessions, chat_env.people[key].person_id)
        assert record is not None
        assert record.state["answers"]["remarks"] == kept
        summary = {item["name"]: item["value"] for item in chat.view["summary"]}
        assert summary["remarks"] == kept


async def test_an_id_number_in_remarks_is_masked_in_the_summary(chat_env: ChatEnv) -> None:
    chat = await _verified(chat_env)
    number = chat_env.people["child"].id_number
    await run_script(chat, ADULT_SCRIPT, stop_at="remarks")
    await chat.act("answer", text=f"女儿的身份证 {number}")
    summary = {item["name"]: item["value"] for item in chat.view["summary"]}
    assert number not in str(chat.view)
    assert summary["remarks"] == f"女儿的身份证 {number[:4]}**********{number[-4:]}"
    # Edited again, the current value shown is masked too.
    await chat.act("edit", field="remarks")
    assert number not in str(chat.view["prompt"])


async def _submit_with_number(chat: ChatClient, number: str) -> dict[str, Any]:
    script = {**ADULT_SCRIPT, "id_number": number}
    await run_script(chat, script, stop_at="id_number")
    await chat.act("answer", text=number)
    answered = dict(chat.last)
    await run_script(chat, script)
    await chat.act("proceed")
    await run_script(chat, TAIL_SCRIPT, stop_at="complete")
    await chat.act("submit")
    assert chat.status == 200, chat.last
    return answered


async def _login(client: TestClient[Any, Any], username: str) -> None:
    page = await (await client.get("/console/login")).text()
    match = re.search(r'name="_csrf" value="([^"]+)"', page)
    assert match
    response = await client.post(
        "/console/login",
        data={"_csrf": match.group(1), "username": username, "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()


async def _staff(chat_env: ChatEnv) -> None:
    async with chat_env.sessions() as session, session.begin():
        await create_staff(session, "city_admin", PASSWORD, display_name="市中心审核员")
    await _login(chat_env.client, "city_admin")


async def test_another_roster_persons_number_is_a_warning_and_a_flag(chat_env: ChatEnv) -> None:
    adult, other = chat_env.people["adult"], chat_env.people["other"]
    chat = await _verified(chat_env)
    answered = await _submit_with_number(chat, other.id_number)
    assert "属于名册上的另一位人员" in answered["warning"]
    record = await record_of(chat_env.sessions, adult.person_id)
    assert record is not None and record.status == RecordStatus.submitted
    assert {"id_changed", "id_conflict"} <= set(record.flags)
    # Nothing merged: the other person's own record is untouched (there is none yet).
    assert await record_of(chat_env.sessions, other.person_id) is None

    await _staff(chat_env)
    queue = await (await chat_env.client.get("/console/queue?flag=identity")).text()
    assert f"/console/records/{record.id}" in queue
    page = await (await chat_env.client.get(f"/console/records/{record.id}")).text()
    assert f"{other.id_number}（花名册为 {adult.id_number}）" in page
    assert "属于名册上的另一位人员" in page

    # The other person then files their own number: their record is flagged too, as its
    # number is used in another live record.
    mine = await _verified(chat_env, "other")
    answered = await _submit_with_number(mine, other.id_number)
    assert "warning" not in answered
    theirs = await record_of(chat_env.sessions, other.person_id)
    assert theirs is not None and theirs.flags == ["id_conflict"]


async def test_a_changed_number_of_nobody_else_is_allowed_and_flagged(chat_env: ChatEnv) -> None:
    adult = chat_env.people["adult"]
    chat = await _verified(chat_env)
    fresh = make_id_number(dt.date(1985, 3, 3), "F", "320503", 99)
    answered = await _submit_with_number(chat, fresh)
    assert "与名册上登记的不同" in answered["warning"]
    record = await record_of(chat_env.sessions, adult.person_id)
    assert record is not None and record.flags == ["id_changed"]
    await _staff(chat_env)
    unflagged = await (await chat_env.client.get("/console/queue?flag=none")).text()
    assert f"/console/records/{record.id}" not in unflagged
    flagged = await (await chat_env.client.get("/console/queue?flag=identity")).text()
    assert f"/console/records/{record.id}" in flagged


@pytest.mark.parametrize("instant", NIGHTS, ids=[n.isoformat() for n in NIGHTS])
async def test_dates_are_beijing_dates_on_a_utc_server(
    chat_env: ChatEnv, utc_server: None, instant: dt.datetime
) -> None:
    adult = chat_env.people["adult"]
    local = instant.astimezone(ZoneInfo("Asia/Shanghai"))
    day, utc_day = local.date().isoformat(), instant.date().isoformat()
    with frozen_time(instant):
        chat = await _verified(chat_env)
        await run_script(chat, ADULT_SCRIPT)
        await chat.act("proceed")
        await run_script(chat, TAIL_SCRIPT, stop_at="complete")
        await chat.act("submit")
        assert chat.status == 200, chat.last
        record = await record_of(chat_env.sessions, adult.person_id)
        assert record is not None
        assert record.state["context"]["collection_date"] == day
        async with chat_env.sessions() as session:
            revision = await session.scalar(
                select(RecordRevision).where(RecordRevision.record_id == record.id)
            )
            assert revision is not None and revision.answers["collection_date"] == day

        await _staff(chat_env)
        client = chat_env.client
        page = await (await client.get(f"/console/records/{record.id}")).text()
        assert f"提交于 {local:%Y-%m-%d %H:%M}" in page
        that_day = f"from={day}&to={day}&status=all"
        queue = await (await client.get(f"/console/queue?{that_day}")).text()
        assert f"/console/records/{record.id}" in queue
        utc_queue = await (await client.get(f"/console/queue?from={utc_day}&to={utc_day}")).text()
        assert f"/console/records/{record.id}" not in utc_queue

        text = (await (await client.get("/console/exports/records.csv")).read()).decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [r["采集日期"] for r in rows] == [day]
        assert utc_day not in text

        book = load_workbook(
            io.BytesIO(await (await client.get("/console/exports/records.xlsx")).read())
        )
        sheet = book.active
        assert sheet is not None
        header = [c.value for c in sheet[1]]
        cells = [str(c.value) for c in sheet[2]]
        assert cells[header.index("采集日期")] == day
        assert not any(utc_day in c for c in cells)

        pdf = await (await client.get(f"/console/records/{record.id}.pdf")).read()
        printed = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
        assert day in printed and utc_day not in printed
