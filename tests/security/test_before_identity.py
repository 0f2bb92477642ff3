"""Before the identity check a link tells only what the person needs to know it is theirs:
the surname and the community, nothing of the number (its first and last digits, the check
digit among them, would narrow a guess), nor the full name."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.privacy import surname_of
from tests.console.seed import World
from tests.fakebot import FakeTelegram
from tests.telegram.conftest import StartService
from tests.telegram.test_resident_support import FORM, seed_person, years_ago

HEADERS = {"X-Canbao-Chat": "1"}


def test_surnames() -> None:
    assert surname_of("张丽") == "张"
    assert surname_of(" 欧阳修 ") == "欧阳"
    assert surname_of("司马光") == "司马"
    assert surname_of("") == ""


def leaks(text: str, name: str, id_number: str) -> list[str]:
    """Pieces of the number or the given name (what follows the surname) found in ``text``."""
    found = [run for run in re.findall(r"\d{4,}", text) if run in id_number]
    found += [ch for ch in name[len(surname_of(name)) :] if ch in text]
    return found


async def test_the_chat_state_before_identity_shows_surname_and_community_only(
    web: Any, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    person = await seed_person(sessions, "欧阳明月", born=years_ago(38), household="0808")
    client = await web()
    response = await client.get(f"/c/{person.code}/api/state", headers=HEADERS)
    body = await response.json()
    assert body["view"]["person"] == {"surname": "欧阳", "community": "平江路社区"}
    assert leaks(await response.text(), person.name, person.id_number) == []
    # A wrong guess answers with the same view: still nothing of the number.
    wrong = await client.post(
        f"/c/{person.code}/api/identity",
        json={"id_number": "320508198001010013"},
        headers=HEADERS,
    )
    assert wrong.status in (403, 422)
    assert leaks(await wrong.text(), person.name, person.id_number) == []


async def test_the_telegram_greeting_before_identity_shows_surname_and_community_only(
    tg: FakeTelegram, start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    person = await seed_person(sessions, "周小川", born=years_ago(52), household="0707")
    await start_service(form=FORM)
    user = tg.user(8801, "路人")
    await user.send(f"/start {person.code}")
    text = user.last_message.text or ""
    assert "周" in text and "平江路社区" in text
    assert leaks(text, person.name, person.id_number) == [], text
