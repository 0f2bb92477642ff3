"""The bot in webhook mode: the secret token is checked before anything is processed."""

from __future__ import annotations

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import InboxUpdate
from tests.fakebot import FakeTelegram, echo
from tests.telegram.conftest import WEBHOOK_SECRET, StartService


@pytest.fixture(autouse=True)
def fresh_control() -> None:
    echo.reset()


async def _inbox_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(InboxUpdate)) or 0)


async def test_webhook_replies(tg: FakeTelegram, start_service: StartService) -> None:
    service = await start_service(router=echo.router, mode="webhook")
    assert tg.webhook.url == service.settings.webhook_url
    assert tg.webhook.secret_token == WEBHOOK_SECRET
    user = tg.user(2001, "张三")

    await user.send("网页钩子")
    await user.click("好的")

    assert user.last_message.text == "已确认"
    assert tg.call_counts["getUpdates"] == 0
    assert tg.webhook.info()["pending_update_count"] == 0


async def test_webhook_duplicate_delivery_is_handled_once(
    tg: FakeTelegram, start_service: StartService
) -> None:
    await start_service(router=echo.router, mode="webhook")
    user = tg.user(2002, "李四")
    await user.send("一次")
    await user.repeat_last()
    assert echo.control.calls["echo"] == 1
    assert len(tg.sends_to(user.id)) == 1


async def test_webhook_with_429_on_reply(tg: FakeTelegram, start_service: StartService) -> None:
    await start_service(router=echo.router, mode="webhook")
    user = tg.user(2003, "王五")
    tg.fail("sendMessage", status=429, retry_after=1)
    await user.send("限流")
    calls = tg.calls_of("sendMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= 1.0


@pytest.mark.parametrize("secret", ["wrong-secret", None], ids=["wrong", "missing"])
async def test_wrong_or_missing_secret_is_401_and_nothing_processed(
    tg: FakeTelegram,
    start_service: StartService,
    sessions: async_sessionmaker[AsyncSession],
    secret: str | None,
) -> None:
    service = await start_service(router=echo.router, mode="webhook")
    url = service.settings.webhook_url
    assert url is not None
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 2004, "type": "private"},
            "from": {"id": 2004, "is_bot": False, "first_name": "赵六"},
            "text": "伪造",
        },
    }
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, json=update, headers=headers) as resp,
    ):
        assert resp.status == 401

    # The fake Telegram, sending with the wrong secret, is refused the same way.
    tg.webhook.secret_override = secret
    user = tg.user(2005, "钱七")
    await user.send("也被拒绝", wait=False)
    await tg.webhook.wait_attempts(2)

    assert {status for _, status in tg.webhook.attempts} == {401}
    assert tg.webhook.info()["pending_update_count"] == 1
    assert "401" in tg.webhook.info()["last_error_message"]
    assert echo.control.calls == {}
    assert await _inbox_count(sessions) == 0
    assert tg.call_counts["sendMessage"] == 0

    # With the right secret again, the pending update is delivered and handled.
    tg.webhook.secret_override = WEBHOOK_SECRET
    await user.wait_reply()
    assert user.last_message.text == "echo: 也被拒绝"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{not json",
        b"\xff\xfe\x00",
        b"[1, 2]",
        b'"update"',
        b'{"update_id": "x"}',
        b'{"update_id": 5, "message": {"chat": 1}}',
        b"[" * 5000,
    ],
    ids=["empty", "broken", "bytes", "list", "string", "bad-id", "bad-message", "deep"],
)
async def test_malformed_body_with_right_secret_is_400_and_nothing_processed(
    tg: FakeTelegram,
    start_service: StartService,
    sessions: async_sessionmaker[AsyncSession],
    body: bytes,
) -> None:
    service = await start_service(router=echo.router, mode="webhook")
    url = service.settings.webhook_url
    assert url is not None
    headers = {
        "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
        "Content-Type": "application/json",
    }
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as resp:
        assert resp.status == 400
    assert echo.control.calls == {}
    assert await _inbox_count(sessions) == 0

    # The endpoint still works for a real update afterwards.
    user = tg.user(2006, "孙八")
    await user.send("之后")
    assert user.last_message.text == "echo: 之后"


async def test_healthz(tg: FakeTelegram, start_service: StartService) -> None:
    service = await start_service(router=echo.router, mode="webhook")
    base = f"http://127.0.0.1:{service.settings.port}"
    async with aiohttp.ClientSession() as http, http.get(f"{base}/healthz") as resp:
        assert resp.status == 200
        assert await resp.json() == {"status": "ok", "telegram": "webhook", "database": "ok"}


async def test_web_only_without_token(
    tg: FakeTelegram, start_service: StartService, make_settings: object
) -> None:
    settings = make_settings(bot_token=None)  # type: ignore[operator]
    service = await start_service(router=echo.router, settings=settings)
    assert service.mode == "off" and service.bot is None
    base = f"http://127.0.0.1:{service.settings.port}"
    async with aiohttp.ClientSession() as http, http.get(f"{base}/healthz") as resp:
        assert (await resp.json())["telegram"] == "off"
    assert tg.calls == []
