"""A fake Telegram Bot API server on loopback, speaking the real wire format.

Start it, point the bot's ``TelegramAPIServer.from_base`` at :attr:`FakeTelegram.base_url`, and
talk to the bot as users (:meth:`FakeTelegram.user`). The server keeps each chat's history with
inline keyboards, counts calls per method, and can inject 429s, 5xx and cut connections.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.methods import TelegramMethod
from aiogram.types import TelegramObject, Update
from aiohttp import web

from tests.fakebot.chats import ChatStore
from tests.fakebot.faults import Fault, FaultPlan
from tests.fakebot.methods import METHODS
from tests.fakebot.model import Call, ChatMessage
from tests.fakebot.updates import UpdateQueue
from tests.fakebot.user import FakeUser
from tests.fakebot.webhook import WebhookDelivery
from tests.fakebot.wire import ApiError, Params, error, ok, read_params

DEFAULT_TOKEN = "4242424242:AAFakeTokenForTests_canbao-0123456789"


class FakeTelegram:
    """The fake Bot API. Use as ``async with FakeTelegram() as server: ...``."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        username: str = "canbao_test_bot",
        # How long a test waits for the bot before it fails: a bound on liveness, not a
        # timing claim. A loaded CI machine has stalled single updates for seconds.
        reply_timeout: float = 20.0,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "参保登记",
            "username": username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.reply_timeout = reply_timeout
        self.users: dict[int, FakeUser] = {}
        self.chats = ChatStore()
        self.updates = UpdateQueue()
        self.webhook = WebhookDelivery(self)
        self.faults = FaultPlan()
        self.calls: list[Call] = []
        # Calls counted when they arrive (a long poll is in ``calls`` only once it returns).
        self.arrived: Counter[str] = Counter()
        self._arrival = asyncio.Event()
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.callback_queries: dict[str, dict[str, Any]] = {}
        # Set by completion_middleware(): the bot tells us when it finished an update.
        self.tracks_completion = False
        self._handled: dict[int, asyncio.Event] = {}
        self._after_call: list[tuple[str, int]] = []
        self._seq = itertools.count(1)
        self._files = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._port = 0

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> FakeTelegram:
        """Listen on 127.0.0.1 at a free port."""
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self._port = server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        """Stop serving; long polls return at once."""
        self.updates.close()
        await self.webhook.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """The base URL for ``TelegramAPIServer.from_base``."""
        return f"http://127.0.0.1:{self._port}"

    # -- users and chats -------------------------------------------------------------------
    def user(self, user_id: int, first_name: str, *, language_code: str = "zh-hans") -> FakeUser:
        """A Telegram user with a private chat with the bot (the same object on every call)."""
        if user_id not in self.users:
            self.users[user_id] = FakeUser(self, user_id, first_name, language_code)
        return self.users[user_id]

    def quiet_week(self, *, first_update_id: int, days: int = 8) -> None:
        """Let ``days`` pass without updates: message dates move on, and Telegram chooses the
        next update id afresh (here ``first_update_id``, usually lower than before)."""
        self.chats.clock_offset += days * 86_400
        self.updates.restart_ids(first_update_id)
        self._handled.clear()  # what the bot finished of the earlier ids says nothing now

    def message_wire(self, message: ChatMessage) -> dict[str, Any]:
        """The ``Message`` object for a chat message."""
        user = self.users[message.chat_id]
        wire: dict[str, Any] = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "from": self.bot_user if message.from_bot else user.wire,
        }
        if message.kind == "document":
            wire["document"] = message.document
            if message.text:
                wire["caption"] = message.text
        elif message.text is not None:
            wire["text"] = message.text
        if message.from_bot and message.raw_reply_markup:
            wire["reply_markup"] = message.raw_reply_markup
        if message.edits:
            wire["edit_date"] = message.date
        return wire

    def next_file_seq(self) -> int:
        """A fresh number for file ids."""
        return next(self._files)

    # -- faults ----------------------------------------------------------------------------
    def fail(
        self,
        methods: str | Iterable[str] | None,
        *,
        status: int = 500,
        times: int | None = 1,
        seconds: float | None = None,
        retry_after: int | None = None,
    ) -> Fault:
        """Answer the next ``times`` calls (or all for ``seconds``) of ``methods`` with an error.

        ``status=429`` needs ``retry_after`` (seconds), as Telegram's flood control sends it.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        return self.faults.add(
            Fault(
                "status",
                _methods(methods),
                status=status,
                retry_after=retry_after,
                remaining=times if seconds is None else None,
                until=self._deadline(seconds),
            )
        )

    def drop(
        self,
        methods: str | Iterable[str] | None = None,
        *,
        times: int | None = 1,
        seconds: float | None = None,
    ) -> Fault:
        """Cut the connection without an answer on the next ``times`` calls or for ``seconds``."""
        return self.faults.add(
            Fault(
                "drop",
                _methods(methods),
                remaining=times if seconds is None else None,
                until=self._deadline(seconds),
            )
        )

    def slow(
        self, methods: str | Iterable[str] | None, *, delay: float, times: int | None = 1
    ) -> Fault:
        """Answer the next ``times`` calls of ``methods`` normally, but ``delay`` seconds late
        (a slow network or a busy Telegram)."""
        return self.faults.add(Fault("slow", _methods(methods), remaining=times, delay=delay))

    def _deadline(self, seconds: float | None) -> float | None:
        return None if seconds is None else asyncio.get_running_loop().time() + seconds

    # -- call records ----------------------------------------------------------------------
    def calls_of(self, method: str, *, ok_only: bool = False) -> list[Call]:
        """Calls of one method (case-insensitive), in arrival order."""
        name = method.lower()
        return [c for c in self.calls if c.method.lower() == name and (c.ok or not ok_only)]

    @property
    def call_counts(self) -> Counter[str]:
        """How many calls each method got (faulted ones included)."""
        return Counter(c.method for c in self.calls)

    def sends_to(self, chat_id: int) -> list[Call]:
        """Successful message-producing calls to a chat."""
        return [
            c
            for c in self.calls
            if c.ok and c.chat_id == chat_id and c.method.lower() in ("sendmessage", "senddocument")
        ]

    async def wait_call(self, method: str, *, answered: bool = True, within: float = 10.0) -> None:
        """Wait until a call of ``method`` has been answered (or, with ``answered=False``,
        has arrived: a long poll is answered only when it returns)."""

        def seen() -> bool:
            return bool(self.calls_of(method)) if answered else bool(self.arrived[method])

        async with asyncio.timeout(within):
            while not seen():
                self._arrival.clear()
                await self._arrival.wait()

    async def wait_arrived(self, method: str, count: int, *, within: float = 10.0) -> None:
        """Wait until ``count`` calls of ``method`` have arrived (answered or not yet)."""
        async with asyncio.timeout(within):
            while self.arrived[method] < count:
                self._arrival.clear()
                await self._arrival.wait()

    # -- completion ------------------------------------------------------------------------
    def completion_middleware(self) -> BaseMiddleware:
        """An outer update middleware telling this server when the bot finished an update.

        Install it outermost so skipped (duplicate) updates are reported too; with it,
        ``wait_reply`` waits for exactly the end of the bot's handling.
        """
        self.tracks_completion = True
        return _CompletionMiddleware(self)

    def mark_handled(self, update_id: int) -> None:
        """Record that the bot finished handling ``update_id``."""
        self._handled.setdefault(update_id, asyncio.Event()).set()

    def mark_handled_after(self, update_id: int, method: str) -> None:
        """Mark ``update_id`` handled when the next call of ``method`` has been answered."""
        self._after_call.append((method.lower(), update_id))

    def forget_handled(self, update_id: int) -> None:
        """Clear the completion mark of an update about to be delivered again."""
        self._handled.pop(update_id, None)

    def handled(self, update_id: int) -> bool:
        """Whether the bot finished handling ``update_id``."""
        event = self._handled.get(update_id)
        return event is not None and event.is_set()

    async def wait_handled(self, update_id: int, within: float | None = None) -> None:
        """Wait until the bot finished ``update_id``; a clear AssertionError after
        ``within`` seconds (default :attr:`reply_timeout`)."""
        timeout = self.reply_timeout if within is None else within
        if not self.tracks_completion and not self.webhook.url:
            await self._wait_quiet(update_id, timeout)
            return
        event = self._handled.setdefault(update_id, asyncio.Event())
        try:
            async with asyncio.timeout(timeout):
                await event.wait()
        except TimeoutError:
            raise AssertionError(self._not_answered(update_id, timeout)) from None

    async def _wait_quiet(self, update_id: int, within: float) -> None:
        # Without a completion signal: wait for a call after delivery, then for a lull.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            delivered = self.updates.delivered_at.get(update_id)
            last = self.calls[-1].at if self.calls else 0.0
            if delivered is not None and last > delivered and loop.time() - last > 0.15:
                return
            if loop.time() > deadline:
                raise AssertionError(self._not_answered(update_id, within))
            await asyncio.sleep(0.02)

    def _not_answered(self, update_id: int, timeout: float) -> str:
        delivered = self.updates.delivered_at.get(update_id)
        since = [
            f"{c.method}({c.status})" for c in self.calls if delivered is None or c.at >= delivered
        ]
        return (
            f"the bot did not finish update {update_id} ({self.updates.labels.get(update_id)}) "
            f"within {timeout} s; delivered: {'yes' if delivered is not None else 'no'}; "
            f"calls since: {since[-15:] or 'none'}"
        )

    # -- the HTTP side ---------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        arrived = asyncio.get_running_loop().time()
        method = request.match_info["method"]
        self.arrived[method] += 1
        self._arrival.set()
        try:
            params = await read_params(request)
        except ApiError as exc:
            self._record(method, {}, arrived, exc.code)
            return error(exc)
        transport = request.transport
        params.connected = lambda: transport is not None and not transport.is_closing()
        if request.match_info["token"] != self.token:
            self._record(method, params.values, arrived, 401)
            return error(ApiError(401, "Unauthorized"))
        fault = self.faults.take(method, arrived)
        if fault is not None and fault.kind == "drop":
            self._record(method, params.values, arrived, "dropped")
            # Close the socket without an answer: the client sees a disconnect.
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        if fault is not None and fault.kind == "slow":
            await asyncio.sleep(fault.delay)
            fault = None
        if fault is not None:
            exc = fault.error()
            self._record(method, params.values, arrived, exc.code)
            return error(exc)
        try:
            result = await self.execute(method, params, arrived=arrived)
        except ApiError as exc:
            return error(exc)
        return ok(result)

    async def execute(
        self, method: str, params: Params, *, arrived: float | None = None, via: str = "http"
    ) -> Any:
        """Run a method and record the call; raises :class:`ApiError` for error answers."""
        arrived = asyncio.get_running_loop().time() if arrived is None else arrived
        implementation = METHODS.get(method.lower())
        try:
            if implementation is None:
                raise ApiError(404, "Not Found")
            result = await implementation(self, params)
        except ApiError as exc:
            self._record(method, params.values, arrived, exc.code)
            raise
        self._record(method, params.values, arrived, 200)
        return result

    def _record(self, method: str, values: dict[str, Any], at: float, status: int | str) -> None:
        self.calls.append(Call(method, dict(values), at, status, next(self._seq)))
        self._arrival.set()
        for waiting in [w for w in self._after_call if w[0] == method.lower()]:
            self._after_call.remove(waiting)
            self.mark_handled(waiting[1])
            break


def _methods(methods: str | Iterable[str] | None) -> frozenset[str] | None:
    if methods is None:
        return None
    if isinstance(methods, str):
        return frozenset({methods.lower()})
    return frozenset(m.lower() for m in methods)


class _CompletionMiddleware(BaseMiddleware):
    def __init__(self, server: FakeTelegram) -> None:
        self._server = server

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        deferred = False
        try:
            result = await handler(event, data)
            if isinstance(result, TelegramMethod) and isinstance(event, Update):
                # Polling runs a returned method after the middlewares: done when it arrives.
                self._server.mark_handled_after(event.update_id, result.__api_method__)
                deferred = True
            return result
        finally:
            # In webhook mode an update is finished when its HTTP answer arrives.
            if isinstance(event, Update) and not self._server.webhook.url and not deferred:
                self._server.mark_handled(event.update_id)
