"""The table of typed values (tests/value_cases.py) at the Telegram identity step: every
accepted spelling of the invite's number proves the identity; every refusal says what is wrong
(the ID module's message) and uses up none of the five tries."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Invite, Person
from storage.repositories.areas import get_or_create_community, get_or_create_household, split_path
from storage.repositories.invites import find_invite
from tests.fakebot import FakeTelegram
from tests.telegram.conftest import StartService
from tests.telegram.test_resident_support import FORM, PATH
from tests.value_cases import ID, ID_CASES


async def seed_number(
    sessions: async_sessionmaker[AsyncSession], name: str, number: str, household: str = "0101"
) -> tuple[int, str]:
    """A roster person with exactly ``number``, and their invite; (person id, invite code)."""
    async with sessions() as session, session.begin():
        community = await get_or_create_community(session, *split_path(PATH))
        hh = await get_or_create_household(session, community, household)
        person = Person(
            household_id=hh.id,
            community_id=community.id,
            street_id=community.street_id,
            district_id=community.district_id,
            name=name,
            id_number=number,
            mobile="13812345678",
            residence_address="江苏省苏州市姑苏区人民路100号",
            insured_members=[],
            extra={},
        )
        session.add(person)
        await session.flush()
        code = f"TBL{person.id:04d}x{number[-4:]}"
        session.add(Invite(person_id=person.id, code=code, failed_attempts=0))
        return person.id, code


async def test_identity_step_takes_the_table(
    tg: FakeTelegram, start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await start_service(form=FORM)
    codes: dict[str, str] = {}
    for n, number in enumerate(sorted({c.kept for c in ID_CASES if c.kept})):
        codes[number] = (await seed_number(sessions, f"林晓{'甲乙丙'[n]}", number, f"02{n}"))[1]
    for n, case in enumerate(c for c in ID_CASES if c.accepted):
        assert case.kept is not None
        user = tg.user(7100 + n, "林晓")
        await user.send(f"/start {codes[case.kept]}")
        await user.send(case.typed)
        assert "身份核对成功" in user.last_message.text, (case.id, user.last_message.text)

    if ID not in codes:
        codes[ID] = (await seed_number(sessions, "林晓", ID))[1]
    user = tg.user(7200, "冒名者")
    await user.send(f"/start {codes[ID]}")
    for case in ID_CASES:
        if case.accepted:
            continue
        await user.send(case.typed)
        text = user.last_message.text
        assert case.message in text and "不计入核对次数" in text, (case.id, text)
    async with sessions() as session:
        invite = await find_invite(session, codes[ID])
        assert invite is not None and invite.failed_attempts == 0 and invite.locked_at is None
