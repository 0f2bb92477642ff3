"""Investigators: the household list, a household, one person (status, newest contact),
recording a contact, collecting a person, adding a person not on the roster, and
``/progress`` against the deadline."""

from __future__ import annotations

import datetime as dt

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.deadlines import deadline_for
from bot.settings import Settings
from bot.telegram.callbacks import HouseCb, HouseOp, MemberCb, MemberOp, PersonCb
from bot.telegram.handlers.context import (
    ADD_HOUSEHOLD,
    ADD_NAME,
    CONTACT,
    PAGE,
    Filler,
    Stage,
    commit,
    identify,
    open_record,
    set_active,
    today,
)
from bot.telegram.handlers.flow import completeness_text, show_record
from bot.telegram.handlers.replies import delete_quietly, edit, send
from bot.telegram.i18n import gettext as _
from bot.telegram.labels import member_status_text, outcome_labels, status_labels
from bot.telegram.render import Screen
from flows import Form, mask_id, mask_mobile, values
from storage import people
from storage.models import Community, ContactOutcome, Investigator, Person
from storage.person_status import DONE, RECORDABLE_OUTCOMES, STATUS_ORDER, PersonStatus
from storage.repositories import ContactError
from storage.repositories.actors import Actor
from storage.repositories.contacts import MAX_NOTE, add_contact, contacts_of_person
from storage.repositories.persons import add_person_off_roster

router = Router(name="households")

PAGE_SIZE = 8


def _counts_text(counts: dict[PersonStatus, int], *, zeros: bool = False) -> str:
    labels = status_labels()
    return "｜".join(
        f"{labels[status]} {counts.get(status, 0)}"
        for status in STATUS_ORDER
        if zeros or counts.get(status, 0)
    )


async def _investigator(session: AsyncSession, user_id: int, chat_id: int) -> Filler | None:
    filler = await identify(session, user_id, chat_id)
    return filler if filler.is_investigator else None


def _not_investigator() -> str:
    return _("此功能仅供已绑定的调查员使用。")


def _communities(investigator: Investigator) -> list[int]:
    return [c.id for c in investigator.communities]


async def _list_screen(session: AsyncSession, investigator: Investigator, page: int) -> Screen:
    rows = await people.household_lines(session, _communities(investigator))
    if not rows:
        return Screen(_("您负责的社区还没有入户名单。"))
    pages = (len(rows) + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(max(page, 0), pages - 1)
    shown = rows[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    lines = [
        _("入户名单（第 {page}/{pages} 页，共 {n} 户）").format(
            page=page + 1, pages=pages, n=len(rows)
        ),
        _("合计：{counts}").format(counts=_counts_text(people.total_counts(rows))),
        "",
    ]
    builder = InlineKeyboardBuilder()
    for row in shown:
        mark = "✅" if row.complete else "•"
        lines.append(
            f"{mark} {row.community} {_('户号')} {row.number}（{row.size}{_('人')}）："
            f"{_counts_text(row.counts)}"
        )
        builder.button(
            text=f"{mark} {row.number}",
            callback_data=HouseCb(o=HouseOp.view, h=row.id, p=page).pack(),
        )
    builder.adjust(4)
    nav: list[InlineKeyboardButton] = []
    if page > 0:
        nav.append(
            InlineKeyboardButton(
                text=_("‹ 上一页"), callback_data=HouseCb(o=HouseOp.page, p=page - 1).pack()
            )
        )
    if page < pages - 1:
        nav.append(
            InlineKeyboardButton(
                text=_("下一页 ›"), callback_data=HouseCb(o=HouseOp.page, p=page + 1).pack()
            )
        )
    if nav:
        builder.row(*nav)
    return Screen("\n".join(lines), builder.as_markup())


async def _household_screen(
    session: AsyncSession, form: Form, household_id: int, page: int
) -> Screen | None:
    found = await people.household_members(session, household_id)
    if found is None:
        return None
    household, community, members = found.household, found.community, found.members
    lines = [
        _("{community} 户号 {number}").format(community=community.name, number=household.number)
    ]
    builder = InlineKeyboardBuilder()
    for n, member in enumerate(members, 1):
        person = member.person
        flag = "" if person.on_roster else _("（名册外）")
        status = member_status_text(form, member)
        lines.append(f"{n}. {person.name}{flag} {mask_id(person.id_number)} — {status}")
        mark = "✅" if member.done else "•"
        builder.row(
            InlineKeyboardButton(
                text=f"{mark} {person.name}",
                callback_data=MemberCb(o=MemberOp.view, i=person.id, p=page).pack(),
            )
        )
    contacts = people.insured_contacts([m.person for m in members])
    if contacts:
        lines.append("")
        lines.append(_("已参保家庭成员（人户分离时可联系）："))
        for c in contacts:
            phone = mask_mobile(c["phone"]) if c["phone"] else _("无电话")
            lines.append(f"· {c['name']}（{c['relation']}）{phone}")
        builder.row(
            InlineKeyboardButton(
                text=_("查看联系电话"),
                callback_data=HouseCb(o=HouseOp.contacts, h=household_id, p=page).pack(),
            )
        )
    lines.append("")
    lines.append(await completeness_text(session, household_id))
    builder.row(
        InlineKeyboardButton(
            text=_("添加名册外人员"),
            callback_data=HouseCb(o=HouseOp.add, h=household_id, p=page).pack(),
        ),
        InlineKeyboardButton(
            text=_("‹ 返回名单"), callback_data=HouseCb(o=HouseOp.page, p=page).pack()
        ),
    )
    return Screen("\n".join(lines), builder.as_markup())


async def _person_screen(
    session: AsyncSession, form: Form, person: Person, page: int, notice: str | None = None
) -> Screen:
    """One person: status, phone (masked), the newest contacts; collect, record a contact."""
    found = await people.household_members(session, person.household_id)
    assert found is not None
    member = next(m for m in found.members if m.person.id == person.id)
    lines = [*([notice, ""] if notice else [])]
    lines.append(f"{person.name}（{mask_id(person.id_number)}）")
    lines.append(
        _("{community} 户号 {number}").format(
            community=found.community.name, number=found.household.number
        )
    )
    lines.append(_("状态：{status}").format(status=member_status_text(form, member)))
    phone = mask_mobile(person.mobile) if person.mobile else _("名册未提供")
    lines.append(_("手机：{phone}").format(phone=phone))
    log = list(await contacts_of_person(session, person.id))
    outcomes = outcome_labels()
    if log:
        lines.append(_("联系记录（共 {n} 次）：").format(n=len(log)))
        for c in log[:3]:
            note = f"：{c.note}" if c.note else ""
            lines.append(
                f"· {c.contacted_on.isoformat()} {outcomes[c.outcome]}（{c.actor_label}）{note}"
            )
    else:
        lines.append(_("尚无联系记录。"))
    builder = InlineKeyboardBuilder()
    first: list[InlineKeyboardButton] = []
    if member.status not in DONE:
        first.append(
            InlineKeyboardButton(
                text=_("采集：{name}").format(name=person.name),
                callback_data=PersonCb(i=person.id).pack(),
            )
        )
    first.append(
        InlineKeyboardButton(
            text=_("记录联系"),
            callback_data=MemberCb(o=MemberOp.contact, i=person.id, p=page).pack(),
        )
    )
    builder.row(*first)
    if person.mobile:
        builder.row(
            InlineKeyboardButton(
                text=_("查看手机号"),
                callback_data=MemberCb(o=MemberOp.phone, i=person.id, p=page).pack(),
            )
        )
    builder.row(
        InlineKeyboardButton(
            text=_("‹ 返回本户"),
            callback_data=HouseCb(o=HouseOp.view, h=person.household_id, p=page).pack(),
        )
    )
    return Screen("\n".join(lines), builder.as_markup())


def _outcome_screen(person: Person, page: int) -> Screen:
    labels = outcome_labels()
    builder = InlineKeyboardBuilder()
    for outcome in RECORDABLE_OUTCOMES:
        builder.button(
            text=labels[outcome],
            callback_data=MemberCb(o=MemberOp.outcome, i=person.id, p=page, x=outcome).pack(),
        )
    builder.adjust(2)
    builder.row(
        InlineKeyboardButton(
            text=_("‹ 返回"), callback_data=MemberCb(o=MemberOp.view, i=person.id, p=page).pack()
        )
    )
    text = _("记录对 {name} 的联系（{day}）：联系结果是？").format(
        name=person.name, day=clock.today().isoformat()
    )
    return Screen(text, builder.as_markup())


def _note_screen(person: Person, outcome: ContactOutcome, page: int) -> Screen:
    builder = InlineKeyboardBuilder()
    builder.row(
        InlineKeyboardButton(
            text=_("不填备注，保存"),
            callback_data=MemberCb(o=MemberOp.save, i=person.id, p=page, x=outcome).pack(),
        )
    )
    text = _(
        "联系结果：{outcome}。请发送备注（可选，例如“晚上再打”），或点“不填备注，保存”。"
    ).format(outcome=outcome_labels()[outcome])
    return Screen(text, builder.as_markup())


async def _household_in_scope(
    session: AsyncSession, investigator: Investigator, household_id: int
) -> bool:
    found = await people.household_members(session, household_id)
    return found is not None and found.community.id in _communities(investigator)


@router.message(Command("households"))
async def on_households(
    message: Message, session: AsyncSession, state: FSMContext, bot: Bot
) -> None:
    """The investigator's households with their collection counts, paged."""
    assert message.from_user is not None
    filler = await _investigator(session, message.from_user.id, message.chat.id)
    if filler is None or filler.investigator is None:
        await message.answer(_not_investigator())
        return
    await state.set_state(None)
    page = (await state.get_data()).get(PAGE, 0)
    screen = await _list_screen(session, filler.investigator, int(page or 0))
    await send(bot, filler.chat_id, screen)


@router.message(Command("progress"))
async def on_progress(message: Message, session: AsyncSession, settings: Settings) -> None:
    """The investigator's counts against the community deadline."""
    assert message.from_user is not None
    filler = await _investigator(session, message.from_user.id, message.chat.id)
    if filler is None or filler.investigator is None:
        await message.answer(_not_investigator())
        return
    await message.answer(await progress_text(session, filler.investigator, settings, clock.today()))


async def progress_text(
    session: AsyncSession, investigator: Investigator, settings: Settings, on: dt.date
) -> str:
    """Counts of the investigator's communities (未联系 first) and the days left."""
    rows = await people.household_lines(session, _communities(investigator))
    counts = people.total_counts(rows)
    total = sum(counts.values())
    done = sum(counts.get(s, 0) for s in DONE)
    complete = sum(1 for r in rows if r.complete)
    unreached = counts.get(PersonStatus.not_contacted, 0)
    share = f"{unreached / total:.0%}" if total else "0%"
    deadline = deadline_for("community", settings, on)
    if deadline.overdue:
        when = _("已过期")
    elif deadline.days_left == 0:
        when = _("今天截止")
    else:
        when = _("还剩 {n} 天").format(n=deadline.days_left)
    return "\n".join(
        [
            _("{name} 的采集进度").format(name=investigator.name),
            _("人员：{done}/{people} 已完成；户：{complete}/{households} 已完成").format(
                done=done, people=total, complete=complete, households=len(rows)
            ),
            _("未联系：{n} 人（{share}）").format(n=unreached, share=share),
            _counts_text(counts, zeros=True),
            _("社区完成采集期限：{deadline}（{when}）").format(
                deadline=deadline.day.isoformat(), when=when
            ),
        ]
    )


@router.callback_query(HouseCb.filter())
async def on_house(
    query: CallbackQuery,
    callback_data: HouseCb,
    session: AsyncSession,
    form: Form,
    state: FSMContext,
    bot: Bot,
) -> None:
    """Household list pages, a household, its contacts, adding a person."""
    filler = await _investigator(session, query.from_user.id, query.from_user.id)
    if filler is None or filler.investigator is None:
        await query.answer(_not_investigator(), show_alert=True)
        return
    investigator = filler.investigator
    pressed = query.message.message_id if isinstance(query.message, Message) else None
    if callback_data.o == HouseOp.page:
        await query.answer()
        await state.update_data({PAGE: callback_data.p})
        screen = await _list_screen(session, investigator, callback_data.p)
        await _show(bot, filler.chat_id, pressed, screen)
        return
    if not await _household_in_scope(session, investigator, callback_data.h):
        await query.answer(_("这一户不在您负责的社区。"), show_alert=True)
        return
    if callback_data.o == HouseOp.view:
        await query.answer()
        shown = await _household_screen(session, form, callback_data.h, callback_data.p)
        assert shown is not None
        await _show(bot, filler.chat_id, pressed, shown)
        return
    if callback_data.o == HouseOp.contacts:
        found = await people.household_members(session, callback_data.h)
        assert found is not None
        contacts = people.insured_contacts([m.person for m in found.members])
        lines = [_("已参保家庭成员联系电话：")]
        lines += [f"· {c['name']}（{c['relation']}）{c['phone'] or _('无电话')}" for c in contacts]
        await query.answer()
        await send(bot, filler.chat_id, Screen("\n".join(lines)))
        return
    await query.answer()
    await state.set_state(Stage.add_name)
    await state.update_data({ADD_HOUSEHOLD: callback_data.h})
    await send(
        bot,
        filler.chat_id,
        Screen(_("添加名册外人员：请输入此人的姓名（发送 /cancel 取消）。")),
    )


async def _show(bot: Bot, chat_id: int, pressed: int | None, screen: Screen) -> None:
    if pressed is None:
        await send(bot, chat_id, screen)
    else:
        await edit(bot, chat_id, pressed, screen.text, screen.markup)


@router.callback_query(PersonCb.filter())
async def on_person(
    query: CallbackQuery,
    callback_data: PersonCb,
    session: AsyncSession,
    form: Form,
    state: FSMContext,
    bot: Bot,
    inbox_key: tuple[int, int, int] | None = None,
) -> None:
    """Start (or resume) collecting one person: 采集状态 first, then the form."""
    filler = await _investigator(session, query.from_user.id, query.from_user.id)
    if filler is None or filler.investigator is None:
        await query.answer(_not_investigator(), show_alert=True)
        return
    person = await session.get(Person, callback_data.i)
    if person is None or person.community_id not in _communities(filler.investigator):
        await query.answer(_("这个人员不在您负责的社区。"), show_alert=True)
        return
    await query.answer()
    await _collect(session, bot, form, filler, person, state, inbox_key)


async def _person_in_scope(
    session: AsyncSession, investigator: Investigator, person_id: int
) -> Person | None:
    person = await session.get(Person, person_id)
    if person is None or person.community_id not in _communities(investigator):
        return None
    return person


@router.callback_query(MemberCb.filter())
async def on_member(
    query: CallbackQuery,
    callback_data: MemberCb,
    session: AsyncSession,
    form: Form,
    state: FSMContext,
    bot: Bot,
    inbox_key: tuple[int, int, int] | None = None,
) -> None:
    """One person of a household, their phone, and recording a contact with them."""
    filler = await _investigator(session, query.from_user.id, query.from_user.id)
    if filler is None or filler.investigator is None:
        await query.answer(_not_investigator(), show_alert=True)
        return
    person = await _person_in_scope(session, filler.investigator, callback_data.i)
    if person is None:
        await query.answer(_("这个人员不在您负责的社区。"), show_alert=True)
        return
    pressed = query.message.message_id if isinstance(query.message, Message) else None
    page, op = callback_data.p, callback_data.o
    if op == MemberOp.phone:
        await query.answer()
        text = _("{name} 的手机号码：{phone}").format(name=person.name, phone=person.mobile or "")
        await send(bot, filler.chat_id, Screen(text))
        return
    if op in (MemberOp.outcome, MemberOp.save):
        try:
            outcome = ContactOutcome(callback_data.x)
        except ValueError:
            outcome = None
        if outcome not in RECORDABLE_OUTCOMES:
            await query.answer(_("请从按钮中选择联系结果。"), show_alert=True)
            return
        assert outcome is not None
        if op == MemberOp.outcome:
            await query.answer()
            await state.set_state(Stage.contact_note)
            await state.update_data({CONTACT: [person.id, outcome.value, page]})
            await _show(bot, filler.chat_id, pressed, _note_screen(person, outcome, page))
            return
        waiting = await state.get_state() == Stage.contact_note.state
        if not waiting or (await state.get_value(CONTACT) or [])[:2] != [person.id, outcome.value]:
            # Pressed twice, or after /cancel: nothing more to save.
            await query.answer(_("这次联系已保存或已取消。"))
            return
        await query.answer()
        await _save_contact(
            session, bot, form, filler, person, outcome, None, state, inbox_key, page, pressed
        )
        return
    await query.answer()
    if op == MemberOp.contact:
        await _show(bot, filler.chat_id, pressed, _outcome_screen(person, page))
        return
    await _show(bot, filler.chat_id, pressed, await _person_screen(session, form, person, page))


@router.message(Stage.contact_note, F.text & ~F.text.startswith("/"))
async def on_contact_note(
    message: Message,
    session: AsyncSession,
    form: Form,
    state: FSMContext,
    bot: Bot,
    settings: Settings,
    inbox_key: tuple[int, int, int] | None = None,
) -> None:
    """The note of the contact whose outcome was just chosen; saves the contact."""
    assert message.from_user is not None and message.text is not None
    filler = await _investigator(session, message.from_user.id, message.chat.id)
    pending = await state.get_value(CONTACT)
    if filler is None or filler.investigator is None or not isinstance(pending, list):
        await state.set_state(None)
        await message.answer(_not_investigator() if filler is None else _("请重新选择联系结果。"))
        return
    person = await _person_in_scope(session, filler.investigator, int(pending[0]))
    if person is None:
        await state.set_state(None)
        await message.answer(_("这个人员不在您负责的社区。"))
        return
    note = message.text.strip()
    if len(note) > MAX_NOTE:
        await message.answer(
            _("备注最多 {n} 个字，请缩短后重新发送，或点“不填备注，保存”。").format(n=MAX_NOTE)
        )
        return
    await _save_contact(
        session,
        bot,
        form,
        filler,
        person,
        ContactOutcome(pending[1]),
        note,
        state,
        inbox_key,
        int(pending[2]) if len(pending) > 2 else 0,
        None,
    )
    if settings.delete_id_messages and values.contains_id_number(message.text):
        await delete_quietly(bot, message.chat.id, message.message_id)


async def _save_contact(
    session: AsyncSession,
    bot: Bot,
    form: Form,
    filler: Filler,
    person: Person,
    outcome: ContactOutcome,
    note: str | None,
    state: FSMContext,
    inbox_key: tuple[int, int, int] | None,
    page: int,
    pressed: int | None,
) -> None:
    investigator = filler.investigator
    assert investigator is not None
    day = clock.today()
    try:
        await add_contact(
            session,
            person,
            outcome=outcome,
            on=day,
            today=day,
            actor=Actor.investigator(investigator),
            channel="telegram",
            note=note,
            investigator=investigator,
        )
    except ContactError:
        await session.rollback()
        await send(bot, filler.chat_id, Screen(_("请重新选择联系结果。")))
        await state.set_state(None)
        return
    await state.set_state(None)
    await state.update_data({CONTACT: None})
    await commit(session, inbox_key)
    notice = _("已记录联系：{day} {outcome}").format(
        day=day.isoformat(), outcome=outcome_labels()[outcome]
    )
    await _show(
        bot, filler.chat_id, pressed, await _person_screen(session, form, person, page, notice)
    )


async def _collect(
    session: AsyncSession,
    bot: Bot,
    form: Form,
    filler: Filler,
    person: Person,
    state: FSMContext,
    inbox_key: tuple[int, int, int] | None,
    notice: str | None = None,
) -> None:
    opened = await open_record(session, form, filler, person)
    await commit(session, inbox_key)
    if opened.outcome == "duplicate":
        await send(
            bot,
            filler.chat_id,
            Screen(
                _("{name} 的登记已由{who}于 {when} 办理，不能重复采集。").format(
                    name=person.name, who=opened.who, when=clock.local_date(opened.when).isoformat()
                )
            ),
        )
        return
    await set_active(state, opened.record.id)
    head = _("采集：{name}（{masked}）").format(name=person.name, masked=mask_id(person.id_number))
    notice = f"{notice}\n{head}" if notice else head
    await show_record(session, bot, form, filler, opened.record, state, inbox_key, notice=notice)


@router.message(Stage.add_name, F.text & ~F.text.startswith("/"))
async def on_add_name(message: Message, session: AsyncSession, state: FSMContext) -> None:
    """The new person's name."""
    assert message.text is not None
    try:
        name = values.person_name(message.text)
    except values.Invalid as exc:
        await message.answer(f"❗ {exc.message}\n" + _("请重新输入此人的姓名。"))
        return
    await state.update_data({ADD_NAME: name})
    await state.set_state(Stage.add_id)
    await message.answer(_("请输入 {name} 的18位公民身份号码。").format(name=name))


@router.message(Stage.add_id, F.text & ~F.text.startswith("/"))
async def on_add_id(
    message: Message,
    session: AsyncSession,
    form: Form,
    state: FSMContext,
    bot: Bot,
    settings: Settings,
    inbox_key: tuple[int, int, int] | None = None,
) -> None:
    """The new person's 公民身份号码: add them (flagged for staff) and start their form."""
    assert message.from_user is not None and message.text is not None
    filler = await _investigator(session, message.from_user.id, message.chat.id)
    if filler is None or filler.investigator is None:
        await state.set_state(None)
        await message.answer(_not_investigator())
        return
    data = await state.get_data()
    carries_id = settings.delete_id_messages and values.contains_id_number(message.text)
    try:
        number = values.id_number(message.text, today())
    except values.Invalid as exc:
        # Refused or not, a full number typed into the chat does not stay there.
        if carries_id:
            await delete_quietly(bot, message.chat.id, message.message_id)
        await message.answer(f"❗ {exc.message}\n" + _("请重新输入18位公民身份号码。"))
        return
    household_id = data.get(ADD_HOUSEHOLD)
    found = await people.household_members(session, int(household_id or 0))
    if found is None or found.community.id not in _communities(filler.investigator):
        await state.set_state(None)
        await message.answer(_("这一户不在您负责的社区。"))
        return
    household, community = found.household, found.community
    community_row = await session.get(Community, community.id)
    assert community_row is not None
    person, created = await add_person_off_roster(
        session,
        community=community_row,
        household_number=household.number,
        name=str(data.get(ADD_NAME) or ""),
        id_number=number,
        investigator=filler.investigator,
    )
    await state.set_state(None)
    if carries_id:
        await commit(session, None)
        await delete_quietly(bot, message.chat.id, message.message_id)
    if created:
        notice = _("已添加 {name}（名册外人员，将提示社保经办机构核实）。").format(name=person.name)
    else:
        notice = _("这个公民身份号码已在名单中：{name}。").format(name=person.name)
    await _collect(session, bot, form, filler, person, state, inbox_key, notice)
