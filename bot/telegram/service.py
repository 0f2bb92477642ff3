"""One process: the web server, the bot (long polling or webhook) and the outbox sender.

    service = Service(settings, sessionmaker=sessions, form=form)
    await service.start()
    ...
    await service.stop()

Start-up order matters: updates left unfinished by a previous run are replayed before new
ones are taken; the webhook is set only once the web server listens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher, Router
from aiogram.fsm.storage.base import BaseStorage
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.server import create_app
from bot.settings import Settings
from bot.telegram.dispatcher import TASKS_CONCURRENCY_LIMIT, create_dispatcher
from bot.telegram.factory import create_bot
from bot.telegram.fsm import OrderedRedisIsolation
from bot.telegram.outbox import OutboxSender, Renderer, render_payload
from bot.telegram.reminders import run_reminders
from bot.telegram.replay import replay_unprocessed
from bot.telegram.retry import RetryPolicy

logger = logging.getLogger(__name__)

POLLING_TIMEOUT = 30  # seconds a getUpdates long poll waits for updates
SHUTDOWN_GRACE = 10.0  # seconds the polling loop gets to finish the updates in hand


class Service:
    """The running application; :meth:`start` then :meth:`stop` (or ``async with``)."""

    def __init__(
        self,
        settings: Settings,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        form: Any,
        chat_sessionmaker: async_sessionmaker[AsyncSession] | None = None,
        router: Router | None = None,
        fsm_storage: BaseStorage | None = None,
        outer_middlewares: Sequence[BaseMiddleware] = (),
        retry: RetryPolicy | None = None,
        render: Renderer = render_payload,
        polling_timeout: int = POLLING_TIMEOUT,
        outbox_idle_interval: float = 1.0,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        # Updates (and their replay) may go through an engine of their own: see
        # storage.db.make_engine(for_updates=True). The web app, the outbox and reminders use
        # ``sessionmaker``, so a long console query never holds up a resident's answer.
        self.chat_sessionmaker = chat_sessionmaker or sessionmaker
        self.form = form
        self._router = router
        self._fsm_storage = fsm_storage
        self._outer_middlewares = outer_middlewares
        self._retry = retry
        self._render = render
        self._polling_timeout = polling_timeout
        self._outbox_idle_interval = outbox_idle_interval
        self.bot: Bot | None = None
        self.dispatcher: Dispatcher | None = None
        self.sender: OutboxSender | None = None
        self.app: web.Application | None = None
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._reminders_stop = asyncio.Event()
        self._stopped = False

    @property
    def mode(self) -> str:
        """``webhook``, ``polling`` or ``off`` (no bot token)."""
        if self.bot is None:
            return "off"
        return "webhook" if self.settings.webhook_url else "polling"

    async def start(self) -> None:
        """Listen on ``settings.host:port``, then take Telegram updates and send the outbox."""
        settings = self.settings
        if settings.bot_token is not None and settings.bot_token.get_secret_value():
            self.bot = create_bot(settings, retry=self._retry)
            self.dispatcher = create_dispatcher(
                settings,
                self.chat_sessionmaker,
                self.form,
                self._fsm_storage,
                router=self._router,
                outer_middlewares=self._outer_middlewares,
            )
            # Before the webhook route listens: no update of this run holds a lock yet.
            await self._release_own_locks(self.bot, self.dispatcher)
        else:
            logger.warning("CANBAO_BOT_TOKEN is not set: running the web server only, no bot")
        self.app = create_app(
            settings, self.sessionmaker, self.form, bot=self.bot, dispatcher=self.dispatcher
        )
        self._runner = web.AppRunner(self.app, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, settings.host, settings.port).start()
        logger.info("web server listening on http://%s:%d", settings.host, settings.port)
        if self.bot is None or self.dispatcher is None:
            return
        replayed = await replay_unprocessed(self.dispatcher, self.bot, self.chat_sessionmaker)
        if replayed:
            logger.info("replayed %d unfinished updates", replayed)
        if settings.webhook_url:
            await self._start_webhook(self.bot, self.dispatcher)
        else:
            await self._start_polling(self.bot, self.dispatcher)
        self.sender = OutboxSender.from_settings(
            self.bot,
            self.sessionmaker,
            settings,
            render=self._render,
            idle_interval=self._outbox_idle_interval,
        )
        self._tasks.append(asyncio.create_task(self.sender.run(), name="outbox-sender"))
        self._tasks.append(
            asyncio.create_task(
                run_reminders(self.sessionmaker, settings, stop=self._reminders_stop),
                name="reminders",
            )
        )

    @staticmethod
    async def _release_own_locks(bot: Bot, dispatcher: Dispatcher) -> None:
        isolation = dispatcher.fsm.events_isolation
        if not isinstance(isolation, OrderedRedisIsolation):
            return
        freed = await isolation.release_own(bot.id)
        if freed:
            logger.warning(
                "freed %d per-user locks left by an earlier run of worker %s",
                freed,
                isolation.owner,
            )

    async def _start_webhook(self, bot: Bot, dispatcher: Dispatcher) -> None:
        assert self.settings.webhook_url is not None and self.settings.webhook_secret is not None
        await bot.set_webhook(
            self.settings.webhook_url,
            secret_token=self.settings.webhook_secret.get_secret_value(),
            allowed_updates=dispatcher.resolve_used_update_types(),
            drop_pending_updates=False,
        )
        logger.info("Telegram webhook set; updates arrive at %s", self.settings.webhook_path)

    async def _start_polling(self, bot: Bot, dispatcher: Dispatcher) -> None:
        # A webhook left from an earlier deployment would make getUpdates fail with 409.
        await bot.delete_webhook(drop_pending_updates=False)
        self._tasks.append(
            asyncio.create_task(
                dispatcher.start_polling(
                    bot,
                    polling_timeout=self._polling_timeout,
                    handle_signals=False,
                    close_bot_session=False,
                    tasks_concurrency_limit=TASKS_CONCURRENCY_LIMIT,
                ),
                name="telegram-polling",
            )
        )
        logger.info("Telegram long polling started")

    async def stop(self) -> None:
        """Stop taking updates, finish the web server, close connections (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        if self.dispatcher is not None:
            with contextlib.suppress(RuntimeError):  # polling not running (webhook mode)
                await self.dispatcher.stop_polling()
        if self.sender is not None:
            # Asked to end between database calls; cancelling them mid-call would leave a
            # half-reset pooled connection (and a traceback) behind.
            self.sender.request_stop()
        self._reminders_stop.set()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=SHUTDOWN_GRACE)
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.dispatcher is not None:
            await self.dispatcher.storage.close()
            await self.dispatcher.fsm.events_isolation.close()
        if self.bot is not None:
            await self.bot.session.close()

    async def __aenter__(self) -> Service:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
