"""Steps shared by the routers: showing where a record stands, reopening a returned record,
submitting, and the household completeness message (户不漏人)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reference import reference
from bot.returns import field_labels
from bot.telegram.handlers.context import (
    CHANNEL,
    Filler,
    commit,
    needs_reopen,
    persist,
    person_of,
    reopen,
)
from bot.telegram.handlers.replies import ask, edit, send
from bot.telegram.i18n import gettext as _
from bot.telegram.labels import describe
from bot.telegram.render import Screen, current_screen, submitted_text
from flows import Conversation, Form
from storage import people
from storage.models import Record, RecordStatus
from storage.repositories import records as records_repo


def status_line(record: Record, conv: Conversation | None = None) -> str:
    """A record's review status in one line (for /status)."""
    ref = reference(record.id)
    if record.status == RecordStatus.draft:
        where = ""
        if conv is not None and conv.prompt is not None:
            where = _("，第 {step}/{total} 题").format(
                step=conv.prompt.step, total=conv.prompt.total
            )
        return _("草稿（尚未提交{where}），登记编号 {ref}").format(where=where, ref=ref)
    if record.status == RecordStatus.submitted:
        return _("已提交，等待审核，登记编号 {ref}").format(ref=ref)
    if record.status == RecordStatus.returned:
        return _("已退回修改：{comment}（登记编号 {ref}）").format(
            comment=record.return_comment or "", ref=ref
        )
    return _("已审核确认，登记编号 {ref}").format(ref=ref)


async def show_record(
    session: AsyncSession,
    bot: Bot,
    form: Form,
    filler: Filler,
    record: Record,
    state: FSMContext,
    inbox_key: tuple[int, int] | None,
    *,
    notice: str | None = None,
) -> None:
    """Send where the record stands: the current question (reopening a returned record first),
    or its status when it is no longer editable."""
    if not record.editable:
        person = await person_of(session, record)
        text = _("{name} 的登记：{status}").format(name=person.name, status=status_line(record))
        await send(bot, filler.chat_id, Screen(text if notice is None else f"{notice}\n\n{text}"))
        return
    conv = Conversation.restore(form, record.state)
    if needs_reopen(record, conv):
        conv = reopen(form, record, conv)
        await persist(session, record, conv, inbox_key)
        fields = field_labels(form, record.return_fields or [])
        lines = [_("您提交的登记被退回修改：{comment}").format(comment=record.return_comment or "")]
        if fields:
            lines.append(_("需要修改：{fields}").format(fields="、".join(fields)))
        notice = "\n".join([*([notice] if notice else []), *lines])
    screen = current_screen(conv, record.id, record.version)
    await ask(bot, session, filler.chat_id, screen if notice is None else screen.prefixed(notice))


async def completeness_text(session: AsyncSession, household_id: int) -> str:
    """What is left in a household (户不漏人), or that it is complete."""
    found = await people.household_members(session, household_id)
    if found is None:
        return ""
    household, left = found.household, found.missing
    if not left:
        return _("✅ 户号 {number} 已全部完成（户不漏人）。").format(number=household.number)
    names = "、".join(f"{m.person.name}（{describe(m.status)}）" for m in left)
    return _("户号 {number} 还差 {n} 人：{names}").format(
        number=household.number, n=len(left), names=names
    )


async def submit(
    session: AsyncSession,
    bot: Bot,
    filler: Filler,
    record: Record,
    conv: Conversation,
    inbox_key: tuple[int, int] | None,
    message_id: int | None,
) -> None:
    """Submit the completed form (a new revision), then say so with the reference number and
    the policy notes; investigators also see what is left in the household."""
    await records_repo.submit(
        session,
        record,
        answers=conv.record(),
        state=conv.state,
        actor=filler.actor,
        expected_version=record.version,
        channel=str(CHANNEL),
        flags=[w.code for w in conv.warnings()],
        unchanged=conv.unchanged_after_reopen(),
    )
    await commit(session, inbox_key)
    extra: list[str] = []
    if filler.is_investigator:
        extra.append(await completeness_text(session, record.household_id))
        extra.append(_("继续采集请发送 /households。"))
    text = submitted_text(record.id, conv.policy_notes(), extra)
    if message_id is not None:
        await edit(bot, filler.chat_id, message_id, text)
    else:
        await send(bot, filler.chat_id, Screen(text))


async def conflicted(
    session: AsyncSession,
    bot: Bot,
    form: Form,
    filler: Filler,
    record: Record,
    state: FSMContext,
    inbox_key: tuple[int, int] | None,
) -> None:
    """The record changed elsewhere (the web chat, a reviewer) while this step was made:
    nothing of this step is kept; show the record as it now is."""
    await session.rollback()
    await session.refresh(record)
    await show_record(
        session,
        bot,
        form,
        filler,
        record,
        state,
        inbox_key,
        notice=_("这份登记刚刚在别处更新过，刚才的操作没有保存。请看当前的内容。"),
    )
