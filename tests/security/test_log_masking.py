"""No full 公民身份号码 or mobile number reaches a log line, whatever surrounds it and whoever
logs it: the server's own messages, aiohttp's access log, aiogram, SQLAlchemy's statements and
rows, and exception tracebacks (rendered SQL parameters and frame locals included)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import sys
import traceback
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy.exc import IntegrityError

from bench.procs import BotProcess, free_port
from bench.stores import fresh_database, seed_residents
from bot.privacy import install_log_masking, mask_text
from bot.synthetic import make_id_number
from storage.db import make_sessionmaker
from storage.models import Person
from storage.testing import temporary_database
from tests.fakebot import FakeTelegram

ID = make_id_number(__import__("datetime").date(1988, 6, 30), "F", "320508", seq=41)
ID_X = "32050819900307002X"
MOBILE = "13912345678"
WIDE = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
FULL_WIDTH = ID.translate(WIDE)
FULL_WIDTH_MOBILE = MOBILE.translate(WIDE)
# An ID-like run (17 digits and a digit or X) or a mobile, in any digits, anywhere.
LEAK = re.compile(r"\d{17}[\dXxＸ]|(?<!\d)[1１][3-9３-９]\d{9}(?!\d)")


def odd_places(id_number: str, mobile: str) -> list[str]:
    """The numbers as people (and programs) write them."""
    return [
        f"ID{id_number}",
        f"身份证号:{id_number}号",
        f"x{id_number.lower()}y",
        f"0{id_number}",
        f"{id_number[:6]} {id_number[6:14]} {id_number[14:]}",
        f"{id_number[:6]}-{id_number[6:14]}-{id_number[14:]}",
        f'{{"id_number":"{id_number}","mobile":"{mobile}"}}',
        f"tel{mobile}",
        f"+86{mobile}",
        f"0086-{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}",
        f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}",
        f"mobile={mobile}&id={id_number}",
    ]


def test_masks_whatever_surrounds_the_number() -> None:
    for text in [
        *odd_places(ID, MOBILE),
        *odd_places(ID_X, MOBILE),
        FULL_WIDTH,
        FULL_WIDTH_MOBILE,
        json.dumps({"typed": FULL_WIDTH, "mobile": FULL_WIDTH_MOBILE}),
    ]:
        masked = mask_text(text)
        assert LEAK.search(masked) is None, (text, masked)
        for number in (ID, MOBILE, FULL_WIDTH, FULL_WIDTH_MOBILE):
            assert number not in masked.replace(" ", "").replace("-", ""), masked
            assert json.dumps(number)[1:-1] not in masked, masked
    assert mask_text(f"ID{ID}") == f"ID{ID[:4]}**********{ID[-4:]}"
    # Timestamps, Telegram ids and update ids stay readable.
    for text in ("at 20141015093000", "chat 7012345678", "update 912345678", "bot id=5123456789"):
        assert mask_text(text) == text


def test_root_handlers_mask_what_any_formatter_renders() -> None:
    """Even a formatter that prints extra fields and tracebacks with locals."""
    install_log_masking()
    stream = io.StringIO()

    class Verbose(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            text = f"{record.getMessage()} client={getattr(record, 'client', '')}"
            if record.exc_info:
                rendered = traceback.TracebackException(*record.exc_info, capture_locals=True)
                text += "\n" + "".join(rendered.format())
            return text

    handler = logging.StreamHandler(stream)
    handler.setFormatter(Verbose())
    root = logging.getLogger()
    root.addHandler(handler)
    install_log_masking()  # again: handlers added since are covered too
    try:
        logger = logging.getLogger("canbao.test.verbose")
        logger.warning("extra", extra={"client": f"ID{ID} tel{MOBILE}"})
        try:
            person_number = ID  # noqa: F841  (a local the traceback renders)
            raise RuntimeError(f"failed for {MOBILE}")
        except RuntimeError:
            logger.exception("with locals")
    finally:
        root.removeHandler(handler)
    output = stream.getvalue()
    assert "person_number" in output and "client=" in output
    assert LEAK.search(output) is None, output


async def test_sql_parameters_in_a_traceback_are_masked(tmp_path: Path) -> None:
    install_log_masking()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    install_log_masking()
    try:
        async with temporary_database(None, directory=tmp_path) as engine:
            sessions = make_sessionmaker(engine)
            try:
                async with sessions() as session, session.begin():
                    # A person without a household: the insert fails with its parameters.
                    session.add(
                        Person(
                            household_id=999,
                            community_id=999,
                            street_id=999,
                            district_id=999,
                            name="测试",
                            id_number=ID,
                            mobile=MOBILE,
                        )
                    )
            except IntegrityError:
                logging.getLogger("canbao.test.sql").exception("insert failed")
    finally:
        root.removeHandler(handler)
    output = stream.getvalue()
    assert "[parameters:" in output and "IntegrityError" in output
    assert LEAK.search(output) is None, output


# ------------------------------------------------------------------------- the real server


def server(tmp_path: Path, url: str, telegram: FakeTelegram, port: int) -> BotProcess:
    return BotProcess(
        name="logged",
        argv=[sys.executable, "-m", "bot", "run", "--no-migrate", "--log-level", "DEBUG"],
        env={
            "CANBAO_BOT_TOKEN": telegram.token,
            "CANBAO_TELEGRAM_API_URL": telegram.base_url,
            "CANBAO_REDIS_URL": "",
            "CANBAO_WEBHOOK_URL": "",
            "CANBAO_DATABASE_URL": url,
            "CANBAO_DATA_DIR": str(tmp_path),
            "CANBAO_HOST": "127.0.0.1",
            "CANBAO_PORT": str(port),
            "CANBAO_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "CANBAO_SESSION_SECRET": "log-masking-tests-secret-0123456789",
        },
        health_url=f"http://127.0.0.1:{port}/healthz",
        log_path=tmp_path / "server.log",
    )


@pytest.mark.slow
async def test_a_session_full_of_numbers_leaves_none_in_the_log(tmp_path: Path) -> None:
    async with fresh_database("sqlite", tmp_path) as url:
        people = await seed_residents(url, 2, tmp_path, seed=31)
        async with FakeTelegram(reply_timeout=20) as telegram:
            port = free_port()
            process = server(tmp_path, url, telegram, port)
            process.start()
            try:
                await process.wait_healthy()
                base = f"http://127.0.0.1:{port}"
                numbers = await chat_and_browse(telegram, base, people)
            finally:
                await process.stop()
    log = (tmp_path / "server.log").read_text(encoding="utf-8", errors="replace")
    lines = log.splitlines()
    # Every kind of logger spoke …
    for source in ("aiohttp.access", "aiogram", "sqlalchemy.engine", "bot."):
        assert any(source in line for line in lines), source
    # … and no line carries a number.
    leaks = [line for line in lines if LEAK.search(line)]
    assert leaks == [], leaks[:5]
    squeezed = re.sub(r"[\s\-]", "", log)
    for number in numbers:
        assert number not in squeezed, number


async def chat_and_browse(telegram: FakeTelegram, base: str, people: list[Any]) -> list[str]:
    """A resident on Telegram and another in the browser, typing numbers everywhere."""
    first, second = people
    user = telegram.user(424242, "路人甲")
    await user.send(f"/start {first.code}")
    for text in odd_places(first.id_number, MOBILE)[:3]:
        await user.send(text)
    await user.send(first.id_number)
    for text in (*odd_places(first.id_number, MOBILE)[3:], FULL_WIDTH, FULL_WIDTH_MOBILE):
        await user.send(text)
    headers = {
        "X-Canbao-Chat": "1",
        "User-Agent": f"Mozilla/5.0 ID{second.id_number} tel{MOBILE}",
        "Referer": f"{base}/c/{second.code}?id={second.id_number}&m={MOBILE}",
        "X-Forwarded-For": f"ID{second.id_number}",
    }
    async with aiohttp.ClientSession(headers=headers) as http:
        for path in (
            f"/c/{second.id_number}",
            f"/c/{second.code}?id={second.id_number}&tel={MOBILE}",
            f"/c/{second.code}/api/state?x=ID{second.id_number}",
            f"/api/v1/records?since={second.id_number}",
            f"/console/login?next=/console/{second.id_number}",
        ):
            async with http.get(base + path) as response:
                await response.read()
        for typed in (*odd_places(second.id_number, MOBILE), FULL_WIDTH, second.id_number):
            async with http.post(
                f"{base}/c/{second.code}/api/identity", json={"id_number": typed}
            ) as response:
                await response.read()
        async with http.post(
            f"{base}/c/{second.code}/api/answer",
            data=f'{{"text": "{MOBILE}", "version": "ID{second.id_number}"}}',
            headers={"Content-Type": "application/json"},
        ) as response:
            await response.read()
        async with http.post(
            f"{base}/console/login",
            data={"username": f"ID{second.id_number}", "password": MOBILE},
        ) as response:
            await response.read()
    await asyncio.sleep(0.5)  # the last access lines
    numbers = [first.id_number, second.id_number, MOBILE, FULL_WIDTH, FULL_WIDTH_MOBILE]
    # Also as they show in logged JSON (a Telegram update's payload).
    return numbers + [json.dumps(n)[1:-1] for n in numbers]
