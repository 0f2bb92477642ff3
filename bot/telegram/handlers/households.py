"""Investigators: the household list, a household, collecting a person, adding a person not
on the roster, and ``/progress`` against the deadline."""

from __future__ import annotations

import datetime as dt

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings
from bot.telegram.callbacks import HouseCb, HouseOp, PersonCb
from bot.telegram.handlers import roster
from bot.telegram.handlers.context import (
    ADD_HOUSEHOLD,
    ADD_NAME,
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
from bot.telegram.handlers.replies import carries_id_number, delete_quietly, edit, send
from bot.telegram.i18n import gettext as _
from bot.telegram.render import Screen
from flows import Form, Invalid, mask_id, mask_mobile
from flows.validators import clean_name
from flows.validators import id_number as check_id_number
from storage.models import Community, Investigator, Person
from storage.repositories.persons import add_person_off_roster

router = Router(name="households")

PAGE_SIZE = 8
_NAME_CHARS = 30


def _counts_text(counts: dict[roster.Collection, int]) -> str:
    return "｜".join(f"{status.value} {counts.get(status, 0)}" for status in roster.ORDER)


async def _investigator(session: AsyncSession, user_id: int, chat_id: int) -> Filler | None:
    filler = await identify(session, user_id, chat_id)
    return filler if filler.is_investigator else None


def _not_investigator() -> str:
    return _("此功能仅供已绑定的调查员使用。")


def _communities(investigator: Investigator) -> list[int]:
    return [c.id for c in investigator.communities]


async def _list_screen(session: AsyncSession, investigator: Investigator, page: int) -> Screen:
    rows = await roster.households(session, _communities(investigator))
    if not rows:
        return Screen(_("您负责的社区还没有入户名单。"))
    pages = (len(rows) + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(max(page, 0), pages - 1)
    shown = rows[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    lines = [
        _("入户名单（第 {page}/{pages} 页，共 {n} 户）").format(
            page=page + 1, pages=pages, n=len(rows)
        ),
        _("合计：{counts}").format(counts=_counts_text(roster.totals(rows))),
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


async def _household_screen(session: AsyncSession, household_id: int, page: int) -> Screen | None:
    found = await roster.household(session, household_id)
    if found is None:
        return None
    household, community, members = found
    lines = [
        _("{community} 户号 {number}").format(community=community.name, number=household.number)
    ]
    builder = InlineKeyboardBuilder()
    for n, member in enumerate(members, 1):
        person = member.person
        flag = "" if person.on_roster else _("（名册外）")
        lines.append(
            f"{n}. {person.name}{flag} {mask_id(person.id_number)} — {member.status.value}"
        )
        if member.status not in roster.DONE:
            builder.row(
                InlineKeyboardButton(
                    text=_("采集：{name}").format(name=person.name),
                    callback_data=PersonCb(i=person.id).pack(),
                )
            )
    contacts = roster.insured_contacts(members)
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


async def _household_in_scope(
    session: AsyncSession, investigator: Investigator, household_id: int
) -> bool:
    found = await roster.household(session, household_id)
    return found is not None and found[1].id in _communities(investigator)


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
    await message.answer(await progress_text(session, filler.investigator, settings, today()))


async def progress_text(
    session: AsyncSession, investigator: Investigator, settings: Settings, on: dt.date
) -> str:
    """Counts of the investigator's communities and the days left to the deadline."""
    rows = await roster.households(session, _communities(investigator))
    counts = roster.totals(rows)
    people = sum(counts.values())
    done = sum(counts[s] for s in roster.DONE)
    complete = sum(1 for r in rows if r.complete)
    deadline = settings.community_deadline
    days = (deadline - on).days
    when = _("还剩 {n} 天").format(n=days) if days >= 0 else _("已超过 {n} 天").format(n=-days)
    return "\n".join(
        [
            _("{name} 的采集进度").format(name=investigator.name),
            _("人员：{done}/{people} 已完成；户：{complete}/{households} 已完成").format(
                done=done, people=people, complete=complete, households=len(rows)
            ),
            _counts_text(counts),
            _("社区完成采集期限：{deadline}（{when}）").format(
                deadline=deadline.isoformat(), when=when
            ),
        ]
    )


@router.callback_query(HouseCb.filter())
async def on_house(
    query: CallbackQuery,
    callback_data: HouseCb,
    session: AsyncSession,
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
        shown = await _household_screen(session, callback_data.h, callback_data.p)
        assert shown is not None
        await _show(bot, filler.chat_id, pressed, shown)
        return
    if callback_data.o == HouseOp.contacts:
        found = await roster.household(session, callback_data.h)
        assert found is not None
        contacts = roster.insured_contacts(found[2])
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
                    name=person.name, who=opened.who, when=opened.when.date().isoformat()
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
    name = clean_name(message.text)
    if not 2 <= len(name) <= _NAME_CHARS:
        await message.answer(_("姓名应为2–30个字，请重新输入此人的姓名。"))
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
    try:
        number = check_id_number(message.text, today())
    except Invalid as exc:
        await message.answer(f"❗ {exc.message}\n" + _("请重新输入18位公民身份号码。"))
        return
    household_id = data.get(ADD_HOUSEHOLD)
    found = await roster.household(session, int(household_id or 0))
    if found is None or found[1].id not in _communities(filler.investigator):
        await state.set_state(None)
        await message.answer(_("这一户不在您负责的社区。"))
        return
    household, community, _members = found
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
    if settings.delete_id_messages and carries_id_number(message.text):
        await commit(session, None)
        await delete_quietly(bot, message.chat.id, message.message_id)
    if created:
        notice = _("已添加 {name}（名册外人员，将提示社保经办机构核实）。").format(name=person.name)
    else:
        notice = _("这个公民身份号码已在名单中：{name}。").format(name=person.name)
    await _collect(session, bot, form, filler, person, state, inbox_key, notice)
