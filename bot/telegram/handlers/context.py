"""Who is writing, which record they are on, and saving each step (shared by the routers).

The database is the truth: a record's conversation state is saved after every accepted
answer, and where its current question was shown in the chat is kept with it. The FSM holds
only pointers (the active record id, the invite being proven, the household a person is being
added to); when it is lost (a restart with memory storage) the active record is found again in
the database.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock, returns
from bot.returns import needs_reopen as needs_reopen
from bot.telegram.middlewares.inbox import mark_handled
from bot.telegram.render import Screen
from flows import Conversation, Form
from storage.models import Channel, FilledBy, Investigator, Person, Record, RecordStatus
from storage.repositories import records as records_repo
from storage.repositories.accounts import investigator_by_telegram
from storage.repositories.actors import Actor

logger = logging.getLogger(__name__)

CHANNEL = Channel.telegram
ACTIVE = "rid"  # FSM data: the record being filled (0 = none on purpose)
INVITE = "invite"  # FSM data: the invite whose identity proof is awaited
ADD_HOUSEHOLD = "add_household"  # FSM data: household a new person is being added to
ADD_NAME = "add_name"
PAGE = "page"  # FSM data: the household list page last shown
CONTACT = "contact"  # FSM data: [person id, outcome] of a contact whose note is awaited
NOT_INVESTIGATOR = "resident"  # FSM data: this Telegram user is not a bound investigator
# FSM data: the filler paused with /cancel; typed text is not an answer until they resume
# (/start, a button of the record, /back or /summary).
PAUSED = "paused"


class Stage(StatesGroup):
    """Short steps outside the form itself."""

    identity = State()  # a resident types the 公民身份号码 to prove who they are
    add_name = State()  # an investigator types the name of a person not on the roster
    add_id = State()  # ... and then their 公民身份号码
    contact_note = State()  # an investigator types the note of a contact just recorded


@dataclass(frozen=True)
class Filler:
    """The Telegram user filling forms: a resident, or a bound (active) investigator."""

    chat_id: int
    investigator: Investigator | None

    @property
    def actor(self) -> Actor:
        """The audited actor."""
        if self.investigator is not None:
            return Actor.investigator(self.investigator)
        return Actor.resident(self.chat_id)

    @property
    def is_investigator(self) -> bool:
        """Whether this user is a bound, active investigator."""
        return self.investigator is not None


async def identify(
    session: AsyncSession, user_id: int, chat_id: int, state: FSMContext | None = None
) -> Filler:
    """The filler behind a Telegram user (revoked investigators count as nobody special).

    With ``state``, a user found not to be an investigator is remembered as such in the FSM
    data: a Telegram account becomes an investigator's only by sending its binding code to
    this bot, which clears that data (see ``start._bind``), so the answer cannot go stale.
    """
    if state is not None and await state.get_value(NOT_INVESTIGATOR):
        return Filler(chat_id, None)
    investigator = await investigator_by_telegram(session, user_id)
    if investigator is None and state is not None:
        await state.update_data({NOT_INVESTIGATOR: True})
    return Filler(chat_id, investigator)


def owns(filler: Filler, record: Record) -> bool:
    """Whether the filler may act on the record (their own draft, as resident or investigator)."""
    if record.discarded_at is not None:
        return False
    if filler.investigator is not None:
        return (
            record.filled_by == FilledBy.investigator
            and record.investigator_id == filler.investigator.id
        )
    return (
        record.filled_by == FilledBy.resident
        and record.notify_channel == CHANNEL
        and record.notify_chat_id == str(filler.chat_id)
    )


async def active_record(session: AsyncSession, state: FSMContext, filler: Filler) -> Record | None:
    """The record the filler is working on, from the FSM pointer or else from the database."""
    data = await state.get_data()
    pointer = data.get(ACTIVE)
    if pointer == 0:
        return None
    if isinstance(pointer, int):
        record = await session.get(Record, pointer)
        if record is not None and owns(filler, record):
            return record
    found = await _latest_open(session, filler)
    if found is not None:
        await state.update_data({ACTIVE: found.id})
    return found


async def _latest_open(session: AsyncSession, filler: Filler) -> Record | None:
    if filler.investigator is not None:
        drafts = await records_repo.records_of_investigator(
            session, filler.investigator.id, [RecordStatus.draft, RecordStatus.returned]
        )
        return drafts[0] if drafts else None
    records = await records_repo.records_of_chat(session, CHANNEL, filler.chat_id)
    editable = [r for r in records if r.editable]
    candidates = editable or list(records)
    return candidates[0] if candidates else None


async def set_active(state: FSMContext, record_id: int) -> None:
    """Point the FSM at the record being filled (0: none); this resumes a pause."""
    await state.update_data({ACTIVE: record_id, PAUSED: False})


async def pause(state: FSMContext) -> None:
    """/cancel: what is typed next is not taken as an answer (see :data:`PAUSED`)."""
    await state.update_data({PAUSED: True})


async def paused(state: FSMContext) -> bool:
    """Whether the filler paused with /cancel and has not resumed."""
    return bool(await state.get_value(PAUSED))


async def note_asked(session: AsyncSession, screen: Screen, message_id: int) -> None:
    """Remember, with the record, where the question ``screen`` asks was first shown (showing
    it again later, after /start or a refused answer, keeps the first place).

    Kept in the database, not the FSM: a restart (memory FSM storage) must not make the next
    typed answer look as if it had been written before its question. Committed at once, so no
    Bot API call after it holds the connection; when the write fails the question simply
    counts as not yet shown (the next typed text gets the question again), which loses
    nothing.
    """
    if screen.asks is None:
        return
    record_id, version = screen.asks
    record = await session.get(Record, record_id)
    if record is None:
        return
    try:
        if await records_repo.note_asked(session, record, version, message_id):
            await session.commit()
    except SQLAlchemyError as exc:
        logger.warning("record %d: where its question was shown is not kept (%s)", record_id, exc)
        await session.rollback()


def typed_after_question(record: Record, message_id: int) -> bool:
    """Whether a message typed as ``message_id`` was written after the record's current
    question had been shown.

    Message ids of a private chat count the user's and the bot's messages in one sequence.
    A text sent before the question appeared answers something earlier: a second copy of the
    previous answer, or a reply to an older message. Applied to this question it would put
    words the person never meant for it into the form.
    """
    return (
        record.asked_version == record.version
        and record.asked_message_id is not None
        and message_id > record.asked_message_id
    )


def today() -> dt.date:
    """The collection date of a form started now (the survey's day, :mod:`bot.clock`)."""
    return clock.today()


def prefill_of(person: Person) -> dict[str, Any]:
    """The roster's values the form shows for confirmation."""
    return {
        "name": person.name,
        "id_number": person.id_number,
        "mobile": person.mobile,
        "residence": person.residence_address,
    }


async def open_record(
    session: AsyncSession,
    form: Form,
    filler: Filler,
    person: Person,
    *,
    channel: Channel = CHANNEL,
    chat_id: str | None = None,
) -> records_repo.StartResult:
    """Resume the person's live record or start a draft (the duplicate guard applies).

    The investigators' browser app (``bot.investigator_web``) starts its records here too,
    with its own ``channel`` and ``chat_id``: one rule for who may collect whom."""
    investigator = filler.investigator
    context: dict[str, Any] = {"collection_date": today()}
    if investigator is not None:
        context["investigator"] = investigator.name
    mode = "investigator" if investigator is not None else "resident"
    conv = Conversation.start(form, mode=mode, prefill=prefill_of(person), context=context)
    return await records_repo.get_or_start_draft(
        session,
        person,
        form_id=form.id,
        form_version=form.version,
        filled_by=FilledBy.investigator if investigator is not None else FilledBy.resident,
        state=conv.state,
        actor=filler.actor,
        investigator=investigator,
        channel=channel,
        chat_id=filler.chat_id if chat_id is None else chat_id,
    )


async def commit(session: AsyncSession, inbox_key: tuple[int, int, int] | None) -> None:
    """Commit the update's changes together with its inbox mark, before anything is sent:
    a crash after this point never applies the same answer twice."""
    if inbox_key is not None:
        await mark_handled(session, inbox_key)
    await session.commit()


async def persist(
    session: AsyncSession,
    record: Record,
    conv: Conversation,
    inbox_key: tuple[int, int, int] | None,
) -> None:
    """Save the conversation after an accepted step and commit (the record's version moves
    on, which makes every button drawn before stale)."""
    await records_repo.save_state(session, record, conv.state, expected_version=record.version)
    await commit(session, inbox_key)


def reopen(form: Form, record: Record, conv: Conversation) -> Conversation:
    """Open the fields staff marked (or the summary) again; returns the new conversation."""
    returns.reopen(record, conv)
    return Conversation.restore(form, conv.state)


async def person_of(session: AsyncSession, record: Record) -> Person:
    """The record's person."""
    person = await session.get(Person, record.person_id)
    assert person is not None
    return person
