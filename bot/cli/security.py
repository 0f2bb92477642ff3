"""``canbao security``: check the deployment's weak points; list and unlock locked invites."""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.cli import CliError, cli_settings
from bot.cli.db import add_database_option, database_url, with_sessions
from bot.privacy import mask_id
from bot.security.check import Finding, check_settings, check_store
from bot.settings import Settings
from storage.repositories import areas
from storage.repositories import invites as inv
from storage.repositories.actors import Actor

OPERATOR = Actor.system("命令行")


def _check(args: argparse.Namespace) -> int:
    settings: Settings = cli_settings()
    if args.database_url:
        settings = settings.model_copy(update={"database_url": args.database_url})

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[Finding]:
        async with sessions() as session:
            return await check_store(session, settings)

    findings = check_settings(settings) + with_sessions(settings.database_url, work)
    findings.sort(key=lambda f: not f.serious)
    for finding in findings:
        print(finding.render())
    serious = sum(f.serious for f in findings)
    if not findings:
        print("未发现问题。")
    else:
        print(f"共 {len(findings)} 项，其中严重 {serious} 项。")
    return 1 if serious else 0


def _locked(args: argparse.Namespace) -> int:
    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
        async with sessions() as session:
            district_id = None
            if args.district:
                district = await areas.find_district(session, args.district)
                if district is None:
                    raise CliError(f"区 {args.district} 不存在")
                district_id = district.id
            return [
                f"{i.code}\t{i.person.community.path}\t{i.person.name}\t"
                f"{mask_id(i.person.id_number)}\t{i.failed_attempts}\t"
                f"{clock.format_time(i.locked_at) or '-'}"
                for i in await inv.locked_invites(session, district_id=district_id)
            ]

    lines = with_sessions(database_url(args), work)
    print("邀请码\t社区\t姓名\t公民身份号码\t错误次数\t锁定时间")
    print("\n".join(lines) if lines else "（没有被锁定的登记链接）")
    return 0


def _unlock(args: argparse.Namespace) -> int:
    reason = (args.reason or "").strip()
    if not reason:
        raise CliError('解锁须写明如何核实了本人身份：--reason "电话核实……"')

    async def work(sessions: async_sessionmaker[AsyncSession]) -> tuple[str, bool]:
        async with sessions() as session, session.begin():
            invite = await inv.find_invite(session, args.code)
            if invite is None:
                raise CliError(f"没有邀请码为 {args.code} 的登记链接")
            if not inv.is_locked(invite):
                return invite.person.name, False
            await inv.unlock_invite(session, invite, actor=OPERATOR, reason=reason, channel="cli")
            return invite.person.name, True

    name, unlocked = with_sessions(database_url(args), work)
    if unlocked:
        print(f"已解锁 {name} 的登记链接（可以再尝试 5 次），已记入操作日志。")
    else:
        print(f"{name} 的登记链接没有锁定，无需解锁。")
    return 0


def register(subparsers: Any) -> None:
    """Add ``canbao security check|locked|unlock``."""
    security = subparsers.add_parser("security", help="安全检查；被锁定的登记链接")
    sub = security.add_subparsers(dest="security_command", metavar="ACTION", required=True)
    check = sub.add_parser(
        "check",
        help="检查部署的薄弱环节（有严重问题时退出码为 1）",
        description="检查配置、文件权限和数据库中的账号：会话密钥、https、webhook 密钥、"
        "数据库文件权限、代理设置、初始密码和演示账号。",
    )
    check.set_defaults(func=_check)
    locked = sub.add_parser("locked", help="列出被锁定的登记链接")
    locked.add_argument("--district", metavar="区", help="只列出这个区")
    locked.set_defaults(func=_locked)
    unlock = sub.add_parser("unlock", help="核实本人身份后解锁登记链接（写入操作日志）")
    unlock.add_argument("code", metavar="CODE", help="邀请码（见 locked）")
    unlock.add_argument("--reason", help="如何核实了本人身份（必填）")
    unlock.set_defaults(func=_unlock)
    for p in (check, locked, unlock):
        add_database_option(p)
