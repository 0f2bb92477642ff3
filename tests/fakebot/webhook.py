"""Webhook mode: POST each pending update to the bot's URL with the secret token header.

As Telegram does, a non-2xx answer or a failed connection leaves the update pending and it is
tried again later; a method returned in the answer body is executed like a call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import TYPE_CHECKING, Any

import aiohttp

from tests.fakebot.updates import PendingUpdate
from tests.fakebot.wire import Params, decode_field

if TYPE_CHECKING:
    from tests.fakebot.server import FakeTelegram

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_KEEP = object()


class WebhookDelivery:
    """The webhook settings and the task that delivers updates to the bot's URL."""

    def __init__(self, server: FakeTelegram, retry_delay: float = 0.05) -> None:
        self._server = server
        self.url = ""
        self.secret_token: str | None = None
        self.max_connections = 40
        self.retry_delay = retry_delay
        # Tests set this to send a wrong secret (a string) or none at all (None).
        self.secret_override: Any = _KEEP
        self.last_error_date: int | None = None
        self.last_error_message: str | None = None
        self.attempts: list[tuple[int, int | str]] = []  # (update_id, HTTP status or error)
        self._attempted = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def configure(
        self, *, url: str, secret_token: str | None, max_connections: int = 40, drop_pending: bool
    ) -> None:
        """Apply ``setWebhook`` / ``deleteWebhook``."""
        if drop_pending:
            self._server.updates.drop_all()
        self.url = url
        self.secret_token = secret_token
        self.max_connections = max(1, min(max_connections, 100))
        if url and self._task is None:
            self._task = asyncio.create_task(self._run(), name="fakebot-webhook")
        elif not url and self._task is not None:
            self._task.cancel()
            self._task = None

    def info(self) -> dict[str, Any]:
        """The ``WebhookInfo`` object."""
        info: dict[str, Any] = {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": self._server.updates.pending_count,
            "max_connections": self.max_connections,
        }
        if self.last_error_message:
            info["last_error_date"] = self.last_error_date
            info["last_error_message"] = self.last_error_message
        return info

    async def wait_attempts(self, count: int, within: float = 5.0) -> None:
        """Wait until at least ``count`` deliveries were attempted (any outcome)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while len(self.attempts) < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"only {len(self.attempts)} webhook deliveries attempted within {within} s, "
                    f"expected {count}: {self.attempts}"
                )
            self._attempted.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._attempted.wait()

    async def stop(self) -> None:
        """Stop delivering (server shutdown)."""
        self.url = ""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        queue = self._server.updates
        loop = asyncio.get_running_loop()
        tasks: set[asyncio.Task[None]] = set()
        async with aiohttp.ClientSession() as http:
            try:
                while self.url:
                    free = self.max_connections - queue.in_flight_count()
                    for update in queue.take_due(loop.time(), max(free, 0)):
                        task = asyncio.create_task(self._deliver(http, update))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                    next_retry = queue.next_retry()
                    wait = 1.0 if next_retry is None else max(next_retry - loop.time(), 0.005)
                    await queue.wait_changed(min(wait, 1.0))
            finally:
                for task in tasks:
                    task.cancel()

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        secret = self.secret_token if self.secret_override is _KEEP else self.secret_override
        if secret is not None:
            headers[SECRET_HEADER] = secret
        return headers

    async def _deliver(self, http: aiohttp.ClientSession, update: PendingUpdate) -> None:
        loop = asyncio.get_running_loop()
        status: int | str
        try:
            async with http.post(
                self.url, data=json.dumps(update.payload), headers=self._headers()
            ) as resp:
                status = resp.status
                if 200 <= resp.status < 300:
                    await self._execute_answer(resp)
                else:
                    await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            status = f"{type(exc).__name__}: {exc}"
        self.attempts.append((update.update_id, status))
        self._attempted.set()
        if isinstance(status, int) and 200 <= status < 300:
            self._server.updates.confirm(update)
            self._server.mark_handled(update.update_id)
            return
        self.last_error_date = int(time.time())
        self.last_error_message = (
            f"Wrong response from the webhook: {status}"
            if isinstance(status, int)
            else f"Connection failed: {status}"
        )
        self._server.updates.release(update, loop.time() + self.retry_delay)

    async def _execute_answer(self, resp: aiohttp.ClientResponse) -> None:
        """Run a method the bot returned in the webhook answer, as Telegram does."""
        params = Params(values={})
        if resp.content_type.startswith("multipart/"):
            reader = aiohttp.MultipartReader.from_response(resp)
            while True:
                part = await reader.next()
                if part is None:
                    break
                if isinstance(part, aiohttp.BodyPartReader) and part.name:
                    params.values[part.name] = decode_field(part.name, await part.text())
        else:
            body = await resp.read()
            if body:
                with contextlib.suppress(ValueError):
                    data = json.loads(body)
                    if isinstance(data, dict):
                        params.values.update(data)
        name = params.values.pop("method", None)
        if isinstance(name, str) and name:
            await self._server.execute(name, params, via="webhook answer")
