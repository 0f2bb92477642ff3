"""Helpers for the web chat tests: synthetic residents in a real store, and a JSON client."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.synthetic import make_id_number, region_for
from storage.models import Invite, Person, Record
from storage.repositories.invites import ensure_invites
from storage.repositories.roster import RosterRow, import_roster

HEADERS = {"X-Canbao-Chat": "1"}


def years_ago(years: int, days: int = 40) -> dt.date:
    """A birth date making someone ``years`` old today (and not on their birthday)."""
    today = dt.date.today()
    try:
        born = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        born = today.replace(year=today.year - years, day=28)
    return born - dt.timedelta(days=days)


@dataclass(frozen=True)
class Resident:
    """A synthetic roster person and their invite code."""

    key: str
    name: str
    id_number: str
    mobile: str | None
    code: str = ""
    person_id: int = 0


def synthetic_people() -> list[Resident]:
    """An adult of 姑苏区, a child of 高新区, and an adult for lock tests (valid synthetic IDs)."""
    adult = years_ago(41)
    child = years_ago(9)
    other = years_ago(33)
    return [
        Resident(
            "adult",
            "张丽",
            make_id_number(adult, "F", region_for("姑苏区", adult.year), seq=7),
            "13812345678",
        ),
        Resident(
            "child",
            "王小明",
            make_id_number(child, "M", region_for("高新区", child.year), seq=21),
            None,
        ),
        Resident(
            "other",
            "李强",
            make_id_number(other, "M", region_for("姑苏区", other.year), seq=33),
            "13912345678",
        ),
    ]


async def load_people(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Resident]:
    """Import the synthetic people as a roster and give each an invite."""
    people = synthetic_people()
    rows = [
        RosterRow(
            district="姑苏区" if p.key != "child" else "高新区",
            street="平江街道" if p.key != "child" else "狮山街道",
            community="平江路社区" if p.key != "child" else "狮山社区",
            household=f"00000{i}",
            name=p.name,
            id_number=p.id_number,
            mobile=p.mobile,
            residence_address="平江东路12号",
        )
        for i, p in enumerate(people, start=1)
    ]
    async with sessions() as session, session.begin():
        await import_roster(session, rows)
        await ensure_invites(session)
        found = (await session.execute(select(Person, Invite).join(Invite))).all()
    by_id = {person.id_number: (person, invite) for person, invite in found}
    result = {}
    for p in people:
        person, invite = by_id[p.id_number]
        result[p.key] = Resident(p.key, p.name, p.id_number, p.mobile, invite.code, person.id)
    return result


async def record_of(sessions: async_sessionmaker[AsyncSession], person_id: int) -> Record | None:
    """The person's live record, freshly read."""
    async with sessions() as session:
        return await session.scalar(select(Record).where(Record.live_person_id == person_id))


class ChatClient:
    """Talks to one invite's chat API like the page's script does (keeps the last view)."""

    def __init__(self, client: TestClient[Any, Any], code: str) -> None:
        self.client = client
        self.code = code
        self.view: dict[str, Any] = {}
        self.last: dict[str, Any] = {}
        self.status = 0

    @property
    def base(self) -> str:
        return f"/c/{self.code}/api"

    async def _take(self, response: Any) -> dict[str, Any]:
        self.status = response.status
        body: dict[str, Any] = await response.json()
        self.last = body
        if "view" in body:
            self.view = body["view"]
        return body

    async def state(self) -> dict[str, Any]:
        """GET the state."""
        return await self._take(await self.client.get(f"{self.base}/state", headers=HEADERS))

    async def identity(self, id_number: str) -> dict[str, Any]:
        """Prove identity."""
        response = await self.client.post(
            f"{self.base}/identity", json={"id_number": id_number}, headers=HEADERS
        )
        return await self._take(response)

    async def act(self, action: str, **body: Any) -> dict[str, Any]:
        """POST an action with the version of the last view."""
        body.setdefault("version", self.view.get("version", 0))
        response = await self.client.post(f"{self.base}/{action}", json=body, headers=HEADERS)
        return await self._take(response)

    async def raw(self, action: str, data: bytes | str, **headers: str) -> dict[str, Any]:
        """POST a hand-made body."""
        response = await self.client.post(
            f"{self.base}/{action}",
            data=data,
            headers={**HEADERS, "Content-Type": "application/json", **headers},
        )
        return await self._take(response)

    @property
    def position(self) -> str | None:
        prompt = self.view.get("prompt")
        return prompt["state"] if prompt else self.view.get("stage")


# The adult's answers by question: a string is typed (or a choice code), a tuple is an action.
ADULT_SCRIPT: dict[str, Any] = {
    "privacy_notice": "",
    "filler_role": "self",
    "name": ("keep",),
    "id_number": ("keep",),
    "mobile": ("keep",),
    "insured_status": "never",
    "residence.province": "江苏省",
    "residence.city": "苏州市",
    "residence.district": "320508",
    "residence.road": "人民路",
    "residence.number": "100",
    "current_status": "unemployed",
    "uninsured_reasons": [("toggle", "cannot_afford"), ("toggle", "unaware"), ("finish",)],
    "remarks": ("skip",),
}
TAIL_SCRIPT: dict[str, Any] = {"confirmer_name": ("keep",), "acknowledgement": "yes"}


async def run_script(chat: ChatClient, script: dict[str, Any], *, stop_at: str = "review") -> None:
    """Answer questions from ``script`` until :attr:`ChatClient.position` is ``stop_at`` (a
    question's state or a stage); every step must be accepted."""
    for _ in range(80):
        if chat.position == stop_at:
            return
        state = chat.position
        assert state in script, f"no scripted answer for {state}: {chat.view.get('prompt')}"
        steps = script[state]
        for item in steps if isinstance(steps, list) else [steps]:
            if isinstance(item, str):
                await chat.act("answer", text=item)
            elif item[0] == "toggle":
                await chat.act("toggle", code=item[1])
            else:
                await chat.act(item[0])
            assert chat.status == 200, chat.last
            assert "error" not in chat.last, f"{state}: {chat.last['error']}"
    raise AssertionError(f"never reached {stop_at}")
