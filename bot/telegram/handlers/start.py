"""``/start``: a resident's invite (deep link), an investigator's binding code, or resuming."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.privacy import before_identity
from bot.telegram.handlers.context import (
    INVITE,
    Stage,
    active_record,
    commit,
    identify,
    set_active,
)
from bot.telegram.handlers.flow import show_record
from bot.telegram.handlers.help import help_text
from bot.telegram.handlers.identity import open_for_invite
from bot.telegram.i18n import gettext as _
from flows import Form
from storage.models import Investigator, Invite
from storage.repositories.accounts import bind_investigator, looks_like_binding_code
from storage.repositories.errors import BindingError
from storage.repositories.invites import is_locked, resolve_start_code

logger = logging.getLogger(__name__)

router = Router(name="start")


@router.message(CommandStart())
async def on_start(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    form: Form,
    state: FSMContext,
    bot: Bot,
    inbox_key: tuple[int, int, int] | None = None,
) -> None:
    """Deep link ``/start CODE`` or a plain ``/start``."""
    assert message.from_user is not None
    filler = await identify(session, message.from_user.id, message.chat.id, state)
    code = (command.args or "").strip()
    if not code:
        record = await active_record(session, state, filler)
        if record is None:
            await message.answer(help_text(filler.is_investigator))
            return
        await set_active(state, record.id)
        await show_record(
            session, bot, form, filler, record, state, inbox_key, notice=_("欢迎回来，继续填写。")
        )
        return
    target = await resolve_start_code(session, code)
    if isinstance(target, Investigator) or looks_like_binding_code(code):
        await _bind(message, session, code, state, inbox_key)
        return
    if not isinstance(target, Invite):
        await message.answer(
            _("这个登记链接无效或已过期。请使用社区工作人员发给您的链接，或联系所在社区。")
        )
        return
    if filler.is_investigator:
        await message.answer(_("您的账号是调查员账号。请用 /households 选择要采集的人员。"))
        return
    invite = target
    await state.set_state(None)
    if is_locked(invite):
        await message.answer(
            _("这个登记链接因身份核对错误次数过多已被锁定。请联系所在社区核实身份后解锁。")
        )
        return
    if invite.verified_chat_id == str(message.chat.id):
        await open_for_invite(session, bot, form, filler, invite, state, inbox_key)
        return
    await state.set_state(Stage.identity)
    await state.update_data({INVITE: invite.id})
    # Before the identity check only the surname and the community (bot.privacy).
    hint = before_identity(invite.person.name, invite.person.community.name)
    await message.answer(
        _(
            "您好！这是{community}{surname}某的全民参保登记。\n"
            "为确认身份，请输入登记对象的18位公民身份号码。"
        ).format(**hint)
    )


async def _bind(
    message: Message,
    session: AsyncSession,
    code: str,
    state: FSMContext,
    inbox_key: tuple[int, int, int] | None,
) -> None:
    assert message.from_user is not None
    try:
        investigator = await bind_investigator(session, code, message.from_user.id)
    except BindingError as exc:
        await message.answer(str(exc))
        return
    await commit(session, inbox_key)
    await state.clear()  # also forgets "not an investigator" (see context.identify)
    names = "、".join(c.name for c in investigator.communities)
    await message.answer(
        _(
            "绑定成功！{name}，您负责的社区：{communities}。\n"
            "发送 /households 查看入户名单，/progress 查看采集进度。"
        ).format(name=investigator.name, communities=names)
    )
