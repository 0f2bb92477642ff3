"""The fake Bot API itself: what a real bot sends gets Telegram's answers and errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)

from bot.settings import Settings
from bot.telegram import create_bot
from tests.fakebot import FakeTelegram, echo
from tests.telegram.conftest import FAST_RETRY, StartService


def _keyboard(*texts: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=f"d:{t}") for t in texts]]
    )


@pytest.fixture
async def bot(make_settings: Callable[..., Settings]) -> AsyncIterator[Bot]:
    bot = create_bot(make_settings(), retry=FAST_RETRY)
    yield bot
    await bot.session.close()


async def test_messages_keyboards_edits_and_deletes(tg: FakeTelegram, bot: Bot) -> None:
    user = tg.user(5001, "张三")
    me = await bot.get_me()
    assert me.id == tg.bot_id and me.is_bot

    sent = await bot.send_message(user.id, "第一题", reply_markup=_keyboard("是", "否"))
    assert sent.message_id == 1 and sent.reply_markup is not None
    assert user.last_message.buttons == ["是", "否"]

    await bot.edit_message_reply_markup(
        chat_id=user.id, message_id=sent.message_id, reply_markup=_keyboard("是")
    )
    assert user.last_message.buttons == ["是"]
    await bot.edit_message_text("第一题（已答）", chat_id=user.id, message_id=sent.message_id)
    assert user.last_message.text == "第一题（已答）" and user.last_message.buttons == []
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("第一题（已答）", chat_id=user.id, message_id=1)

    await bot.delete_message(user.id, sent.message_id)
    assert user.bot_messages == []
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(user.id, sent.message_id)


async def test_telegram_limits_are_enforced(tg: FakeTelegram, bot: Bot) -> None:
    user = tg.user(5002, "李四")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(99, "无人")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(user.id, "长" * 4097)
    too_long = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="d" * 65)]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(user.id, "按钮", reply_markup=too_long)
    assert user.bot_messages == []


async def test_document_commands_and_webhook_settings(tg: FakeTelegram, bot: Bot) -> None:
    user = tg.user(5003, "王五")
    content = "区,姓名\n姑苏区,张三\n".encode()
    await bot.send_document(
        user.id, BufferedInputFile(content, filename="名单.csv"), caption="导出"
    )
    document = user.last_message
    assert document.kind == "document" and document.text == "导出"
    assert document.document is not None and document.document["file_name"] == "名单.csv"
    assert document.document_content == content

    await bot.set_my_commands([BotCommand(command="help", description="帮助")])
    assert list(tg.commands.values()) == [[{"command": "help", "description": "帮助"}]]

    await bot.set_webhook("https://example.invalid/hook", secret_token="s3cret_-")
    info = await bot.get_webhook_info()
    assert info.url == "https://example.invalid/hook"
    with pytest.raises(TelegramConflictError):
        await bot.get_updates(timeout=0)
    await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""


async def test_get_updates_offset_and_limit(tg: FakeTelegram, bot: Bot) -> None:
    user = tg.user(5004, "赵六")
    for n in range(105):
        await user.send(f"m{n}", wait=False)

    first = await bot.get_updates(timeout=0)
    assert len(first) == 100  # Telegram's cap
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [u.update_id for u in first]  # not confirmed yet
    rest = await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
    assert [u.message.text for u in rest if u.message] == [f"m{n}" for n in range(100, 105)]
    assert await bot.get_updates(offset=rest[-1].update_id + 1, timeout=0) == []


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_returned_method_is_executed(
    tg: FakeTelegram, start_service: StartService, mode: str
) -> None:
    echo.reset()
    await start_service(router=echo.router, mode=mode)
    user = tg.user(5005, "钱七")
    await user.send("inline")
    assert user.last_message.text == "写在应答里"
    assert user.last_message.buttons == ["好的"]


async def test_forged_callback_reaches_the_bot_and_changes_nothing_it_does_not_know(
    tg: FakeTelegram, start_service: StartService
) -> None:
    echo.reset()
    await start_service(router=echo.router)
    user = tg.user(5006, "孙八")
    await user.send("你好")
    await user.forge_click("ok:admin:delete-all")
    assert echo.control.calls["click"] == 0
    assert user.last_message.text == "echo: 你好"


async def test_non_text_messages_and_a_double_tap(
    tg: FakeTelegram, start_service: StartService
) -> None:
    echo.reset()
    await start_service(router=echo.router)
    user = tg.user(5007, "周九")
    await user.send_sticker()
    await user.send_photo(caption="照片")
    await user.send_voice()
    assert echo.control.calls["echo"] == 0  # the echo router only takes text
    await user.send("点两下")
    await user.double_click("好的")
    # Two distinct updates: telling them apart is the handlers' job. This router does not,
    # so its second edit is refused as Telegram refuses it, and the user gets the apology.
    assert echo.control.calls["click"] == 2
    assert [c.status for c in tg.calls_of("editMessageText")] == [200, 400]
    assert user.last_message.text is not None and user.last_message.text.startswith("抱歉")
