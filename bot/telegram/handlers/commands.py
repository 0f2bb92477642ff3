"""``/back``, ``/summary``, ``/cancel`` and ``/status``."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram.handlers.context import (
    CHANNEL,
    Filler,
    active_record,
    identify,
    needs_reopen,
    pause,
    persist,
    person_of,
    set_active,
)
from bot.telegram.handlers.flow import show_record, status_line
from bot.telegram.handlers.replies import ask
from bot.telegram.i18n import gettext as _
from bot.telegram.render import Screen, current_screen, summary_screen
from flows import Conversation, Form
from storage.models import Record
from storage.repositories import records as records_repo

router = Router(name="commands")


async def _editable(
    message: Message,
    session: AsyncSession,
    state: FSMContext,
    form: Form,
    bot: Bot,
    inbox_key: tuple[int, int] | None,
) -> tuple[Record, Conversation] | None:
    """The active record and its conversation when it may be changed now; otherwise the user
    is told why (no record, or the record as it stands) and ``None`` is returned."""
    assert message.from_user is not None
    filler = await identify(session, message.from_user.id, message.chat.id, state)
    record = await active_record(session, state, filler)
    if record is None:
        await message.answer(_no_record(filler))
        return None
    conv = Conversation.restore(form, record.state)
    await set_active(state, record.id)  # a command on the record resumes a pause
    if not record.editable or needs_reopen(record, conv):
        await show_record(session, bot, form, filler, record, state, inbox_key)
        return None
    return record, conv


def _no_record(filler: Filler) -> str:
    if filler.is_investigator:
        return _("现在没有正在填写的表。请发送 /households 选择要采集的人员。")
    return _("您还没有开始登记。请点击社区发给您的登记链接开始。")


@router.message(Command("back"))
async def on_back(
    message: Message,
    session: AsyncSession,
    form: Form,
    state: FSMContext,
    bot: Bot,
    inbox_key: tuple[int, int] | None = None,
) -> None:
    """Return to the previous question."""
    opened = await _editable(message, session, state, form, bot, inbox_key)
    if opened is None:
        return
    record, conv = opened
    before = conv.position
    conv.back()
    chat_id = message.chat.id
    if conv.position == before:
        screen = current_screen(conv, record.id, record.version)
        await ask(bot, session, chat_id, screen.prefixed(_("已经是第一题了。")))
        return
    await persist(session, record, conv, inbox_key)
    await ask(bot, session, chat_id, current_screen(conv, record.id, record.version))


@router.message(Command("summary"))
async def on_summary(
    message: Message,
    session: AsyncSession,
    form: Form,
    state: FSMContext,
    bot: Bot,
    inbox_key: tuple[int, int] | None = None,
) -> None:
    """Every answer so far, each with an edit button."""
    opened = await _editable(message, session, state, form, bot, inbox_key)
    if opened is None:
        return
    record, conv = opened
    screen = summary_screen(conv, record.id, record.version)
    await message.answer(screen.text, reply_markup=screen.markup)


@router.message(Command("cancel"))
async def on_cancel(message: Message, session: AsyncSession, state: FSMContext) -> None:
    """Pause: the draft stays saved; leave any side step (identity proof, adding a person)."""
    assert message.from_user is not None
    filler = await identify(session, message.from_user.id, message.chat.id, state)
    await state.set_state(None)
    if filler.is_investigator:
        await set_active(state, 0)
        await message.answer(_("已暂停，草稿已保存。发送 /households 继续采集，或选择其他人员。"))
        return
    await pause(state)
    await message.answer(_("已暂停，草稿已保存。下次发送 /start 即可从暂停处继续。"))


@router.message(Command("status"))
async def on_status(message: Message, session: AsyncSession, form: Form, state: FSMContext) -> None:
    """The status of the user's records: draft, submitted, returned (with why) or confirmed."""
    assert message.from_user is not None
    filler = await identify(session, message.from_user.id, message.chat.id, state)
    if filler.investigator is not None:
        records = list(await records_repo.records_of_investigator(session, filler.investigator.id))
        lines = [_("您最近采集的记录：")]
        records = records[:10]
    else:
        records = list(await records_repo.records_of_chat(session, CHANNEL, filler.chat_id))
        lines = [_("您的登记：")]
    if not records:
        await message.answer(_no_record(filler))
        return
    for record in records:
        person = await person_of(session, record)
        conv = Conversation.restore(form, record.state) if record.editable else None
        lines.append(f"• {person.name}：{status_line(record, conv)}")
        if conv is not None and needs_reopen(record, conv):
            lines.append(_("  发送 /start 开始修改。"))
    await message.answer(Screen("\n".join(lines)).text)
