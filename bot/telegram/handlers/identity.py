"""A resident proves who they are by typing the 公民身份号码 of the invite's person."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
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
    today,
)
from bot.telegram.handlers.flow import show_record
from bot.telegram.handlers.replies import delete_quietly
from bot.telegram.i18n import gettext as _
from flows import Form, values
from storage.models import Invite, Person
from storage.repositories import records as records_repo
from storage.repositories.actors import Actor
from storage.repositories.audit import add_event
from storage.repositories.invites import VerifyOutcome, is_locked, verify_identity
from storage.repositories.outbox import enqueue
from storage.types import utcnow

router = Router(name="identity")


def _not_counted() -> str:
    return _("请输入登记对象的18位公民身份号码（最后一位可以是X）。这次输入不计入核对次数。")


def _taken_over(name: str) -> str:
    return _(
        "{name} 的登记已在另一个 Telegram 账号上通过身份核对，之后的填写和通知都在那个账号上"
        "进行。如果不是您本人或家人操作，请尽快联系所在社区。"
    ).format(name=name)


def _verified_telegram_chat(invite: Invite) -> str | None:
    """The Telegram chat that proved this invite's identity before, if any."""
    if invite.verified_at is None or invite.verified_channel != CHANNEL:
        return None
    return invite.verified_chat_id


async def _tell_previous_chat(
    session: AsyncSession, invite: Invite, previous_chat: str, chat_id: int
) -> None:
    """A second Telegram account proved the same identity: the record follows it (the
    resident may have changed phones), so the first chat is told, through the outbox, and
    the change is audited; nothing is taken over silently."""
    person = await session.get(Person, invite.person_id)
    assert person is not None
    record = await records_repo.live_record_for_person(session, person.id)
    record_id = record.id if record is not None else None
    await enqueue(
        session,
        channel=CHANNEL,
        chat_id=previous_chat,
        kind="identity_taken_over",
        payload={"text": _taken_over(person.name)},
        dedup_key=f"invite:{invite.id}:taken_over:{chat_id}:{utcnow().timestamp():.0f}",
        record_id=record_id,
    )
    add_event(
        session,
        Actor.resident(chat_id),
        "identity_taken_over",
        record_id=record_id,
        person_id=person.id,
        channel=CHANNEL,
        details={"previous_chat_id": previous_chat, "chat_id": str(chat_id)},
    )


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
    carries_id = settings.delete_id_messages and values.contains_id_number(message.text)
    if not is_locked(invite):
        try:
            typed = values.id_number(message.text, today())
        except values.Invalid as exc:
            # Text that cannot be anyone's number ("你好", a digit too few) is not a guess at
            # this person's: it gets a hint and costs no try.
            if carries_id:
                await delete_quietly(bot, message.chat.id, message.message_id)
            await message.answer(f"❗ {exc.message}\n" + _not_counted())
            return
    else:
        typed = ""  # a locked invite answers "locked" whatever is typed
    previous_chat = _verified_telegram_chat(invite)
    result = await verify_identity(session, invite, typed, channel=CHANNEL, chat_id=message.chat.id)
    if result.outcome == VerifyOutcome.ok and previous_chat not in (None, str(message.chat.id)):
        await _tell_previous_chat(session, invite, previous_chat, message.chat.id)
    # Committed whatever the outcome: a wrong answer must count even if sending fails.
    await commit(session, None)
    if carries_id:
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
            ).format(
                name=person.name,
                who=opened.who,
                when=clock.local_date(opened.when).isoformat(),
            ),
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
