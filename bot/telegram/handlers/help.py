"""``/help``: what the bot does and its commands, for residents and for investigators."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram.handlers.context import identify
from bot.telegram.i18n import gettext as _

router = Router(name="help")


def help_text(investigator: bool) -> str:
    """The help for a resident or an investigator."""
    common = _(
        "/back 回到上一题\n"
        "/summary 查看已填写的内容并修改\n"
        "/cancel 暂停填写（草稿会保存）\n"
        "/status 查看登记状态\n"
        "/help 显示本帮助"
    )
    if investigator:
        head = _(
            "全民参保登记 · 调查员\n"
            "/households 入户名单（按户查看、采集、添加名册外人员）\n"
            "/progress 我的采集进度"
        )
    else:
        head = _(
            "全民参保登记\n"
            "请点击社区发给您的登记链接开始填写。按提示回答问题：可以点按钮，也可以直接输入。"
        )
    return f"{head}\n{common}"


@router.message(Command("help"))
async def on_help(message: Message, session: AsyncSession) -> None:
    """Show the help."""
    assert message.from_user is not None
    filler = await identify(session, message.from_user.id, message.chat.id)
    await message.answer(help_text(filler.is_investigator))
