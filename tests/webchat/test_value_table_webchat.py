"""The table of typed values (tests/value_cases.py) at the web chat's identity step: every
accepted spelling of the invite's number proves the identity; every refusal answers 422 with
the ID module's message and uses up none of the five tries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Invite, Person
from storage.repositories.invites import ensure_invites
from storage.repositories.roster import RosterRow, import_roster
from tests.value_cases import ID, ID_CASES
from tests.webchat.chatkit import ChatClient
from tests.webchat.conftest import ChatEnv


async def invites_for(
    sessions: async_sessionmaker[AsyncSession], numbers: list[str]
) -> dict[str, str]:
    """Roster people with exactly these numbers; number → invite code."""
    rows = [
        RosterRow(
            district="姑苏区",
            street="平江街道",
            community="平江路社区",
            household=f"03{n}",
            name=f"林晓{'甲乙丙丁'[n]}",
            id_number=number,
            mobile="13812345678",
            residence_address="平江东路12号",
        )
        for n, number in enumerate(numbers)
    ]
    async with sessions() as session, session.begin():
        await import_roster(session, rows)
        await ensure_invites(session)
        found = await session.execute(
            select(Person.id_number, Invite.code).join(Invite).where(Person.id_number.in_(numbers))
        )
        return {number: code for number, code in found.all()}


async def test_identity_step_takes_the_table(chat_env: ChatEnv) -> None:
    numbers = sorted({c.kept for c in ID_CASES if c.kept} | {ID})
    codes = await invites_for(chat_env.sessions, numbers)
    for case in ID_CASES:
        if not case.accepted:
            continue
        assert case.kept is not None
        browser = await chat_env.new_browser()
        try:
            chat = ChatClient(browser, codes[case.kept])
            await chat.identity(case.typed)
            assert chat.status == 200, (case.id, chat.last)
            assert chat.view["stage"] not in ("identity", "locked"), case.id
        finally:
            await browser.close()

    browser = await chat_env.new_browser()
    try:
        chat = ChatClient(browser, codes[ID])
        for case in ID_CASES:
            if case.accepted:
                continue
            await chat.identity(case.typed)
            assert chat.status == 422 and chat.last["error"] == case.message, (case.id, chat.last)
            assert chat.view["attempts_left"] == 5, case.id
    finally:
        await browser.close()
