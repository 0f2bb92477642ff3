"""Any text in, every view out: arbitrary Unicode through every channel, then every page,
export, PDF and API view of what was stored.

Inputs: web chat answers and raw bodies (control characters, lone surrogates through the
JSON escape, huge and deeply nested bodies, bytes that are not UTF-8), Telegram messages and
edits through the real dispatcher (fake Bot API), the console's forms (return comment,
correction, enrolment; bodies that are not UTF-8 too), and strings written straight into the
database, as rows stored before input cleaning would hold them. After each example: no
answer is a 5xx, every XLSX opens in openpyxl, every CSV parses, every PDF opens in pypdf,
every JSON answer parses strictly (UTF-8, no lone surrogate), and nothing logged an error.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import Update
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.server import create_app
from bot.settings import Settings
from bot.telegram import RetryPolicy, create_bot, create_dispatcher
from flows import Form, load_default_form
from storage.db import ensure_schema, make_engine, make_sessionmaker
from storage.models import Community, Invite, Person, Record, RecordRevision, RecordStatus
from storage.repositories.invites import ensure_invites
from tests.console.seed import PASSWORD, World, build_world
from tests.fakebot import FakeTelegram, FakeUser
from tests.faults import updates
from tests.faults.world import ErrorLog
from tests.outputs import csv_rows, pdf_text, strict_json, xlsx_rows

CHAT = {"X-Canbao-Chat": "1"}
CSRF_RE = re.compile(r'name="_csrf" value="([^"]+)"')
VERSION_RE = re.compile(r'name="version" value="(\d+)"')
SPECIAL = [
    "a\u0001b\u0000c",
    "x\ud800y",
    "\udfff",
    "王\u202e强",
    '\ufeff=HYPERLINK("x")',
    "第一行\r\n第二行\t列",
    "\u0085\u009f\u007f",
    "😀" * 300,
    "\ufffe\uffff",
    "",
]
# Every code point, surrogates included (they reach the server as JSON escapes).
ANY_TEXT = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(st.characters(exclude_categories=()), max_size=60),
)
DEEP = ["[" * 8000, '{"a":' * 5000, "[" * 8000 + "]" * 8000]
RAW_BODIES = st.one_of(
    st.sampled_from(DEEP),
    st.binary(max_size=64),
    st.just(b'\xff\xfe{"text": 1}'),
    st.builds(lambda n: ('{"text": "' + "字" * n + '"}').encode(), st.sampled_from([3000, 9000])),
)
EVERY_TEXT_STEP = [
    "chat_answer",
    "tg_text",
    "tg_edit",
    "console_return",
    "console_correct",
    "console_enroll",
    "db_answer",
    "db_comment",
    "db_name",
    "db_area",
]
STEP = st.one_of(
    st.tuples(st.just("chat_answer"), ANY_TEXT),
    st.tuples(st.just("chat_back"), st.just("")),
    st.tuples(st.just("chat_raw"), RAW_BODIES),
    st.tuples(st.just("tg_text"), ANY_TEXT),
    st.tuples(st.just("tg_edit"), ANY_TEXT),
    st.tuples(st.just("console_return"), ANY_TEXT),
    st.tuples(st.just("console_correct"), ANY_TEXT),
    st.tuples(st.just("console_enroll"), ANY_TEXT),
    st.tuples(st.just("console_raw"), st.binary(max_size=40)),
    st.tuples(st.sampled_from(["db_answer", "db_comment", "db_name", "db_area"]), ANY_TEXT),
)


def as_json(value: dict[str, Any]) -> bytes:
    """JSON as a client could send it: lone surrogates as ``\\ud800`` escapes."""
    return json.dumps(value, ensure_ascii=True).encode("ascii")


def as_form(fields: dict[str, str]) -> bytes:
    """A form body: text percent-encoded as UTF-8, lone surrogates as their raw bytes."""
    return "&".join(
        f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in fields.items()
    ).encode("ascii")


def stored_text(text: str) -> str:
    """What a text column can hold on any engine (JSON columns take anything)."""
    return text.replace("\x00", "").encode("utf-8", "surrogatepass").decode("utf-8", "replace")


@dataclass
class Env:
    """The application (console, API, web chat) and the bot on one store."""

    runner: asyncio.Runner
    server: TestServer
    tg: FakeTelegram
    bot: Bot
    dispatcher: Dispatcher
    sessions: async_sessionmaker[AsyncSession]
    form: Form
    world: World
    staff: aiohttp.ClientSession
    chat: aiohttp.ClientSession
    chat_code: str
    tg_user: FakeUser
    errors: ErrorLog
    log: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    def run(self, coro: Any) -> Any:
        return self.runner.run(coro)


def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def _setup(tmp: Path) -> tuple[Any, ...]:
    url = f"sqlite+aiosqlite:///{tmp / 'fuzz.db'}"
    await ensure_schema(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    form = load_default_form()
    world = await build_world(sessions, form)
    async with sessions() as db, db.begin():
        await ensure_invites(db)
    async with sessions() as db:
        rows = await db.execute(select(Person.name, Person.id_number))
        people = {name: number for name, number in rows.all()}
        linked = await db.execute(select(Person.name, Invite.code).join(Invite))
        codes = {name: code for name, code in linked.all()}
    tg = await FakeTelegram().start()
    settings = Settings(
        _env_file=None,
        bot_token=SecretStr(tg.token),
        telegram_api_url=tg.base_url,
        database_url=url,
        data_dir=tmp,
        redis_url=None,
        webhook_url=None,
        session_secret="fuzz-session-secret",  # type: ignore[arg-type]
        outbound_webhook_url=None,
    )
    bot = create_bot(settings, retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02))
    dispatcher = create_dispatcher(settings, sessions, form, MemoryStorage())
    server = TestServer(create_app(settings, sessions, form))
    await server.start_server()
    staff = _session()
    login = str(server.make_url("/console/login"))
    token = CSRF_RE.search(await (await staff.get(login)).text())
    assert token
    signed_in = await staff.post(
        login,
        data={"_csrf": token.group(1), "username": "city_admin", "password": PASSWORD},
        allow_redirects=False,
    )
    assert signed_in.status == 303
    # A resident in the web chat ("idle": no record yet), verified.
    chat = _session()
    code = codes["赵丽"]
    verified = await chat.post(
        str(server.make_url(f"/c/{code}/api/identity")),
        data=as_json({"id_number": people["赵丽"]}),
        headers={**CHAT, "Content-Type": "application/json"},
    )
    assert verified.status == 200, await verified.text()
    # A resident in Telegram ("draft": a record begun), verified and past the notice.
    user = tg.user(5_001, "郑芳")
    for text in (f"/start {codes['郑芳']}", people["郑芳"]):
        payload = updates.text_update(tg, user, text)
        await dispatcher.feed_update(bot, Update.model_validate(payload, context={"bot": bot}))
    return engine, tg, bot, dispatcher, sessions, form, world, server, staff, chat, code, user


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    runner = asyncio.Runner()
    parts = runner.run(_setup(tmp_path_factory.mktemp("fuzz-outputs")))
    engine, tg, bot, dispatcher, sessions, form, world, server, staff, chat, code, user = parts
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    try:
        yield Env(
            runner,
            server,
            tg,
            bot,
            dispatcher,
            sessions,
            form,
            world,
            staff,
            chat,
            code,
            user,
            errors,
        )
    finally:
        logging.getLogger().removeHandler(errors)

        async def close() -> None:
            await staff.close()
            await chat.close()
            await server.close()
            await bot.session.close()
            await dispatcher.storage.close()
            await tg.close()
            await engine.dispose()

        runner.run(close())
        runner.close()


# ------------------------------------------------------------------------------- the inputs


async def _chat_version(env: Env) -> int:
    state = await env.chat.get(env.url(f"/c/{env.chat_code}/api/state"), headers=CHAT)
    body = strict_json(await state.read())
    return int(body["view"].get("version", 0))


async def _checked(response: aiohttp.ClientResponse, what: str) -> bytes:
    body = await response.read()
    assert response.status < 500, (what, response.status, body[:300])
    if response.content_type == "application/json":
        strict_json(body)
    return body


async def _record_form(env: Env, record_id: int) -> tuple[str, str]:
    html = await (await env.staff.get(env.url(f"/console/records/{record_id}"))).text()
    csrf = CSRF_RE.search(html)
    version = VERSION_RE.search(html)
    assert csrf is not None
    return csrf.group(1), version.group(1) if version else "0"


async def _records(env: Env, *statuses: RecordStatus) -> list[int]:
    async with env.sessions() as db:
        stmt = select(Record.id).order_by(Record.id)
        if statuses:
            stmt = stmt.where(Record.status.in_(statuses))
        return list((await db.scalars(stmt)).all())


async def _post_form(env: Env, path: str, body: bytes, what: str) -> None:
    response = await env.staff.post(
        env.url(path),
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        allow_redirects=False,
    )
    await _checked(response, what)


async def step(env: Env, kind: str, value: Any) -> None:
    if kind == "chat_answer":
        body = as_json({"version": await _chat_version(env), "text": value})
        response = await env.chat.post(
            env.url(f"/c/{env.chat_code}/api/answer"),
            data=body,
            headers={**CHAT, "Content-Type": "application/json"},
        )
        await _checked(response, kind)
    elif kind == "chat_back":
        body = as_json({"version": await _chat_version(env)})
        response = await env.chat.post(
            env.url(f"/c/{env.chat_code}/api/back"),
            data=body,
            headers={**CHAT, "Content-Type": "application/json"},
        )
        await _checked(response, kind)
    elif kind == "chat_raw":
        raw = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
        # The resident's chat, and the preview (which only staff may open).
        for client, path in (
            (env.chat, f"/c/{env.chat_code}/api/answer"),
            (env.staff, "/c/preview/api/state"),
        ):
            response = await client.post(
                env.url(path), data=raw, headers={**CHAT, "Content-Type": "application/json"}
            )
            await _checked(response, kind)
    elif kind in ("tg_text", "tg_edit"):
        build = updates.text_update if kind == "tg_text" else updates.edited_update
        payload = build(env.tg, env.tg_user, value or "…")
        update = Update.model_validate(payload, context={"bot": env.bot})
        await env.dispatcher.feed_update(env.bot, update)
    elif kind == "console_return":
        submitted = await _records(env, RecordStatus.submitted)
        if submitted:
            record_id = submitted[0]
            csrf, version = await _record_form(env, record_id)
            fields = {"_csrf": csrf, "version": version, "comment": value or "请核对"}
            await _post_form(env, f"/console/records/{record_id}/return", as_form(fields), kind)
    elif kind == "console_correct":
        confirmed = await _records(env, RecordStatus.confirmed)
        if confirmed:
            record_id = confirmed[0]
            csrf, version = await _record_form(env, record_id)
            fields = {
                "_csrf": csrf,
                "version": version,
                "field": "remarks",
                "value": value or "备注",
                "reason": value or "更正",
            }
            await _post_form(env, f"/console/records/{record_id}/correct", as_form(fields), kind)
    elif kind == "console_enroll":
        confirmed = await _records(env, RecordStatus.confirmed)
        if confirmed:
            record_id = confirmed[-1]
            csrf, version = await _record_form(env, record_id)
            fields = {
                "_csrf": csrf,
                "version": version,
                "enrolled_at": "2014-11-20",
                "insurance_other": value or "其他",
            }
            await _post_form(env, f"/console/records/{record_id}/enroll", as_form(fields), kind)
    elif kind == "console_raw":
        record_id = (await _records(env))[0]
        csrf, _ = await _record_form(env, record_id)
        body = f"_csrf={csrf}&comment=".encode() + value
        await _post_form(env, f"/console/records/{record_id}/return", body, kind)
        await _post_form(env, "/console/queue/confirm", body, kind)
    else:
        await _store_directly(env, kind, value)


async def _store_directly(env: Env, kind: str, text: str) -> None:
    """Bad strings as old rows hold them: JSON answers take anything, text columns what the
    engine can store."""
    async with env.sessions() as db, db.begin():
        if kind == "db_answer":
            revision = await db.scalar(select(RecordRevision).order_by(RecordRevision.id))
            assert revision is not None
            revision.answers = {**revision.answers, "remarks": text, "workplace_name": text}
        elif kind == "db_comment":
            record = await db.scalar(select(Record).order_by(Record.id.desc()))
            assert record is not None
            record.return_comment = stored_text(text)
        elif kind == "db_name":
            person = await db.scalar(select(Person).order_by(Person.id))
            assert person is not None
            person.name = stored_text(text)[:64] or "某"
        else:
            community = await db.scalar(select(Community).order_by(Community.id))
            assert community is not None
            community.name = stored_text(text)[:64] or "某社区"


# ------------------------------------------------------------------------------- the views


async def every_view(env: Env) -> None:
    """Every page, export, PDF and API view: no 5xx, files open, JSON strict."""
    get = env.staff.get
    ids = await _records(env)
    handed_in = await _records(
        env, RecordStatus.submitted, RecordStatus.returned, RecordStatus.confirmed
    )
    for path in (
        "/console/queue?status=all",
        "/console/queue",
        "/console/employers",
        "/console/progress",
        f"/console/progress?level=district&id={env.world.districts['姑苏区']}",
        f"/console/progress?level=community&id={env.world.communities['gusu']}",
        *(f"/console/records/{i}" for i in ids),
    ):
        await _checked(await get(env.url(path)), path)
    for i in handed_in:
        body = await _checked(await get(env.url(f"/console/records/{i}.pdf")), "pdf")
        pdf_text(body)
    for path in ("/console/exports/records.xlsx", "/console/exports/employers.xlsx"):
        xlsx_rows(await _checked(await get(env.url(path)), path))
    csv_rows(await _checked(await get(env.url("/console/exports/records.csv")), "csv"))

    api = {"Authorization": f"Bearer {env.world.token_city}"}
    for path in (
        "/api/v1/records?limit=500",
        "/api/v1/progress",
        f"/api/v1/progress?level=community&id={env.world.communities['gusu']}",
        "/api/v1/openapi.json",
        *(f"/api/v1/records/{i}" for i in handed_in),
    ):
        response = await get(env.url(path), headers=api)
        assert response.content_type == "application/json", path
        await _checked(response, path)

    for path in (f"/c/{env.chat_code}", f"/c/{env.chat_code}/api/state"):
        await _checked(await env.chat.get(env.url(path), headers=CHAT), path)


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(steps=st.lists(STEP, min_size=2, max_size=8))
@example(steps=[(kind, text) for kind in EVERY_TEXT_STEP for text in SPECIAL[:4]])
@example(steps=[("chat_raw", body.encode()) for body in DEEP] + [("console_raw", b"\x9c\xff")])
def test_any_text_in_every_view_out(env: Env, steps: list[tuple[str, Any]]) -> None:
    for kind, value in steps:
        env.run(step(env, kind, value))
    env.run(every_view(env))
    assert env.errors.describe() == []
