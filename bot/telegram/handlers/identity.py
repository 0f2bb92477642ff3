"""A resident proves who they are by typing the 公民身份号码 of the invite's person."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings
from bot.telegram.handlers.context import (
    CHANNEL,
    INVITE,
    Filler,
    Stage,
    commit,
    identify,
    open_record,
    set_active,
)
from bot.telegram.handlers.flow import show_record
from bot.telegram.handlers.replies import carries_id_number, delete_quietly
from bot.telegram.i18n import gettext as _
from flows import Form
from storage.models import Invite, Person
from storage.repositories.invites import VerifyOutcome, verify_identity

router = Router(name="identity")


@router.message(Stage.identity, F.text)
async def on_identity(
    message: Message,
    session: AsyncSession,
    form: Form,
    state: FSMContext,
    bot: Bot,
    settings: Settings,
    inbox_key: tuple[int, int, int] | None = None,
) -> None:
    """Check the typed number; wrong answers count towards the invite's lock."""
    assert message.from_user is not None and message.text is not None
    filler = await identify(session, message.from_user.id, message.chat.id, state)
    invite_id = (await state.get_data()).get(INVITE)
    invite = await session.get(Invite, invite_id) if isinstance(invite_id, int) else None
    if invite is None:
        await state.set_state(None)
        await message.answer(_("请重新点击社区发给您的登记链接。"))
        return
    result = await verify_identity(
        session, invite, message.text, channel=CHANNEL, chat_id=message.chat.id
    )
    # Committed whatever the outcome: a wrong answer must count even if sending fails.
    await commit(session, None)
    if settings.delete_id_messages and carries_id_number(message.text):
        await delete_quietly(bot, message.chat.id, message.message_id)
    if result.outcome == VerifyOutcome.locked:
        await state.set_state(None)
        await message.answer(
            _("公民身份号码核对错误次数过多，这个登记链接已被锁定。请联系所在社区核实身份后解锁。")
        )
        return
    if result.outcome == VerifyOutcome.wrong:
        await message.answer(
            _(
                "公民身份号码与登记信息不符，还可以再试 {left} 次。\n"
                "请输入18位公民身份号码（最后一位可以是X）。"
            ).format(left=result.attempts_left)
        )
        return
    await state.set_state(None)
    await open_for_invite(session, bot, form, filler, invite, state, inbox_key, verified=True)


async def open_for_invite(
    session: AsyncSession,
    bot: Bot,
    form: Form,
    filler: Filler,
    invite: Invite,
    state: FSMContext,
    inbox_key: tuple[int, int, int] | None,
    *,
    verified: bool = False,
) -> None:
    """After the identity proof: resume or start the person's record and show it."""
    person = await session.get(Person, invite.person_id)
    assert person is not None
    opened = await open_record(session, form, filler, person)
    if opened.outcome == "duplicate":
        await commit(session, inbox_key)
        await bot.send_message(
            filler.chat_id,
            _(
                "{name} 的登记已由{who}于 {when} 办理，无需重复登记。如有疑问请联系所在社区。"
            ).format(name=person.name, who=opened.who, when=opened.when.date().isoformat()),
        )
        return
    await commit(session, inbox_key)
    await set_active(state, opened.record.id)
    if opened.outcome == "started":
        notice = _("下面开始填写 {name} 的登记信息。").format(name=person.name)
    else:
        notice = _("欢迎回来，继续 {name} 的登记。").format(name=person.name)
    if verified:
        notice = _("身份核对成功。") + notice
    await show_record(session, bot, form, filler, opened.record, state, inbox_key, notice=notice)
