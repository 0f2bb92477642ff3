"""The signed outbound webhook: tell the central system when a record is submitted or confirmed.

The audit log is the queue: every submission and confirmation already writes an audit event in
the same transaction as the change, so nothing is added to the request path and nothing is
lost in a crash. A background sender reads the events after its cursor, POSTs one JSON
notification per event, and records each delivery as a ``webhook_sent`` audit event — which is
also the durable cursor. A failed delivery is retried with exponential backoff; events are
delivered in order, at least once (the ``X-Canbao-Delivery`` header lets the receiver drop a
repeat).

Signature: ``X-Canbao-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`` with
``X-Canbao-Timestamp`` (Unix seconds), so the receiver can also refuse old replays.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.appkeys import SESSIONMAKER, SETTINGS
from storage.models import AuditEvent, Record
from storage.repositories import Actor
from storage.repositories.audit import add_event

logger = logging.getLogger(__name__)

EVENTS = {
    "submitted": "record.submitted",
    "resubmitted": "record.submitted",
    "confirmed": "record.confirmed",
}
CURSOR_ACTIONS = ("webhook_sent", "webhook_started")
ACTOR = Actor("system", None, "中心系统通知")
BATCH = 50


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """Whether ``signature`` is right (for receivers and tests)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookSender:
    """Delivers audit events of submissions and confirmations to ``url``, in order.

    :meth:`step` does one pass and returns how many were delivered (tests drive it directly);
    :meth:`run` loops, sleeping ``poll`` seconds when idle and backing off after a failure.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        url: str,
        secret: str,
        *,
        public_url: str = "",
        poll: float = 2.0,
        backoff_base: float = 2.0,
        backoff_cap: float = 300.0,
        timeout: float = 10.0,
    ) -> None:
        self.sessions = sessions
        self.url = url
        self.secret = secret
        self.public_url = public_url.rstrip("/")
        self.poll = poll
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.failures = 0
        self._client: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def cursor(self) -> int:
        """The id of the last audit event handled; set to "now" on the very first start,
        so turning the webhook on does not replay the whole survey."""
        async with self.sessions() as db, db.begin():
            last = await db.scalar(
                select(AuditEvent)
                .where(AuditEvent.action.in_(CURSOR_ACTIONS))
                .order_by(AuditEvent.id.desc())
                .limit(1)
            )
            if last is not None:
                return int(last.details.get("event", 0))
            newest = int(await db.scalar(select(func.max(AuditEvent.id))) or 0)
            add_event(db, ACTOR, "webhook_started", details={"event": newest, "url": self.url})
            return newest

    async def _pending(self, after: int) -> list[tuple[AuditEvent, Record | None]]:
        async with self.sessions() as db:
            events = (
                await db.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.id > after, AuditEvent.action.in_(list(EVENTS)))
                    .order_by(AuditEvent.id)
                    .limit(BATCH)
                )
            ).all()
            out = []
            for event in events:
                record = await db.get(Record, event.record_id) if event.record_id else None
                out.append((event, record))
            return out

    def payload(self, event: AuditEvent, record: Record | None) -> dict[str, Any]:
        """The notification: what happened to which record (no personal data: fetch it from
        the API with a token)."""
        body: dict[str, Any] = {
            "event": EVENTS[event.action],
            "delivery": event.id,
            "occurred_at": event.at.isoformat(),
            "record_id": event.record_id,
        }
        if record is not None:
            body["status"] = str(record.status)
            body["district_id"] = record.district_id
            body["revision"] = (event.details or {}).get("revision")
            body["url"] = f"{self.public_url}/api/v1/records/{record.id}"
        return body

    async def _post(self, body: dict[str, Any]) -> None:
        if self._client is None:
            self._client = aiohttp.ClientSession(timeout=self.timeout)
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Canbao-Event": body["event"],
            "X-Canbao-Delivery": str(body["delivery"]),
            "X-Canbao-Timestamp": stamp,
            "X-Canbao-Signature": sign(self.secret, stamp, data),
        }
        async with self._client.post(self.url, data=data, headers=headers) as response:
            if response.status >= 300:
                raise RuntimeError(f"HTTP {response.status}")

    async def step(self) -> int:
        """Deliver what is pending, in order; stop at the first failure (retried later)."""
        after = await self.cursor()
        delivered = 0
        for event, record in await self._pending(after):
            try:
                await self._post(self.payload(event, record))
            except (aiohttp.ClientError, TimeoutError, RuntimeError) as exc:
                self.failures += 1
                logger.warning(
                    "webhook delivery %s failed (%s), attempt %s", event.id, exc, self.failures
                )
                return delivered
            self.failures = 0
            async with self.sessions() as db, db.begin():
                add_event(
                    db,
                    ACTOR,
                    "webhook_sent",
                    record_id=event.record_id,
                    channel="webhook",
                    details={"event": event.id, "kind": EVENTS[event.action]},
                )
            delivered += 1
        return delivered

    def delay(self) -> float:
        """Seconds to wait before the next pass."""
        if not self.failures:
            return self.poll
        return min(self.backoff_base * float(2 ** (self.failures - 1)), self.backoff_cap)

    async def run(self) -> None:
        """Deliver forever (cancel to stop)."""
        try:
            while True:
                try:
                    delivered = await self.step()
                except Exception:  # the database may be briefly away: keep the loop alive
                    logger.exception("webhook sender pass failed")
                    self.failures += 1
                    delivered = 0
                if not delivered or self.failures:
                    await asyncio.sleep(self.delay())
        finally:
            await self.close()


def setup_webhook(app: web.Application) -> None:
    """Run a :class:`WebhookSender` beside the server when ``outbound_webhook_url`` is set."""
    settings = app[SETTINGS]
    if not settings.outbound_webhook_url:
        return
    secret = settings.outbound_webhook_secret
    if secret is None or not secret.get_secret_value():
        raise ValueError("CANBAO_OUTBOUND_WEBHOOK_URL needs CANBAO_OUTBOUND_WEBHOOK_SECRET")

    async def sender(app: web.Application) -> AsyncIterator[None]:
        worker = WebhookSender(
            app[SESSIONMAKER],
            str(settings.outbound_webhook_url),
            secret.get_secret_value(),
            public_url=settings.public_url,
        )
        task = asyncio.create_task(worker.run(), name="webhook-sender")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(sender)
