"""Demo data for ``canbao demo``: a synthetic roster, a staff login, an investigator.

Everything is made up (``bot.synthetic``: valid but random ID numbers) and loading is
idempotent: the same people every run, accounts created once. The staff password is generated
on the first run and kept in ``<data dir>/demo-login.json`` (with the investigator's binding
code) so later runs print the same ones.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot import clock
from bot.roster.reader import RawTable
from bot.roster.validate import check_table
from bot.settings import Settings
from bot.synthetic import ROSTER_HEADERS, make_roster
from storage.models import (
    Badge,
    Community,
    District,
    Investigator,
    InvestigatorLink,
    Invite,
    Person,
    Record,
    Staff,
    StaffRole,
    Street,
)
from storage.people import reach
from storage.repositories import accounts, investigator_web, invites
from storage.repositories.actors import Actor
from storage.repositories.roster import import_roster
from storage.types import utcnow

DEMO_SEED = 2014
# People are generated as of this fixed day, so every run (on any day) makes the same people.
ROSTER_AS_OF = dt.date(2025, 1, 1)
# (区, 街道, 社区) of the demo: a few communities of each district in scope.
DEMO_COMMUNITIES = (
    ("姑苏区", "平江街道", "平江路社区"),
    ("姑苏区", "平江街道", "大儒巷社区"),
    ("姑苏区", "沧浪街道", "南园社区"),
    ("高新区", "狮山街道", "狮山社区"),
    ("高新区", "枫桥街道", "枫桥社区"),
)
STAFF_USERNAME = "admin"
INVESTIGATOR_NAME = "演示调查员"
LOGIN_FILE = "demo-login.json"
ACTOR = Actor.system("演示数据")
# The community office phone printed on the demo badge (a made-up number).
DEMO_OFFICE_PHONE = "0512-00000000"


@dataclass(frozen=True, slots=True)
class DemoResident:
    """A resident to try the web chat with: the link's code and the ID to prove identity."""

    name: str
    id_number: str
    area: str
    age: int
    code: str


@dataclass(slots=True)
class DemoReport:
    """What :func:`load_demo` made or found."""

    people: int = 0
    people_added: int = 0
    communities: int = 0
    staff_username: str = STAFF_USERNAME
    staff_password: str = ""
    binding_code: str | None = None
    investigator_bound: bool = False
    # The demo investigator's browser sign-in link token (/i/login/<token>).
    signin_token: str | None = None
    residents: list[DemoResident] = field(default_factory=list)
    # Who on the roster nobody has reached yet (未联系), and a community to list them.
    not_contacted: int = 0
    target: int = 0
    community_id: int | None = None
    community_path: str = ""
    # The demo investigator's badge (工作牌) and its community.
    badge_number: str | None = None


def demo_settings(settings: Settings, today: dt.date | None = None) -> Settings:
    """``settings`` with the survey window around ``today``, so deadlines in the console and
    reminders read like a survey in progress."""
    today = today or clock.today()
    return settings.model_copy(
        update={
            "survey_start": today - dt.timedelta(days=14),
            "community_deadline": today + dt.timedelta(days=21),
            "district_deadline": today + dt.timedelta(days=35),
            "survey_end": today + dt.timedelta(days=60),
        }
    )


def demo_table(people: int = 60) -> RawTable:
    """The demo roster as a table with the roster's Chinese headers (as if read from a file)."""
    wanted = set(DEMO_COMMUNITIES)
    rows: list[list[object]] = []
    # The generator spreads people over every community; draw more and keep the demo's.
    for row in make_roster(people * 4, seed=DEMO_SEED, today=ROSTER_AS_OF):
        if (row["区"], row["街道"], row["社区"]) in wanted:
            rows.append([row[h] for h in ROSTER_HEADERS])
    rows = rows[:people]
    return RawTable(
        name="演示名册.xlsx",
        headers=list(ROSTER_HEADERS),
        rows=[(n, cells) for n, cells in enumerate(rows, start=2)],
    )


def _login_file(settings: Settings) -> Path:
    return Path(settings.data_dir) / LOGIN_FILE


def _saved(settings: Settings) -> dict[str, str]:
    """What earlier runs kept: the staff password and the investigator's binding code."""
    try:
        data = json.loads(_login_file(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str) and v}


def _save(settings: Settings, **values: str) -> None:
    path = _login_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"username": STAFF_USERNAME, **_saved(settings), **values}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle)


async def _staff(session: AsyncSession, settings: Settings) -> str:
    """The demo login's password ("" when the tester has changed it in the console since).

    The account is not asked to change its password at the first sign-in (unlike accounts made
    with ``canbao staff add``): the demo must work with what it prints, every run. That makes
    it an account whose password is known, which ``canbao security check`` reports.
    """
    saved = _saved(settings).get("password")
    staff = await session.scalar(select(Staff).where(Staff.username == STAFF_USERNAME))
    if staff is not None and saved is not None:
        return saved if accounts.password_matches(staff, saved) else ""
    password = "demo-" + secrets.token_urlsafe(9)
    if staff is None:
        await accounts.create_staff(
            session,
            STAFF_USERNAME,
            password,
            role=StaffRole.admin,
            district_id=None,
            display_name="演示管理员",
            actor=ACTOR,
        )
    else:
        await accounts.set_staff_password(session, staff, password, actor=ACTOR)
    _save(settings, password=password)
    return password


async def _communities(session: AsyncSession) -> list[Community]:
    found = []
    for district, street, community in DEMO_COMMUNITIES:
        item = await session.scalar(
            select(Community)
            .join(Street, Community.street_id == Street.id)
            .join(District, Street.district_id == District.id)
            .where(Community.name == community, Street.name == street, District.name == district)
        )
        if item is not None:
            found.append(item)
    return found


async def _investigator(
    session: AsyncSession, settings: Settings, communities: list[Community]
) -> tuple[str | None, bool]:
    existing = await session.scalar(
        select(Investigator).where(
            Investigator.name == INVESTIGATOR_NAME, Investigator.revoked_at.is_(None)
        )
    )
    if existing is None:
        _investigator_row, code = await accounts.create_investigator(
            session, INVESTIGATOR_NAME, communities, actor=ACTOR
        )
        _save(settings, binding_code=code)
        return code, False
    if existing.telegram_user_id is not None:
        return None, True
    # The store keeps only the code's hash; the demo keeps the code itself next to its
    # password, so a second run prints the same code instead of replacing it.
    saved = _saved(settings).get("binding_code")
    expires = existing.binding_code_expires_at
    if (
        saved is not None
        and existing.binding_code_hash == accounts.sha256_hex(saved)
        and (expires is None or expires > utcnow())
    ):
        return saved, False
    code = await accounts.reissue_binding_code(session, existing, actor=ACTOR)
    _save(settings, binding_code=code)
    return code, False


async def _badge(session: AsyncSession, today: dt.date) -> str | None:
    """The demo investigator's badge: the one still valid, or a new one for 90 days."""
    from storage.badges import BadgeState, issue_badge, state_of

    investigator = await session.scalar(
        select(Investigator)
        .where(Investigator.name == INVESTIGATOR_NAME, Investigator.revoked_at.is_(None))
        .options(selectinload(Investigator.communities))
    )
    if investigator is None or not investigator.communities:
        return None
    existing = (
        await session.scalars(
            select(Badge)
            .where(Badge.investigator_id == investigator.id)
            .options(selectinload(Badge.investigator))
            .order_by(Badge.id.desc())
        )
    ).all()
    for badge in existing:
        if state_of(badge, today) == BadgeState.valid:
            return badge.number
    badge = await issue_badge(
        session,
        investigator,
        investigator.communities[0],
        office_phone=DEMO_OFFICE_PHONE,
        valid_from=today,
        valid_until=today + dt.timedelta(days=90),
        actor=ACTOR,
        channel="demo",
    )
    return badge.number


async def _signin_token(session: AsyncSession, settings: Settings) -> str | None:
    """The demo investigator's sign-in link for the phone's browser: kept like the binding
    code, so a second run prints the same link until it is used (or expires)."""
    investigator = await session.scalar(
        select(Investigator).where(
            Investigator.name == INVESTIGATOR_NAME, Investigator.revoked_at.is_(None)
        )
    )
    if investigator is None:
        return None
    saved = _saved(settings).get("signin_token")
    if saved is not None:
        link = await session.scalar(
            select(InvestigatorLink).where(
                InvestigatorLink.token_hash == accounts.sha256_hex(saved),
                InvestigatorLink.investigator_id == investigator.id,
            )
        )
        if link is not None and link.used_at is None and link.expires_at > utcnow():
            return saved
    token = await investigator_web.issue_link(session, investigator, actor=ACTOR)
    _save(settings, signin_token=token)
    return token


def _age(id_number: str, today: dt.date) -> int:
    born = dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


async def _residents(session: AsyncSession, today: dt.date) -> list[DemoResident]:
    """A few people to try: an adult of each district, a child (the guardian questions) and
    an older person; people whose form was already started are passed over when possible."""
    rows = (
        await session.execute(
            select(Person, Invite, District.name, Street.name, Community.name)
            .join(Invite, Invite.person_id == Person.id)
            .join(Community, Community.id == Person.community_id)
            .join(Street, Street.id == Person.street_id)
            .join(District, District.id == Person.district_id)
            .where(Invite.locked_at.is_(None))
            .order_by(Person.id)
        )
    ).all()
    started = set(
        (
            await session.scalars(
                select(Record.person_id).where(Record.live_person_id.is_not(None))
            )
        ).all()
    )
    candidates = sorted(rows, key=lambda row: row[0].id in started)  # fresh people first
    wanted: list[Callable[[str, int], bool]] = [
        lambda district, age: district == "姑苏区" and 18 <= age < 60,
        lambda district, age: district != "姑苏区" and 18 <= age < 60,
        lambda district, age: age < 16,
        lambda district, age: age >= 60,
    ]
    chosen: list[DemoResident] = []
    used: set[int] = set()
    for test in wanted:
        for person, invite, district, street, community in candidates:
            age = _age(person.id_number, today)
            if person.id not in used and test(district, age):
                used.add(person.id)
                chosen.append(
                    DemoResident(
                        name=person.name,
                        id_number=person.id_number,
                        area=f"{district}/{street}/{community}",
                        age=age,
                        code=invite.code,
                    )
                )
                break
    return chosen


async def load_demo(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    people: int = 60,
    today: dt.date | None = None,
) -> DemoReport:
    """Load (or find) the demo roster, invites and accounts in one transaction."""
    today = today or clock.today()
    checked = check_table(demo_table(people), today=today)
    if not checked.ok:  # the generator makes valid rows; a problem here is a bug
        raise RuntimeError(f"demo roster has problems: {checked.problems[:3]}")
    report = DemoReport(people=len(checked.rows))
    async with sessions() as session, session.begin():
        written = await import_roster(session, checked.rows, actor=ACTOR, source="演示名册")
        report.people_added = written.persons_added
        await invites.ensure_invites(session)
        communities = await _communities(session)
        report.communities = len(communities)
        report.staff_password = await _staff(session, settings)
        report.binding_code, report.investigator_bound = await _investigator(
            session, settings, communities[:3]
        )
        report.badge_number = await _badge(session, today)
        report.signin_token = await _signin_token(session, settings)
        report.residents = await _residents(session, today)
        total, _districts = await reach(session, None)
        report.not_contacted, report.target = total.not_contacted, total.target
        if communities:
            first = communities[0]
            report.community_id = first.id
            report.community_path = "/".join(DEMO_COMMUNITIES[0])
    return report
