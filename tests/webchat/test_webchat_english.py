"""Residents whose browser prefers English get the web chat in English; everyone else Chinese."""

from __future__ import annotations

import json
import re

import pytest

from bot.webchat.language import negotiate
from tests.webchat.chatkit import HEADERS
from tests.webchat.conftest import ChatEnv

ENGLISH = {**HEADERS, "Accept-Language": "en-GB,en;q=0.9"}


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("en-US,en;q=0.9", "en"),
        ("en", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"),
        ("en;q=0.5,zh;q=0.9", "zh_CN"),
        ("fr-FR,en;q=0.7", "en"),
        ("de-DE", "zh_CN"),
        ("", "zh_CN"),
        (None, "zh_CN"),
        ("en;q=abc", "zh_CN"),
    ],
)
def test_the_language_follows_accept_language(header: str | None, locale: str) -> None:
    assert negotiate(header) == locale


async def test_the_page_and_its_script_texts_are_english(chat_env: ChatEnv) -> None:
    code = chat_env.people["adult"].code
    response = await chat_env.client.get(f"/c/{code}", headers=ENGLISH)
    html = await response.text()
    assert response.status == 200 and '<html lang="en">' in html
    assert ">Send</button>" in html and "Answers / change" in html
    found = re.search(r'<script type="application/json" id="chat-strings">(.*?)</script>', html)
    assert found is not None
    strings = json.loads(found.group(1))
    assert strings["还剩 {n} 题"] == "{n} questions left"
    assert strings["确认：{value}"] == "Confirm: {value}"
    chinese = await (await chat_env.client.get(f"/c/{code}")).text()
    assert '<html lang="zh-CN">' in chinese and ">发送</button>" in chinese
    assert '<script type="application/json" id="chat-strings">{}</script>' in chinese


async def test_the_servers_answers_are_english(chat_env: ChatEnv) -> None:
    code = chat_env.people["adult"].code
    api = f"/c/{code}/api"
    wrong = await chat_env.client.post(
        f"{api}/identity", json={"id_number": "110101199003077777"}, headers=ENGLISH
    )
    body = await wrong.json()
    assert wrong.status in (403, 422)
    empty = await chat_env.client.post(f"{api}/identity", json={"id_number": ""}, headers=ENGLISH)
    assert (await empty.json())["error"].startswith("Please enter the 18-character")
    missing = await chat_env.client.get("/c/NoSuchInviteCode123", headers=ENGLISH)
    assert missing.status == 404 and "This link is not valid" in await missing.text()
    assert body["view"]["stage"] == "identity"
    proof = await chat_env.client.post(
        f"{api}/identity", json={"id_number": chat_env.people["adult"].id_number}, headers=ENGLISH
    )
    view = (await proof.json())["view"]
    assert view["status_text"] == "Being filled in"
    stale = await chat_env.client.post(
        f"{api}/answer", json={"text": "", "version": -1}, headers=ENGLISH
    )
    assert (await stale.json())["error"].startswith("This page was out of date")


async def test_the_forms_questions_and_messages_are_english_too(chat_env: ChatEnv) -> None:
    from tests.webchat.chatkit import ChatClient

    chat = ChatClient(chat_env.client, chat_env.people["adult"].code)

    async def act(action: str, **body: object) -> dict[str, object]:
        body.setdefault("version", chat.view.get("version", 0))
        response = await chat_env.client.post(f"{chat.base}/{action}", json=body, headers=ENGLISH)
        data: dict[str, object] = await response.json()
        chat.view = data.get("view", chat.view)  # type: ignore[assignment]
        return data

    proof = await chat_env.client.post(
        f"{chat.base}/identity",
        json={"id_number": chat_env.people["adult"].id_number},
        headers=ENGLISH,
    )
    chat.view = (await proof.json())["view"]
    assert chat.view["prompt"]["label"] == "Notice"
    await act("answer", text="")
    prompt = chat.view["prompt"]
    assert prompt["label"] == "Filled in by"
    assert [c["label"] for c in prompt["choices"]] == [
        "The person",
        "A guardian",
        "An appointed agent",
    ]
    refused = await act("answer", text="nobody")
    assert str(refused["error"]).startswith("There is no option “nobody”. Please choose one of: ")
    assert "The person, A guardian" in str(refused["error"])
    await act("answer", text="self")
    await act("keep")
    await act("keep")
    wrong = await act("answer", text="12345")
    assert "11 digits" in str(wrong["error"])
    await act("keep")
    await act("answer", text="never")
    assert (
        chat.view["prompt"]["label"]
        == "Where the person lives now: Province (or municipality, region)"
    )
    summary = {item["label"]: item["value"] for item in chat.view["summary"]}
    assert summary["Insurance status now"] == "Never insured"
    assert summary["Sex"] == "female" and summary["Name"] == chat_env.people["adult"].name
