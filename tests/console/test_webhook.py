"""The signed outbound webhook: one POST per submission / confirmation, retried, in order."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from seed import World
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.api.webhook import WebhookSender, verify
from storage.models import AuditEvent, Staff
from storage.repositories.records import confirm, get_record

SECRET = "webhook-test-secret"


@dataclass
class Receiver:
    """A central system stand-in that records what arrives and can fail on purpose."""

    fail_next: int = 0
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        if self.fail_next:
            self.fail_next -= 1
            return web.Response(status=500)
        self.received.append((dict(request.headers), await request.read()))
        return web.Response(status=204)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    """The receiver on a loopback port, and its URL."""
    state = Receiver()
    app = web.Application()
    app.router.add_post("/hook", state.handle)
    server = TestServer(app)
    await server.start_server()
    try:
        yield state, str(server.make_url("/hook"))
    finally:
        await server.close()


async def _confirm(sessions: async_sessionmaker[AsyncSession], world: World, key: str) -> None:
    async with sessions() as db, db.begin():
        record = await get_record(db, world.records[key])
        staff = await db.get(Staff, world.staff["city"].id)
        assert staff is not None
        await confirm(db, record, staff=staff)


async def test_first_start_does_not_replay_history_then_delivers_signed_events(
    sessions: async_sessionmaker[AsyncSession], world: World, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    sender = WebhookSender(sessions, url, SECRET, public_url="https://canbao.example")
    try:
        assert await sender.step() == 0  # the submissions made before it started stay put
        await _confirm(sessions, world, "plain")
        assert await sender.step() == 1
        assert await sender.step() == 0  # nothing twice
    finally:
        await sender.close()
    headers, body = state.received[0]
    assert verify(SECRET, headers["X-Canbao-Timestamp"], body, headers["X-Canbao-Signature"])
    assert not verify(
        "other-secret", headers["X-Canbao-Timestamp"], body, headers["X-Canbao-Signature"]
    )
    payload: dict[str, Any] = json.loads(body)
    assert payload["event"] == "record.confirmed" == headers["X-Canbao-Event"]
    assert payload["record_id"] == world.records["plain"]
    assert payload["url"] == f"https://canbao.example/api/v1/records/{world.records['plain']}"
    assert "林晓" not in body.decode()  # no personal data in the notification
    async with sessions() as db:
        sent = (
            await db.scalars(select(AuditEvent).where(AuditEvent.action == "webhook_sent"))
        ).all()
    assert [e.record_id for e in sent] == [world.records["plain"]]


async def test_failures_are_retried_with_backoff_and_order_is_kept(
    sessions: async_sessionmaker[AsyncSession], world: World, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    sender = WebhookSender(sessions, url, SECRET, backoff_base=1.0, backoff_cap=4.0)
    try:
        await sender.cursor()
        await _confirm(sessions, world, "plain")
        await _confirm(sessions, world, "other")
        state.fail_next = 3
        delays = []
        for _ in range(3):
            assert await sender.step() == 0
            delays.append(sender.delay())
        assert delays == [1.0, 2.0, 4.0]
        assert await sender.step() == 2
        assert sender.delay() == sender.poll
    finally:
        await sender.close()
    ids = [json.loads(body)["record_id"] for _, body in state.received]
    assert ids == [world.records["plain"], world.records["other"]]


async def test_unreachable_receiver_counts_as_a_failure(
    sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    sender = WebhookSender(sessions, "http://127.0.0.1:9/hook", SECRET, timeout=2)
    try:
        await sender.cursor()
        await _confirm(sessions, world, "plain")
        assert await sender.step() == 0
        assert sender.failures == 1
    finally:
        await sender.close()


async def _wait_for(condition: Any, what: str, attempts: int = 100) -> None:
    import asyncio

    for _ in range(attempts):
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


async def test_the_server_runs_the_sender_when_configured(
    sessions: async_sessionmaker[AsyncSession],
    world: World,
    form: Any,
    receiver: tuple[Receiver, str],
    tmp_path: Any,
) -> None:
    from aiohttp.test_utils import TestClient

    from bot.server import create_app
    from bot.settings import Settings

    state, url = receiver
    settings = Settings(
        data_dir=tmp_path,
        session_secret="s",  # type: ignore[arg-type]
        outbound_webhook_url=url,
        outbound_webhook_secret=SECRET,  # type: ignore[arg-type]
    )
    app = create_app(settings, sessions, form)
    async with TestClient(TestServer(app)):

        async def started() -> bool:
            async with sessions() as db:
                found = await db.scalar(
                    select(AuditEvent.id).where(AuditEvent.action == "webhook_started")
                )
                return found is not None

        await _wait_for(started, "the sender to start")
        await _confirm(sessions, world, "other")

        async def delivered() -> bool:
            return bool(state.received)

        await _wait_for(delivered, "the webhook delivery", attempts=200)
    assert json.loads(state.received[0][1])["record_id"] == world.records["other"]


def test_webhook_url_without_secret_is_refused(
    sessions: async_sessionmaker[AsyncSession], form: Any, tmp_path: Any
) -> None:
    from bot.server import create_app
    from bot.settings import Settings

    settings = Settings(data_dir=tmp_path, outbound_webhook_url="http://127.0.0.1:9/")
    with pytest.raises(ValueError, match="OUTBOUND_WEBHOOK_SECRET"):
        create_app(settings, sessions, form)
