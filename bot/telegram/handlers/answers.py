"""Typed answers to the current question, and a hint for anything that is not an answer."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.identity import check_id_answer, warning_text
from bot.settings import Settings
from bot.telegram.handlers.context import (
    Filler,
    active_record,
    identify,
    needs_reopen,
    paused,
    persist,
    typed_after_question,
)
from bot.telegram.handlers.flow import conflicted, show_record
from bot.telegram.handlers.replies import ask, delete_quietly, send
from bot.telegram.i18n import gettext as _
from bot.telegram.render import current_screen
from flows import Conversation, Form, Rejected, values
from storage.repositories.errors import StorageError

router = Router(name="answers")

# Longer than any answer of the form (备注 is at most 200 characters; an address part 60).
MAX_ANSWER_LENGTH = 500


def _nothing_open(filler: Filler) -> str:
    if filler.is_investigator:
        return _("现在没有正在填写的表。请发送 /households 选择要采集的人员。")
    return _("您好！请点击社区发给您的登记链接开始登记。发送 /help 查看帮助。")


@router.message(F.text & ~F.text.startswith("/"))
async def on_text(
    message: Message,
    session: AsyncSession,
    form: Form,
    state: FSMContext,
    bot: Bot,
    settings: Settings,
    inbox_key: tuple[int, int] | None = None,
) -> None:
    """Answer the current question with what was typed."""
    assert message.from_user is not None and message.text is not None
    filler = await identify(session, message.from_user.id, message.chat.id, state)
    record = await active_record(session, state, filler)
    stray_id = settings.delete_id_messages and values.contains_id_number(message.text)
    if record is None:
        await message.answer(_nothing_open(filler))
        if stray_id:
            await delete_quietly(bot, filler.chat_id, message.message_id)
        return
    if await paused(state):
        await message.answer(_("填写已暂停，这条消息没有作为答案。发送 /start 继续填写。"))
        if stray_id:
            await delete_quietly(bot, filler.chat_id, message.message_id)
        return
    conv = Conversation.restore(form, record.state)
    if not record.editable or needs_reopen(record, conv):
        await show_record(session, bot, form, filler, record, state, inbox_key)
        if stray_id:
            await delete_quietly(bot, filler.chat_id, message.message_id)
        return
    screen = current_screen(conv, record.id, record.version)
    if len(message.text) > MAX_ANSWER_LENGTH:
        too_long = _("内容太长（{n}个字）。请只回答当前问题。").format(n=len(message.text))
        await ask(bot, session, filler.chat_id, screen.prefixed(too_long))
        return
    if conv.prompt is None:
        await send(bot, filler.chat_id, screen.prefixed(_("请点击下方的按钮继续。")))
        return
    if not typed_after_question(record, message.message_id):
        notice = _("这条消息是在下面这道题显示之前发出的，没有作为它的答案。请看题后再回答。")
        await ask(bot, session, filler.chat_id, screen.prefixed(notice))
        if stray_id:
            await delete_quietly(bot, filler.chat_id, message.message_id)
        return
    answered = conv.prompt
    result = conv.answer(message.text)
    if isinstance(result, Rejected):
        await ask(bot, session, filler.chat_id, screen.prefixed(f"❗ {result.message}"))
        if stray_id:
            await delete_quietly(bot, filler.chat_id, message.message_id)
        return
    try:
        await persist(session, record, conv, inbox_key)
    except StorageError:
        await conflicted(session, bot, form, filler, record, state, inbox_key)
        return
    if stray_id:
        await delete_quietly(bot, filler.chat_id, message.message_id)
    screen = current_screen(conv, record.id, record.version)
    check = await check_id_answer(session, record, conv, answered)
    if check is not None:
        screen = screen.prefixed("⚠ " + warning_text(check, _))
    await ask(bot, session, filler.chat_id, screen)


@router.message(F.text.startswith("/"))
async def on_unknown_command(message: Message) -> None:
    """A command the bot does not know."""
    await message.answer(_("没有这个命令。发送 /help 查看可用的命令。"))


@router.message()
async def on_not_text(
    message: Message,
    session: AsyncSession,
    form: Form,
    state: FSMContext,
    bot: Bot,
) -> None:
    """Stickers, photos, voice...: a one-line hint and the question again."""
    assert message.from_user is not None
    filler = await identify(session, message.from_user.id, message.chat.id, state)
    hint = _("请用文字回答，或点击消息下方的按钮。")
    record = await active_record(session, state, filler)
    if record is None or not record.editable:
        await message.answer(f"{hint}\n{_nothing_open(filler)}")
        return
    conv = Conversation.restore(form, record.state)
    screen = current_screen(conv, record.id, record.version)
    await ask(bot, session, filler.chat_id, screen.prefixed(hint))
