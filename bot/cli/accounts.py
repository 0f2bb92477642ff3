"""Accounts from the command line: ``canbao investigator|staff|token|invite``.

Secrets (binding codes, API tokens) are printed exactly once, when made; only their hashes
are stored, so they can never be shown again.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import getpass
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import calllist, clock, links
from bot.cli import CliError, cli_settings
from bot.cli.db import add_database_option, database_url, with_sessions
from bot.privacy import mask_phone
from bot.settings import Settings
from storage import people
from storage.models import Community, StaffRole
from storage.repositories import accounts as acc
from storage.repositories import areas, investigator_web
from storage.repositories.actors import Actor
from storage.repositories.audit import add_event
from storage.repositories.errors import AccountError

OPERATOR = Actor.system("命令行")
INVITE_HEADERS = calllist.HEADERS


def bot_username(settings: Settings | None = None) -> str | None:
    """The bot's username for links (Telegram's getMe, see bot.telegram.username); a note on
    stderr when it is not known."""
    from bot.telegram import username

    found = asyncio.run(username.bot_username(settings or cli_settings()))
    if found is None:
        print(
            "注意：未设置 CANBAO_BOT_TOKEN（或无法连接 Telegram），也未设置 CANBAO_BOT_USERNAME，"
            "Telegram 链接留空。",
            file=sys.stderr,
        )
    return found


def telegram_link(code: str, username: str | None) -> str:
    """The Telegram deep link that opens the bot with ``code`` ("" when the bot is unknown)."""
    from bot.telegram.username import telegram_link as link

    return link(username, code)


def web_link(code: str, settings: Settings | None = None) -> str:
    """The web chat link for ``code``."""
    return links.web_link(code, settings or cli_settings())


async def _communities(session: AsyncSession, paths: Sequence[str]) -> list[Community]:
    found: list[Community] = []
    for path in paths:
        try:
            community = await areas.find_community(session, path)
        except ValueError as exc:
            raise CliError(str(exc)) from exc
        if community is None:
            raise CliError(f"社区 {path} 不存在（请先导入花名册，或检查 区/街道/社区 的写法）")
        found.append(community)
    return found


async def _district_id(session: AsyncSession, name: str | None) -> int | None:
    if name is None:
        return None
    district = await areas.find_district(session, name)
    if district is None:
        raise CliError(f"区 {name} 不存在（请先导入花名册，或检查名称）")
    return district.id


# ---------------------------------------------------------------------------------- investigator


def _investigator_add(args: argparse.Namespace) -> int:
    async def work(
        sessions: async_sessionmaker[AsyncSession],
    ) -> tuple[int, str, list[str], str]:
        async with sessions() as session, session.begin():
            communities = await _communities(session, args.community)
            paths = [c.path for c in communities]
            try:
                investigator, code = await acc.create_investigator(
                    session, args.name, communities, mobile=args.mobile, actor=OPERATOR
                )
            except AccountError as exc:
                raise CliError(str(exc)) from exc
            web_token = await investigator_web.issue_link(session, investigator, actor=OPERATOR)
            return investigator.id, code, paths, web_token

    investigator_id, code, paths, web_token = with_sessions(database_url(args), work)
    print(f"调查员 {args.name}（编号 {investigator_id}）已创建，负责：{'；'.join(paths)}")
    print(f"一次性绑定码（只显示这一次，{acc.BINDING_CODE_TTL.days} 天内有效）：{code}")
    link = telegram_link(code, bot_username())
    if link:
        print(f"绑定链接（在调查员的手机上打开）：{link}")
    _print_signin_link(web_token)
    return 0


def _print_signin_link(token: str) -> None:
    days = investigator_web.LINK_TTL.days
    print(
        f"手机浏览器登录链接（只显示这一次，{days} 天内有效，只能登录一次）："
        f"{links.investigator_link(token, cli_settings())}"
    )


def _investigator_link(args: argparse.Namespace) -> int:
    async def work(sessions: async_sessionmaker[AsyncSession]) -> tuple[str, str]:
        async with sessions() as session, session.begin():
            investigator = await acc.get_investigator(session, args.id)
            if investigator is None:
                raise CliError(f"没有编号为 {args.id} 的调查员")
            if not investigator.active:
                raise CliError(f"调查员 {investigator.name}（编号 {args.id}）已停用")
            token = await investigator_web.issue_link(session, investigator, actor=OPERATOR)
            return investigator.name, token

    name, token = with_sessions(database_url(args), work)
    print(f"调查员 {name}（编号 {args.id}）的新登录链接：")
    _print_signin_link(token)
    return 0


def _investigator_list(args: argparse.Namespace) -> int:
    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
        async with sessions() as session:
            lines = []
            for i in await acc.list_investigators(session):
                state = "已停用" if i.revoked_at else ("已绑定" if i.telegram_user_id else "未绑定")
                where = "；".join(c.path for c in i.communities)
                lines.append(f"{i.id}\t{i.name}\t{mask_phone(i.mobile) or '-'}\t{state}\t{where}")
            return lines

    lines = with_sessions(database_url(args), work)
    print("编号\t姓名\t手机\t状态\t社区")
    print("\n".join(lines) if lines else "（暂无调查员）")
    return 0


def _investigator_revoke(args: argparse.Namespace) -> int:
    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session, session.begin():
            investigator = await acc.get_investigator(session, args.id)
            if investigator is None:
                raise CliError(f"没有编号为 {args.id} 的调查员")
            await acc.revoke_investigator(session, investigator, actor=OPERATOR, reason=args.reason)
            return investigator.name

    name = with_sessions(database_url(args), work)
    print(f"调查员 {name}（编号 {args.id}）已停用")
    return 0


def _investigator_rebind(args: argparse.Namespace) -> int:
    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session, session.begin():
            investigator = await acc.get_investigator(session, args.id)
            if investigator is None:
                raise CliError(f"没有编号为 {args.id} 的调查员")
            try:
                return await acc.reissue_binding_code(session, investigator, actor=OPERATOR)
            except AccountError as exc:
                raise CliError(str(exc)) from exc

    code = with_sessions(database_url(args), work)
    print(f"新的一次性绑定码（只显示这一次，原绑定的 Telegram 账号已解除）：{code}")
    link = telegram_link(code, bot_username())
    if link:
        print(f"绑定链接：{link}")
    return 0


# ----------------------------------------------------------------------------------------- staff


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CliError("标准输入中没有密码")
        return password
    if not sys.stdin.isatty():
        raise CliError("不是在终端中运行：请用 --password-stdin 从标准输入提供密码")
    first = getpass.getpass("密码：")
    if first != getpass.getpass("再输入一次："):
        raise CliError("两次输入的密码不一致")
    return first


def _staff_add(args: argparse.Namespace) -> int:
    password = _read_password(args)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> None:
        async with sessions() as session, session.begin():
            district_id = None if args.city else await _district_id(session, args.district)
            try:
                await acc.create_staff(
                    session,
                    args.username,
                    password,
                    role=StaffRole(args.role),
                    district_id=district_id,
                    display_name=args.display_name,
                    actor=OPERATOR,
                    # The operator chose it: the owner picks their own at the first sign-in.
                    must_change_password=True,
                )
            except AccountError as exc:
                raise CliError(str(exc)) from exc

    with_sessions(database_url(args), work)
    scope = "全市" if args.city else args.district
    role = "管理员" if args.role == "admin" else "审核员"
    print(f"工作人员账号 {args.username} 已创建（{scope}，{role}）")
    print("这是初始密码：本人首次登录后台时须设置自己的新密码。")
    return 0


async def _staff_named(session: AsyncSession, username: str) -> Any:
    staff = await acc.staff_by_username(session, username)
    if staff is None:
        raise CliError(f"没有用户名为 {username} 的工作人员账号")
    return staff


def _staff_password(args: argparse.Namespace) -> int:
    password = _read_password(args)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> int:
        async with sessions() as session, session.begin():
            staff = await _staff_named(session, args.username)
            try:
                return await acc.set_staff_password(
                    session, staff, password, actor=OPERATOR, must_change=True
                )
            except AccountError as exc:
                raise CliError(str(exc)) from exc

    ended = with_sessions(database_url(args), work)
    print(
        f"{args.username} 的密码已重置（已退出 {ended} 处登录）。本人下次登录时须设置自己的新密码。"
    )
    return 0


def _staff_disable(args: argparse.Namespace) -> int:
    async def work(sessions: async_sessionmaker[AsyncSession]) -> int:
        async with sessions() as session, session.begin():
            staff = await _staff_named(session, args.username)
            return await acc.deactivate_staff(session, staff, actor=OPERATOR)

    ended = with_sessions(database_url(args), work)
    print(f"工作人员账号 {args.username} 已停用（已退出 {ended} 处登录）")
    return 0


def _staff_list(args: argparse.Namespace) -> int:
    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
        async with sessions() as session:
            return [
                f"{s.username}\t{s.display_name or '-'}\t"
                f"{s.district.name if s.district else '全市'}\t{s.role}\t"
                f"{'启用' if s.active else '停用'}"
                f"{'（须修改密码）' if s.active and s.must_change_password else ''}"
                for s in await acc.list_staff(session)
            ]

    lines = with_sessions(database_url(args), work)
    print("用户名\t姓名\t范围\t角色\t状态")
    print("\n".join(lines) if lines else "（暂无工作人员账号）")
    return 0


# ----------------------------------------------------------------------------------------- token


def _token_create(args: argparse.Namespace) -> int:
    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session, session.begin():
            district_id = await _district_id(session, args.district)
            try:
                _, secret = await acc.create_api_token(
                    session, args.name, district_id=district_id, actor=OPERATOR
                )
            except AccountError as exc:
                raise CliError(str(exc)) from exc
            return secret

    secret = with_sessions(database_url(args), work)
    print(f"API 令牌 {args.name} 已创建。令牌只显示这一次，请立即妥善保存：", file=sys.stderr)
    print(secret)
    return 0


def _token_list(args: argparse.Namespace) -> int:
    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
        async with sessions() as session:
            return [
                f"{t.name}\t{clock.local_date(t.created_at).isoformat()}\t"
                f"{clock.format_time(t.last_used_at) or '-'}\t"
                f"{'已吊销' if t.revoked_at else '有效'}"
                for t in await acc.list_api_tokens(session)
            ]

    lines = with_sessions(database_url(args), work)
    print("名称\t创建\t最近使用\t状态")
    print("\n".join(lines) if lines else "（暂无令牌）")
    return 0


def _token_revoke(args: argparse.Namespace) -> int:
    async def work(sessions: async_sessionmaker[AsyncSession]) -> None:
        async with sessions() as session, session.begin():
            try:
                await acc.revoke_api_token(session, args.name, actor=OPERATOR)
            except AccountError as exc:
                raise CliError(str(exc)) from exc

    with_sessions(database_url(args), work)
    print(f"API 令牌 {args.name} 已吊销")
    return 0


# ---------------------------------------------------------------------------------------- invite


def _write_private(path: Path, rows: list[list[str]]) -> None:
    """Write the file readable by its owner only, atomically (no half-written list)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".invite-", suffix=path.suffix)
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, 0o600)
        if path.suffix.lower() == ".xlsx":
            os.close(fd)
            workbook = Workbook(write_only=True)
            sheet = workbook.create_sheet("电话联系名单")
            sheet.append(list(INVITE_HEADERS))
            for row in rows:
                sheet.append(row)
            workbook.save(tmp)
        else:
            # UTF-8 with BOM: Excel on Chinese Windows opens it without garbling.
            with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(INVITE_HEADERS)
                writer.writerows(rows)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _reason_labels(settings: Settings) -> dict[str, str]:
    import flows

    try:
        form = flows.load_form(settings.form_file)
    except (OSError, flows.FormError):
        return {}
    if not form.has_field("not_collected_reason"):
        return {}
    return {c.code: c.label for c in form.field("not_collected_reason").choices}


def _invite(args: argparse.Namespace) -> int:
    output = Path(args.output)
    if output.suffix.lower() not in (".csv", ".xlsx"):
        raise CliError(f"{output.name}: 输出文件应为 .csv 或 .xlsx")
    settings = cli_settings()
    reasons = _reason_labels(settings)

    async def work(
        sessions: async_sessionmaker[AsyncSession],
    ) -> tuple[int, int, list[list[str]]]:
        async with sessions() as session, session.begin():
            f = people.PersonFilter()
            try:
                if args.community:
                    community = (await _communities(session, [args.community]))[0]
                    f = people.PersonFilter(community_id=community.id)
                elif args.street:
                    street = await areas.find_street(session, args.street)
                    if street is None:
                        raise CliError(f"街道 {args.street} 不存在")
                    f = people.PersonFilter(street_id=street.id)
                elif args.district:
                    f = people.PersonFilter(district_id=await _district_id(session, args.district))
            except ValueError as exc:
                raise CliError(str(exc)) from exc
            found, made, invited = await calllist.prepare(
                session,
                None,
                f,
                actor=OPERATOR,
                today=clock.today(),
                channel="cli",
                everyone=args.all,
            )
            rows = [
                calllist.cells(
                    row,
                    lambda code: telegram_link(code, username),
                    lambda code: web_link(code, settings),
                    lambda code: reasons.get(code, code),
                )
                for row in found
            ]
            add_event(
                session,
                OPERATOR,
                "exported",
                channel="cli",
                details={
                    "format": f"call_list{output.suffix.lower()}",
                    "people": len(rows),
                    "invites_made": made,
                    "newly_invited": invited,
                    "everyone": bool(args.all),
                },
            )
            return made, invited, rows

    username = bot_username()
    made, invited, rows = with_sessions(database_url(args), work)
    if not rows:
        raise CliError(
            "所选范围内没有需要电话联系的人员"
            "（--all 导出全部调查对象；没有调查对象时请先导入花名册）"
        )
    _write_private(output, rows)
    print(
        f"已写入 {output}：{len(rows)} 人（本次新建邀请 {made} 个，新记为已发邀请 {invited} 人）。"
        "未联系的排在最前，其次是联系未成功的。文件含个人信息，仅限电话联系使用。"
    )
    return 0


# -------------------------------------------------------------------------------------- register


def register(subparsers: Any) -> None:
    """Add ``canbao investigator``, ``staff``, ``token`` and ``invite``."""
    investigator = subparsers.add_parser("investigator", help="调查员账号")
    isub = investigator.add_subparsers(dest="investigator_command", metavar="ACTION", required=True)
    add = isub.add_parser("add", help="新建调查员，输出一次性绑定码和链接")
    add.add_argument("name", metavar="NAME", help="调查员姓名")
    add.add_argument(
        "--community",
        action="append",
        required=True,
        metavar="区/街道/社区",
        help="负责的社区（可重复），例如 姑苏区/平江街道/平江路社区",
    )
    add.add_argument("--mobile", help="调查员手机号码（可选）")
    add.set_defaults(func=_investigator_add)
    lst = isub.add_parser("list", help="列出调查员")
    lst.set_defaults(func=_investigator_list)
    revoke = isub.add_parser("revoke", help="停用调查员")
    revoke.add_argument("id", type=int, metavar="ID", help="调查员编号（见 list）")
    revoke.add_argument("--reason", help="原因（写入审计日志）")
    revoke.set_defaults(func=_investigator_revoke)
    rebind = isub.add_parser("rebind", help="重新生成绑定码（如更换手机）")
    rebind.add_argument("id", type=int, metavar="ID", help="调查员编号（见 list）")
    rebind.set_defaults(func=_investigator_rebind)
    signin = isub.add_parser("link", help="生成手机浏览器登录链接（一次性，可发短信或显示二维码）")
    signin.add_argument("id", type=int, metavar="ID", help="调查员编号（见 list）")
    signin.set_defaults(func=_investigator_link)
    for p in (add, lst, revoke, rebind, signin):
        add_database_option(p)

    staff = subparsers.add_parser("staff", help="工作人员（审核后台）账号")
    ssub = staff.add_subparsers(dest="staff_command", metavar="ACTION", required=True)
    sadd = ssub.add_parser("add", help="新建工作人员账号（密码在终端输入，或 --password-stdin）")
    sadd.add_argument("username", metavar="USERNAME")
    scope = sadd.add_mutually_exclusive_group(required=True)
    scope.add_argument("--district", metavar="区", help="只能查看和处理这个区，例如 姑苏区")
    scope.add_argument("--city", action="store_true", help="全市范围")
    sadd.add_argument("--role", choices=[r.value for r in StaffRole], default="reviewer")
    sadd.add_argument("--display-name", help="显示的姓名")
    sadd.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（一行）")
    sadd.set_defaults(func=_staff_add)
    slist = ssub.add_parser("list", help="列出工作人员账号")
    slist.set_defaults(func=_staff_list)
    spass = ssub.add_parser(
        "password", help="重置密码（本人下次登录时须改成自己的密码；该账号的登录全部退出）"
    )
    spass.add_argument("username", metavar="USERNAME")
    spass.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（一行）")
    spass.set_defaults(func=_staff_password)
    sdisable = ssub.add_parser("disable", help="停用账号（该账号的登录立即全部退出）")
    sdisable.add_argument("username", metavar="USERNAME")
    sdisable.set_defaults(func=_staff_disable)
    for p in (sadd, slist, spass, sdisable):
        add_database_option(p)

    token = subparsers.add_parser("token", help="中心系统 API 令牌")
    tsub = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    tcreate = tsub.add_parser("create", help="新建令牌（只显示一次）")
    tcreate.add_argument("name", metavar="NAME")
    tcreate.add_argument("--district", metavar="区", help="只能读取这个区的数据（默认全市）")
    tcreate.set_defaults(func=_token_create)
    tlist = tsub.add_parser("list", help="列出令牌")
    tlist.set_defaults(func=_token_list)
    trevoke = tsub.add_parser("revoke", help="吊销令牌")
    trevoke.add_argument("name", metavar="NAME")
    trevoke.set_defaults(func=_token_revoke)
    for p in (tcreate, tlist, trevoke):
        add_database_option(p)

    invite = subparsers.add_parser(
        "invite",
        help="导出电话联系名单（CSV/XLSX）：下一步该联系谁，附邀请链接",
        description=(
            "导出范围内需要电话联系的人员：未联系的排在最前，其次是联系未成功的"
            "（无人接听、号码错误、拒绝），再次是已发邀请、已通知但尚未登记的；"
            "已开始或已提交登记、已在外地参保的不在其中（--all 导出全部）。"
            "尚无邀请的先生成邀请码；名单导出即视为已向其中未联系的人发出邀请。"
            "列：" + "/".join(INVITE_HEADERS)
        ),
    )
    where = invite.add_mutually_exclusive_group()
    where.add_argument("--district", metavar="区")
    where.add_argument("--street", metavar="区/街道")
    where.add_argument("--community", metavar="区/街道/社区")
    invite.add_argument("-o", "--output", required=True, metavar="FILE", help="输出 .csv 或 .xlsx")
    invite.add_argument("--all", action="store_true", help="导出范围内全部调查对象（同样排序）")
    add_database_option(invite)
    invite.set_defaults(func=_invite)
