"""The echo bot on the full canbao stack: inbox, DB session per update, FSM, isolation, i18n.

Between :mod:`bench.echo_bot` (bare aiogram) and ``canbao run`` (the whole conversation), it
shows what the exactly-once plumbing costs per update before any form logic runs::

    CANBAO_BOT_TOKEN=… CANBAO_TELEGRAM_API_URL=… CANBAO_DATABASE_URL=… python -m bench.stack_echo
"""

from __future__ import annotations

import asyncio
import signal

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message

from bot.settings import Settings
from bot.telegram.service import Service
from storage.db import ensure_schema, make_engine, make_sessionmaker

router = Router(name="stack-echo")


@router.message(F.text)
async def echo(message: Message) -> None:
    """One reply per text message."""
    await message.answer(message.text or "")


@router.callback_query()
async def clicked(query: CallbackQuery) -> None:
    """One answer per button press."""
    await query.answer()


async def serve() -> None:
    settings = Settings()
    engine = make_engine(settings.database_url)
    await ensure_schema(engine)
    service = Service(settings, sessionmaker=make_sessionmaker(engine), form=None, router=router)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await service.start()
    await stop.wait()
    await service.stop()
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(serve())
