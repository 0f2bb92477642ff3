"""The web chat's use of the central store: the same invites, records and outbox as the bot.

Every function takes the caller's session and never commits. A browser is one chat of the
``web`` channel; its chat id is the invite's (``web-<invite id>``), so a notification queued for
the resident is shown whichever device opens the link next.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import flows
from bot import clock
from bot.reference import reference as reference_of
from bot.telegram.i18n import N_
from flows import Conversation, Form
from storage.models import Channel, FilledBy, Invite, Outbox, Person, Record, RecordStatus
from storage.repositories import outbox as outbox_repo
from storage.repositories import records as records_repo
from storage.repositories.actors import Actor
from storage.repositories.invites import VerifyResult, find_invite, verify_identity

CHANNEL = Channel.web
RETURNED_KIND = "record_returned"  # the outbox kind of a return's notification


def chat_id(invite: Invite) -> str:
    """The web channel's chat id of an invite."""
    return f"web-{invite.id}"


def reference(record: Record) -> str:
    """The reference number a resident quotes when calling about a record."""
    return reference_of(record.id)


def actor(invite: Invite) -> Actor:
    """The resident behind this invite, as audited."""
    return Actor.resident(chat_id(invite))


async def load_invite(session: AsyncSession, code: str) -> Invite | None:
    """The invite of a link's code (its person loaded), or None."""
    return await find_invite(session, code)


async def prove_identity(
    session: AsyncSession, invite: Invite, id_number: str, *, address: str | None = None
) -> VerifyResult:
    """Check the typed 公民身份号码; wrong answers count towards the lock (commit either way;
    ``address``, the client's, goes into the audit entry)."""
    return await verify_identity(
        session, invite, id_number, channel=CHANNEL, chat_id=chat_id(invite), address=address
    )


def prefill_of(person: Person) -> dict[str, Any]:
    """The roster's values the form shows for confirmation."""
    return {
        "name": person.name,
        "id_number": person.id_number,
        "mobile": person.mobile,
        "residence": person.residence_address,
    }


@dataclass(frozen=True, slots=True)
class Opened:
    """The person's live record as this chat sees it (``outcome`` as in the store)."""

    record: Record
    outcome: records_repo.StartOutcome
    who: str
    when: dt.datetime


async def open_record(
    session: AsyncSession, invite: Invite, form: Form, *, today: dt.date | None = None
) -> Opened:
    """Resume the resident's record or start a draft (the duplicate guard applies).

    Raises ConflictError when another request started the same person's draft at this very
    moment; the caller retries its transaction, which then finds that draft.
    """
    person = invite.person
    start = Conversation.start(
        form,
        mode="resident",
        prefill=prefill_of(person),
        context={"collection_date": today or clock.today()},
    )
    result = await records_repo.get_or_start_draft(
        session,
        person,
        form_id=form.id,
        form_version=form.version,
        filled_by=FilledBy.resident,
        state=start.state,
        actor=actor(invite),
        channel=CHANNEL,
        chat_id=chat_id(invite),
    )
    return Opened(result.record, result.outcome, result.who, result.when)


def form_of(record: Record, form: Form) -> Form:
    """The form version the record was started with (it finishes on that version)."""
    if record.form_id == form.id and record.form_version == form.version:
        return form
    return flows.find_form(record.form_id, record.form_version)


def conversation_of(record: Record, form: Form) -> Conversation:
    """The record's conversation, continued where it was."""
    return Conversation.restore(form_of(record, form), record.state)


async def save(
    session: AsyncSession,
    invite: Invite,
    record: Record,
    conv: Conversation,
    *,
    step: dict[str, Any] | None = None,
) -> None:
    """Save the state after an accepted step (optimistic: ConflictError when stale); ``step``
    says what was done, for the audit trail (``{"action": "answer", "field": "mobile"}``)."""
    await records_repo.save_state(
        session,
        record,
        conv.state,
        expected_version=record.version,
        actor=actor(invite),
        channel=str(CHANNEL),
        step=step,
    )


async def submit(session: AsyncSession, invite: Invite, record: Record, conv: Conversation) -> None:
    """Submit (or resubmit after a return) the completed form: a new revision for review."""
    await records_repo.submit(
        session,
        record,
        answers=conv.record(),
        state=conv.state,
        actor=actor(invite),
        expected_version=record.version,
        channel=str(CHANNEL),
        flags=[w.code for w in conv.warnings()],
        unchanged=conv.unchanged_after_reopen(),
    )


async def take_notices(session: AsyncSession, invite: Invite) -> list[str]:
    """Notifications queued for this chat (e.g. 退回 with the reviewer's comment), oldest
    first; they count as delivered once returned here."""
    rows = (
        await session.scalars(
            select(Outbox)
            .where(
                Outbox.channel == CHANNEL,
                Outbox.chat_id == chat_id(invite),
                Outbox.sent_at.is_(None),
                Outbox.gave_up_at.is_(None),
            )
            .order_by(Outbox.id)
        )
    ).all()
    texts = []
    for row in rows:
        text = row.payload.get("text") if isinstance(row.payload, dict) else None
        # A return is drawn from the record itself (comment and marked questions, see
        # resident._view), whenever the page is opened: its notification would say it twice.
        if isinstance(text, str) and text and row.kind != RETURNED_KIND:
            texts.append(text)
        await outbox_repo.mark_sent(session, row.id)
    return texts


STATUS_TEXT = {
    RecordStatus.draft: N_("填写中"),
    RecordStatus.submitted: N_("已提交，等待社保经办机构审核"),
    RecordStatus.returned: N_("已退回，需要修改后重新提交"),
    RecordStatus.confirmed: N_("已审核确认"),
}
