"""The call list (电话联系名单): who to call next, with the invite link, the phone and the
last outcome — ``canbao invite`` and the console's button make the same list.

Handing the list out is what sends the invites: each person on it who was never contacted
is logged as invited (已发邀请) that day (:func:`storage.repositories.contacts.mark_invited`),
and people without an invite get one first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage import people
from storage.models import Staff
from storage.person_status import PersonStatus, outcome_label, status_text
from storage.repositories.actors import Actor
from storage.repositories.contacts import mark_invited
from storage.repositories.invites import ensure_invites_for

HEADERS = (
    "区",
    "街道",
    "社区",
    "户号",
    "姓名",
    "联系电话",
    "状态",
    "最近联系日期",
    "最近联系结果",
    "邀请码",
    "链接",
    "网页链接",
)
PHONE_COLUMN = HEADERS.index("联系电话")
CODE_COLUMN = HEADERS.index("邀请码")


async def prepare(
    session: AsyncSession,
    scope: int | None,
    f: people.PersonFilter,
    *,
    actor: Actor,
    today: dt.date,
    channel: str,
    staff: Staff | None = None,
    everyone: bool = False,
) -> tuple[list[people.CallRow], int, int]:
    """The call list (see :func:`storage.people.call_list`), with an invite for everyone on it
    and the never-contacted marked as invited; returns (rows, invites made, newly invited).
    The rows show each person as they stood before the list went out."""
    rows = await people.call_list(session, scope, f, everyone=everyone)
    made = await ensure_invites_for(session, [r.person.id for r in rows if r.invite_code is None])
    if made:
        codes = {
            r.person.id: r.invite_code
            for r in await people.call_list(session, scope, f, everyone=everyone)
        }
        rows = [people.CallRow(r.person, codes.get(r.person.id)) for r in rows]
    invited = await mark_invited(
        session,
        [r.person.id for r in rows if r.person.status == PersonStatus.not_contacted],
        on=today,
        actor=actor,
        channel=channel,
        staff=staff,
    )
    return rows, made, invited


def cells(
    row: people.CallRow,
    telegram_link: Callable[[str], str],
    web_link: Callable[[str], str],
    reason_label: Callable[[str], str] | None = None,
) -> list[Any]:
    """The row's cells, in :data:`HEADERS` order."""
    p = row.person
    reason = (reason_label(p.reason) if reason_label else p.reason) if p.reason else None
    code = row.invite_code or ""
    return [
        p.district,
        p.street,
        p.community,
        p.household,
        p.name,
        p.mobile or "",
        status_text(p.status, reason_label=reason, outcome=p.last_contact_outcome),
        p.last_contact_on.isoformat() if p.last_contact_on else "",
        outcome_label(p.last_contact_outcome),
        code,
        telegram_link(code) if code else "",
        web_link(code) if code else "",
    ]
