"""Bot API calls go as a JSON body (cheaper to encode than a form); a call with a file goes as
multipart, as aiogram sends it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import web

from bot.telegram.factory import PinnedResponseSession
from tests.telegram.conftest import free_port

MESSAGE = {"message_id": 7, "date": 1_700_000_000, "chat": {"id": 42, "type": "private"}}


class Recorder:
    """A Bot API stand-in that keeps each request's content type and fields."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []

    async def handle(self, request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            fields = await request.json()
        else:
            form = await request.post()
            fields = {k: getattr(v, "filename", v) for k, v in form.items()}
        self.requests.append((request.content_type, fields))
        if request.match_info["method"] == "deleteMessage":
            body = {"ok": False, "error_code": 400, "description": "Bad Request: not found"}
            return web.json_response(body, status=400)
        return web.json_response({"ok": True, "result": MESSAGE})


@pytest.fixture
async def api() -> AsyncIterator[tuple[Recorder, Bot]]:
    recorder = Recorder()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", recorder.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    session = PinnedResponseSession(api=TelegramAPIServer.from_base(f"http://127.0.0.1:{port}"))
    bot = Bot(
        "42:TEST-token",
        session=session,
        default=DefaultBotProperties(link_preview_is_disabled=True),
    )
    try:
        yield recorder, bot
    finally:
        await session.close()
        await runner.cleanup()


async def test_a_call_without_a_file_is_sent_as_json(api: tuple[Recorder, Bot]) -> None:
    recorder, bot = api
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="从未参保", callback_data="q:1:2:c:never")]]
    )
    sent = await bot.send_message(42, "第 1/8 题　参保状态", reply_markup=keyboard)
    assert sent.message_id == 7
    content_type, fields = recorder.requests[-1]
    assert content_type == "application/json"
    # Typed values, nested objects as objects, the bot's defaults filled in, None left out.
    assert fields == {
        "chat_id": 42,
        "text": "第 1/8 题　参保状态",
        "reply_markup": {
            "inline_keyboard": [[{"text": "从未参保", "callback_data": "q:1:2:c:never"}]]
        },
        "link_preview_options": {"is_disabled": True},
        "disable_web_page_preview": True,
    }
    json.dumps(fields)  # nothing but JSON values


async def test_an_api_error_is_raised_as_with_a_form(api: tuple[Recorder, Bot]) -> None:
    _, bot = api
    with pytest.raises(TelegramBadRequest, match="not found"):
        await bot.delete_message(42, 7)


async def test_a_call_with_a_file_is_sent_as_multipart(api: tuple[Recorder, Bot]) -> None:
    recorder, bot = api
    await bot.send_document(42, BufferedInputFile(b"a,b\n1,2\n", filename="export.csv"))
    content_type, fields = recorder.requests[-1]
    assert content_type == "multipart/form-data"
    assert fields["chat_id"] == "42" and "export.csv" in fields.values()
