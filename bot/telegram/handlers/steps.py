"""Buttons on a record's messages: choices, 确认/跳过, multi-select, review, edit, submit.

A button is refused with a short answer, changing nothing, when it names someone else's
record or was drawn for an older version of the record (an old message, a double tap).
"""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram.callbacks import StepCb
from bot.telegram.handlers import actions
from bot.telegram.handlers.context import (
    identify,
    needs_reopen,
    note_asked,
    owns,
    persist,
    set_active,
)
from bot.telegram.handlers.flow import conflicted, show_record, submit
from bot.telegram.handlers.replies import ask, edit
from bot.telegram.i18n import gettext as _
from bot.telegram.render import current_screen
from flows import Conversation, Form
from storage.models import Record
from storage.repositories.errors import StorageError

router = Router(name="steps")


@router.callback_query(StepCb.filter())
async def on_step(
    query: CallbackQuery,
    callback_data: StepCb,
    session: AsyncSession,
    form: Form,
    state: FSMContext,
    bot: Bot,
    inbox_key: tuple[int, int] | None = None,
) -> None:
    """Apply one button to its record."""
    filler = await identify(session, query.from_user.id, query.from_user.id, state)
    record = await session.get(Record, callback_data.r)
    if record is None or not owns(filler, record):
        await query.answer(_("这个按钮不属于您的登记。"), show_alert=True)
        return
    if record.version != callback_data.v:
        await query.answer(_("这个按钮已过期，请看最新的消息。"))
        return
    if not record.editable:
        await query.answer(_("这份登记已经提交，不能再修改。"), show_alert=True)
        return
    conv = Conversation.restore(form, record.state)
    if needs_reopen(record, conv):
        await query.answer()
        await show_record(session, bot, form, filler, record, state, inbox_key)
        return
    outcome = actions.apply(conv, callback_data.o, callback_data.x)
    if outcome.error is not None:
        await query.answer(outcome.error[:200], show_alert=True)
        return
    await set_active(state, record.id)
    pressed = query.message.message_id if isinstance(query.message, Message) else None
    try:
        if outcome.submit:
            await submit(session, bot, filler, record, conv, inbox_key, pressed)
            await query.answer(_("已提交"))
            return
        await persist(session, record, conv, inbox_key)
    except StorageError:
        await query.answer()
        await conflicted(session, bot, form, filler, record, state, inbox_key)
        return
    await query.answer()
    screen = current_screen(conv, record.id, record.version)
    in_place = outcome.redraw or outcome.answered is not None
    if pressed is None or not in_place:
        # From the review or the summary the next screen comes below, and they stay readable.
        await ask(bot, session, filler.chat_id, screen)
        return
    # The pressed question becomes the next one where it is (a tick redraws it; an answer
    # shows "问题：答案" above the next question): one Bot API call, no new message.
    if outcome.answered is not None:
        screen = screen.prefixed(outcome.answered)
    shown = await edit(bot, filler.chat_id, pressed, screen.text, screen.markup)
    await note_asked(session, screen, shown)
