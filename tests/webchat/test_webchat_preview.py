"""``/c/preview``: staff signed in to the console try the form; nothing is stored."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

import bot.webchat
from bot.server import create_app
from storage.models import AuditEvent, Record
from storage.repositories.accounts import create_staff
from tests.webchat.chatkit import HEADERS
from tests.webchat.conftest import ChatEnv

pytestmark = pytest.mark.asyncio
PASSWORD = "preview-password-1"


async def sign_in(env: ChatEnv) -> None:
    async with env.sessions() as session, session.begin():
        await create_staff(session, "viewer", PASSWORD)
    page = await env.client.get("/console/login")
    csrf = re.search(r'name="_csrf" value="([^"]+)"', await page.text())
    assert csrf is not None
    response = await env.client.post(
        "/console/login",
        data={"username": "viewer", "password": PASSWORD, "_csrf": csrf.group(1)},
        allow_redirects=False,
    )
    assert response.status == 303


async def post(env: ChatEnv, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = await env.client.post(f"/c/preview/api/{path}", json=body, headers=HEADERS)
    return response.status, await response.json()


async def rows(env: ChatEnv, model: Any) -> int:
    async with env.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_preview_needs_a_console_sign_in(chat_env: ChatEnv) -> None:
    response = await chat_env.client.get("/c/preview")
    assert response.status == 403
    assert "工作人员" in await response.text()
    status, body = await post(chat_env, "state", {})
    assert status == 403 and "登录" in body["error"]


async def test_preview_runs_the_form_without_storing_anything(chat_env: ChatEnv) -> None:
    await sign_in(chat_env)
    events_before = await rows(chat_env, AuditEvent)
    response = await chat_env.client.get("/c/preview")
    assert response.status == 200
    assert 'data-mode="preview"' in await response.text()
    status, body = await post(chat_env, "state", {})
    assert status == 200 and body["view"]["prompt"]["name"] == "privacy_notice"
    token = body["token"]
    status, body = await post(chat_env, "answer", {"text": "", "token": token})
    assert body["view"]["prompt"]["name"] == "filler_role"
    status, wrong = await post(chat_env, "answer", {"text": "nobody", "token": body["token"]})
    assert status == 200 and wrong["error"] and wrong["view"]["prompt"]["name"] == "filler_role"
    # The state is signed: a hand-edited token is refused.
    forged = body["token"][:-3] + ("AAA" if not body["token"].endswith("AAA") else "BBB")
    status, refused = await post(chat_env, "answer", {"text": "self", "token": forged})
    assert status == 400 and "重新开始" in refused["error"]
    status, body = await post(chat_env, "answer", {"text": "self", "token": body["token"]})
    assert body["view"]["prompt"]["name"] == "name"
    status, _ = await post(chat_env, "answer", {"text": "x", "token": body["token"], "evil": 1})
    assert status == 400
    assert await rows(chat_env, Record) == 0
    assert await rows(chat_env, AuditEvent) == events_before


async def test_preview_in_investigator_mode_asks_the_collection_status_first(
    chat_env: ChatEnv,
) -> None:
    await sign_in(chat_env)
    status, body = await post(chat_env, "state", {"mode": "investigator"})
    assert status == 200 and body["view"]["prompt"]["name"] == "collection_status"
    status, body = await post(chat_env, "answer", {"text": "not_collected", "token": body["token"]})
    status, body = await post(chat_env, "answer", {"text": "away", "token": body["token"]})
    assert body["view"]["prompt"]["name"] == "remarks"
    status, body = await post(chat_env, "skip", {"token": body["token"]})
    assert body["view"]["stage"] == "review"
    status, body = await post(chat_env, "proceed", {"token": body["token"]})
    assert body["view"]["stage"] == "complete"
    status, body = await post(chat_env, "submit", {"token": body["token"]})
    assert status == 200 and "不会保存" in body["message"]
    assert body["view"]["record"]["not_collected_reason"] == "away"
    # The preview ends there, as a submission does, instead of offering 提交 again.
    assert body["view"]["stage"] == "submitted" and body["view"]["can_back"] is False
    assert await rows(chat_env, Record) == 0
    status, body = await post(chat_env, "state", {"mode": "admin"})
    assert status == 400


async def test_a_deployment_can_set_its_own_preview_guard(chat_env: ChatEnv) -> None:
    app = create_app(chat_env.settings, chat_env.sessions, chat_env.form)
    app[bot.webchat.PREVIEW_GUARD] = lambda request: request.headers.get("X-Staff") == "yes"
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/c/preview")).status == 403
        assert (await client.get("/c/preview", headers={"X-Staff": "yes"})).status == 200
