"""A tiny router for transport tests: echoes text, answers buttons, writes through ``session``.

Behaviour is steered by the text:
``boom`` raises (the first ``control.fail_times`` times); ``hang`` waits for
``control.release`` the first time (to simulate a process dying mid-update);
``/notify N`` queues N outbox messages for the sender in the update's own transaction;
``/count`` increments a counter in the FSM data, slowly, to expose races;
``inline`` returns its reply as a method (in webhook mode it travels in the HTTP answer).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from storage.repositories import outbox

router = Router(name="transport-test-echo")


@dataclass
class Control:
    """What the handlers did, and how the next ones should behave."""

    calls: Counter[str] = field(default_factory=Counter)
    fail_times: int = 0
    hang_once: bool = True
    release: asyncio.Event = field(default_factory=asyncio.Event)
    hung: asyncio.Event = field(default_factory=asyncio.Event)
    hanging_task: asyncio.Task[object] | None = None


control = Control()


def reset() -> None:
    """Fresh control state for a test."""
    global control
    control = Control()


KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="好的", callback_data="ok")]]
)


@router.message(Command("notify"))
async def notify(message: Message, command: CommandObject, session: AsyncSession) -> None:
    count = int(command.args or "1")
    for n in range(1, count + 1):
        await outbox.enqueue(
            session,
            channel="telegram",
            chat_id=message.chat.id,
            kind="test",
            payload={"text": f"通知 {n}/{count}"},
            dedup_key=f"test:{message.chat.id}:{message.message_id}:{n}",
        )
    control.calls["notify"] += 1
    await message.answer(f"已排队 {count} 条")


@router.message(Command("count"))
async def count(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    # A pause between read and write: without per-user isolation two updates would race.
    await asyncio.sleep(0.02)
    value = int(data.get("n", 0)) + 1
    await state.update_data(n=value)
    control.calls["count"] += 1
    await message.answer(f"计数 {value}")


@router.message(F.text == "boom")
async def boom(message: Message) -> None:
    control.calls["boom"] += 1
    if control.fail_times > 0:
        control.fail_times -= 1
        raise RuntimeError("handler failure for the test")
    await message.answer("这次成功了")


@router.message(F.text == "hang")
async def hang(message: Message) -> None:
    control.calls["hang"] += 1
    if control.hang_once:
        control.hang_once = False
        control.hanging_task = asyncio.current_task()
        control.hung.set()
        await control.release.wait()
    await message.answer("处理完毕")


@router.message(F.text == "inline")
async def inline_answer(message: Message) -> SendMessage:
    # Returned, not awaited: in webhook mode aiogram puts it in the HTTP answer.
    control.calls["inline"] += 1
    return message.answer("写在应答里", reply_markup=KEYBOARD)


@router.message(F.text)
async def echo(message: Message) -> None:
    control.calls["echo"] += 1
    await message.answer(f"echo: {message.text}", reply_markup=KEYBOARD)


@router.callback_query(F.data == "ok")
async def clicked(query: CallbackQuery) -> None:
    control.calls["click"] += 1
    await query.answer("收到")
    if query.message is not None and isinstance(query.message, Message):
        await query.message.edit_text("已确认")
