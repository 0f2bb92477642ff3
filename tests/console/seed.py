"""Synthetic people, staff and records for the console tests (never real persons).

Answers come from walking the real form engine, so the records look exactly like those the
chat channels submit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.synthetic import make_id_number
from flows import Conversation, Form, Rejected
from storage.models import Channel, FilledBy, Investigator, Person, Record, Staff
from storage.repositories import Actor
from storage.repositories.accounts import create_api_token, create_investigator, create_staff
from storage.repositories.areas import get_or_create_community, get_or_create_household
from storage.repositories.records import confirm, get_or_start_draft, return_record, submit

PASSWORD = "correct horse battery"
COLLECTION_DATE = dt.date(2014, 11, 1)
SUZHOU = ["江苏省", "苏州市", "姑苏区", "人民路", "100"]
WORKPLACE = ["江苏", "苏州", "工业园区", "星湖街", "328"]
EMPLOYER = "苏州某某电子有限公司"


def employed_uninsured(employer: str = EMPLOYER) -> list[Any]:
    """从未参保, employed in Suzhou by an employer that does not insure them."""
    return ["从未参保", *SUZHOU, "单位就业", employer, *WORKPLACE, "单位未参保"]


def unemployed_with_employer_reason() -> list[Any]:
    """Answers that raise the 单位未参保-without-单位就业 consistency warning."""
    return ["从未参保", *SUZHOU, "无业", "单位未参保"]


def unemployed() -> list[Any]:
    """从未参保, no job, cannot afford it."""
    return ["从未参保", *SUZHOU, "无业", "无缴费能力"]


def walk(
    form: Form, person: Person, tail: list[Any]
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Fill the form as the person themself; returns (record, state, warning codes)."""
    conv = Conversation.start(
        form, mode="resident", context={"collection_date": COLLECTION_DATE.isoformat()}
    )
    script: list[Any] = ["", "本人", person.name, person.id_number, person.mobile or "", *tail]
    for text in script:
        result = conv.answer(text)
        assert not isinstance(result, Rejected), f"{text!r}: {result.message}"
    if conv.prompt is not None:  # remarks
        conv.skip()
    warnings = [w.code for w in conv.warnings()]
    if warnings:
        conv.confirm_warnings()
    proceeded = conv.proceed()
    assert not isinstance(proceeded, Rejected), proceeded
    conv.keep()
    result = conv.answer("确认")
    assert not isinstance(result, Rejected), result
    assert conv.complete
    return conv.record(), conv.state, warnings


@dataclass
class World:
    """What :func:`build_world` made; ids to use in URLs and API calls."""

    districts: dict[str, int] = field(default_factory=dict)
    streets: dict[str, int] = field(default_factory=dict)
    communities: dict[str, int] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)
    staff: dict[str, Staff] = field(default_factory=dict)
    investigator: Investigator | None = None
    token_city: str = ""
    token_gusu: str = ""
    seq: int = 0

    def id_number(self, district: str, year: int = 1985) -> str:
        self.seq += 1
        region = "320503" if district == "姑苏区" else "320511"
        birth = dt.date(year, 1, 1) + dt.timedelta(days=self.seq * 3)
        return make_id_number(birth, "M" if self.seq % 2 else "F", region, seq=self.seq)


PATHS = {
    "gusu": ("姑苏区", "平江街道", "平江路社区"),
    "gusu2": ("姑苏区", "沧浪街道", "南园社区"),
    "gaoxin": ("高新区", "狮山街道", "狮山社区"),
}


async def _person(
    session: AsyncSession, world: World, where: str, household: str, name: str, mobile: str
) -> Person:
    district, street, community = PATHS[where]
    c = await get_or_create_community(session, district, street, community)
    world.districts[district] = c.district_id
    world.streets[f"{district}/{street}"] = c.street_id
    world.communities[where] = c.id
    hh = await get_or_create_household(session, c, household)
    person = Person(
        household_id=hh.id,
        community_id=c.id,
        street_id=c.street_id,
        district_id=c.district_id,
        name=name,
        id_number=world.id_number(district),
        mobile=mobile,
        insured_members=[],
        extra={},
    )
    session.add(person)
    await session.flush()
    return person


async def _submitted(
    session: AsyncSession, form: Form, person: Person, tail: list[Any], chat: int
) -> Record:
    answers, state, warnings = walk(form, person, tail)
    started = await get_or_start_draft(
        session,
        person,
        form_id=form.id,
        form_version=form.version,
        filled_by=FilledBy.resident,
        state=state,
        actor=Actor.resident(chat),
        channel=Channel.telegram,
        chat_id=chat,
    )
    record = started.record
    await submit(
        session,
        record,
        answers=answers,
        state=state,
        actor=Actor.resident(chat),
        expected_version=record.version,
        channel="telegram",
        flags=warnings,
    )
    return record


async def build_world(sessions: async_sessionmaker[AsyncSession], form: Form) -> World:
    """Three communities in two districts, staff of each kind, records in every status."""
    world = World()
    async with sessions() as s, s.begin():
        people = {
            "plain": await _person(s, world, "gusu", "000001", "林晓", "13812345678"),
            "flagged": await _person(s, world, "gusu", "000001", "林大海", "13912345678"),
            "confirmed": await _person(s, world, "gusu", "000002", "周敏", "13712345678"),
            "returned": await _person(s, world, "gusu2", "000003", "吴刚", "13612345678"),
            "draft": await _person(s, world, "gusu2", "000004", "郑芳", "13512345678"),
            "other": await _person(s, world, "gaoxin", "000005", "王强", "18812345678"),
            "idle": await _person(s, world, "gaoxin", "000006", "赵丽", "18912345678"),
        }
        city = await create_staff(s, "city_admin", PASSWORD, display_name="市中心审核员")
        gusu = await create_staff(
            s,
            "gusu_rev",
            PASSWORD,
            district_id=world.districts["姑苏区"],
            display_name="姑苏审核员",
        )
        gaoxin = await create_staff(
            s, "gaoxin_rev", PASSWORD, district_id=world.districts["高新区"]
        )
        world.staff = {"city": city, "gusu": gusu, "gaoxin": gaoxin}
        c = await get_or_create_community(s, *PATHS["gusu"])
        world.investigator, _ = await create_investigator(s, "钱调查", [c])

        plain = await _submitted(s, form, people["plain"], employed_uninsured(), 1001)
        flagged = await _submitted(
            s, form, people["flagged"], unemployed_with_employer_reason(), 1002
        )
        confirmed = await _submitted(
            s, form, people["confirmed"], employed_uninsured("苏州某某电子有限公司 "), 1003
        )
        await confirm(s, confirmed, staff=gusu)
        returned = await _submitted(s, form, people["returned"], unemployed(), 1004)
        await return_record(s, returned, staff=gusu, comment="手机号码请再核对", fields=["mobile"])
        _, draft_state, _ = walk(form, people["draft"], unemployed())
        draft = (
            await get_or_start_draft(
                s,
                people["draft"],
                form_id=form.id,
                form_version=form.version,
                filled_by=FilledBy.resident,
                state=draft_state,
                actor=Actor.resident(1005),
                channel=Channel.telegram,
                chat_id=1005,
            )
        ).record
        other = await _submitted(
            s, form, people["other"], employed_uninsured("狮山精密机械厂"), 1006
        )
        world.records = {
            "plain": plain.id,
            "flagged": flagged.id,
            "confirmed": confirmed.id,
            "returned": returned.id,
            "draft": draft.id,
            "other": other.id,
        }
        _, world.token_city = await create_api_token(s, "central")
        _, world.token_gusu = await create_api_token(
            s, "gusu-system", district_id=world.districts["姑苏区"]
        )
    return world


async def add_not_collected(
    sessions: async_sessionmaker[AsyncSession],
    form: Form,
    world: World,
    name: str,
    reason: str = "人户分离",
) -> int:
    """An investigator's 未采集 record for a new person of 平江路社区; returns the record id."""
    assert world.investigator is not None
    conv = Conversation.start(
        form,
        mode="investigator",
        context={"collection_date": COLLECTION_DATE.isoformat(), "investigator": "钱调查"},
    )
    for text in ("未采集", reason):
        assert not isinstance(conv.answer(text), Rejected)
    conv.skip()
    conv.proceed()
    assert conv.complete
    async with sessions() as s, s.begin():
        person = await _person(s, world, "gusu", "000009", name, "13312345678")
        started = await get_or_start_draft(
            s,
            person,
            form_id=form.id,
            form_version=form.version,
            filled_by=FilledBy.investigator,
            state=conv.state,
            actor=Actor.investigator(world.investigator),
            investigator=world.investigator,
            channel=Channel.telegram,
            chat_id=2001,
        )
        await submit(
            s,
            started.record,
            answers=conv.record(),
            state=conv.state,
            actor=Actor.investigator(world.investigator),
            expected_version=started.record.version,
        )
        return started.record.id
