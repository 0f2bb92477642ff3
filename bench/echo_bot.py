"""The floor: a minimal aiogram bot that echoes every text and answers every button.

It runs exactly like ``canbao run`` does (long polling with the same concurrency limit, or a
webhook answered after handling), without a store, a form or middlewares, so the load driver's
figures against it show what aiogram and the fake server cost on their own. It also answers
the web chat's ``POST /c/<code>/api/<action>`` with a JSON view of the same shape, without
a store: the web chat's floor::

    python -m bench.echo_bot --api http://127.0.0.1:PORT --token TOKEN --port 8081
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.telegram.dispatcher import TASKS_CONCURRENCY_LIMIT

SECRET = "bench-secret_0123456789"
router = Router(name="echo")


@router.message(F.text)
async def echo(message: Message) -> None:
    """One reply per text message."""
    await message.answer(message.text or "")


@router.message()
async def other(message: Message) -> None:
    """One reply per non-text message."""
    await message.answer("?")


@router.callback_query()
async def clicked(query: CallbackQuery) -> None:
    """One answer per button press."""
    await query.answer()


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


# What the web chat answers a step with, in shape and size: the next question with its
# choices and the summary so far (``bot.webchat.present.conversation_view``).
WEB_VIEW = {
    "person": {"name": "张**", "id": "3205**********1234"},
    "version": 0,
    "reference": "CB00000001",
    "status": "draft",
    "status_text": "填写中",
    "notices": [],
    "stage": "question",
    "prompt": {
        "state": "insured_status",
        "name": "insured_status",
        "part": None,
        "kind": "select_one",
        "label": "当前参保状态",
        "hint": "请选择最符合的一项",
        "choices": [
            {"code": f"c{n}", "label": label, "selected": False}
            for n, label in enumerate(["从未参保", "在外地参保", "参保后断保", "其他"])
        ],
        "allow_text": False,
        "optional": False,
        "current": None,
        "prefilled": False,
        "step": 7,
        "total": 30,
        "remaining": 23,
    },
    "summary": [
        {"name": f"field{n}", "label": f"第{n}项", "value": "已填写的内容", "editable": True}
        for n in range(8)
    ],
    "warnings": [],
    "can_back": True,
}


async def web_answer(request: web.Request) -> web.Response:
    """The web chat's floor: the same route and JSON in and out, no store and no form."""
    if request.headers.get("X-Canbao-Chat") != "1":
        return web.json_response({"error": "forbidden"}, status=403)
    body = await request.json()
    view = dict(WEB_VIEW, version=int(body.get("version", 0)) + 1)
    return web.json_response({"view": view})


async def serve(api: str, token: str, port: int, webhook_url: str | None) -> None:
    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api)))
    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/c/{code}/api/{action}", web_answer)
    if webhook_url:
        SimpleRequestHandler(
            dispatcher, bot, handle_in_background=False, secret_token=SECRET
        ).register(app, path="/telegram/webhook")
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    polling: asyncio.Task[None] | None = None
    if webhook_url:
        await bot.set_webhook(webhook_url, secret_token=SECRET)
    else:
        await bot.delete_webhook()
        polling = asyncio.create_task(
            dispatcher.start_polling(
                bot,
                polling_timeout=30,
                handle_signals=False,
                close_bot_session=False,
                tasks_concurrency_limit=TASKS_CONCURRENCY_LIMIT,
            )
        )
    await stop.wait()
    if polling is not None:
        await dispatcher.stop_polling()
        await asyncio.wait([polling], timeout=5)
    await runner.cleanup()
    await bot.session.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--webhook-url")
    args = parser.parse_args()
    asyncio.run(serve(args.api, args.token, args.port, args.webhook_url))


if __name__ == "__main__":
    main()
