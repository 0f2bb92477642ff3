"""The identity lock in the store, and in the Telegram identity step.

``verify_identity`` takes a try in one conditional UPDATE before comparing: transactions racing
on one invite from two engines (two processes, as far as the store can tell) compare at most
five guesses. The bot goes through the same function: eight Telegram accounts typing at once on
one invite get no more than five guesses between them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.synthetic import make_id_number
from storage.db import make_sessionmaker
from storage.models import AuditEvent, Channel, Invite
from storage.repositories import invites as inv
from storage.repositories.actors import Actor
from tests.fakebot import FakeTelegram
from tests.security.stores import shared_database
from tests.telegram.conftest import StartService
from tests.telegram.test_resident_support import FORM, seed_person, synthetic_id, years_ago

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


async def count(session: AsyncSession, action: str) -> int:
    found = await session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )
    return int(found or 0)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_racing_guesses_from_two_engines_compare_at_most_five(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    pg_url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    async with shared_database(pg_url, tmp_path) as engines:
        makers = [make_sessionmaker(e) for e in engines]
        seeded = await seed_person(makers[0], "赵六", born=years_ago(40))
        assert seeded.code is not None
        wrong = [synthetic_id(years_ago(30 + n)) for n in range(24)]

        async def guess(sessions: async_sessionmaker[AsyncSession], number: str) -> str:
            async with sessions() as session, session.begin():
                invite = await inv.find_invite(session, seeded.code or "")
                assert invite is not None
                # The page loaded the invite; others guess meanwhile.
                await asyncio.sleep(0.01)
                result = await inv.verify_identity(
                    session, invite, number, channel=Channel.web, chat_id="race"
                )
                return str(result.outcome)

        outcomes = await asyncio.gather(
            *(guess(makers[n % 2], number) for n, number in enumerate(wrong)),
            guess(makers[1], seeded.id_number),
        )
        async with makers[1]() as session:
            failed = await count(session, "identity_failed")
            verified = await count(session, "identity_verified")
            invite = await session.scalar(select(Invite).where(Invite.code == seeded.code))
        assert invite is not None
        assert failed + verified <= 5, outcomes
        assert outcomes.count("wrong") + outcomes.count("ok") <= 5
        if outcomes[-1] != "ok":
            assert invite.failed_attempts == 5 and invite.locked_at is not None
            assert outcomes[-1] == "locked"


@pytest.mark.parametrize("backend", BACKENDS)
async def test_locked_invite_refuses_the_right_number_until_staff_unlock(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    pg_url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    async with shared_database(pg_url, tmp_path, count=1) as engines:
        sessions = make_sessionmaker(engines[0])
        seeded = await seed_person(sessions, "钱七", born=years_ago(35))
        for n in range(5):
            async with sessions() as session, session.begin():
                invite = await inv.find_invite(session, seeded.code or "")
                assert invite is not None
                number = make_id_number(years_ago(22 + n), "F", "320508", seq=n)
                await inv.verify_identity(session, invite, number, channel=Channel.web, chat_id=1)
        async with sessions() as session, session.begin():
            invite = await inv.find_invite(session, seeded.code or "")
            assert invite is not None and inv.is_locked(invite)
            right = await inv.verify_identity(
                session, invite, seeded.id_number, channel=Channel.telegram, chat_id=2
            )
            assert right.outcome == inv.VerifyOutcome.locked
            with pytest.raises(ValueError):
                await inv.unlock_invite(session, invite, actor=Actor.system(), reason=" ")
            await inv.unlock_invite(session, invite, actor=Actor.system(), reason="电话核实")
            assert not inv.is_locked(invite) and invite.failed_attempts == 0
        async with sessions() as session, session.begin():
            invite = await inv.find_invite(session, seeded.code or "")
            assert invite is not None
            right = await inv.verify_identity(
                session, invite, seeded.id_number, channel=Channel.telegram, chat_id=2
            )
            assert right.outcome == inv.VerifyOutcome.ok and right.attempts_left == 5
            assert await count(session, "invite_unlocked") == 1


async def test_eight_telegram_accounts_on_one_invite_get_five_guesses(
    tg: FakeTelegram, start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    seeded = await seed_person(sessions, "孙八", born=years_ago(45))
    await start_service(form=FORM)
    users = [tg.user(7100 + n, f"猜测者{n}") for n in range(8)]
    for user in users:
        await user.send(f"/start {seeded.code}")
    # Everyone types a wrong number at once, twice over; then one types the right one.
    for _ in range(2):
        for user in users:
            await user.send(synthetic_id(years_ago(50)), wait=False)
    for user in users:
        await user.wait_reply()
    # A reply leaves through the outbox after its update is handled: on a busy machine the
    # last replies may still be on their way when the last update is done.
    await tg.wait_arrived("sendMessage", 8 + 16)  # each /start and each guess: one reply
    assert any("已被锁定" in (u.last_message.text or "") for u in users)
    await users[0].send(f"/start {seeded.code}")
    assert "已被锁定" in users[0].last_message.text
    async with sessions() as session:
        assert await count(session, "identity_failed") == 5
        assert await count(session, "identity_verified") == 0
        invite = await inv.find_invite(session, seeded.code or "")
        assert invite is not None and invite.failed_attempts == 5 and invite.locked_at is not None
