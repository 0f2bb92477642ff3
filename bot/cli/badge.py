"""``canbao badge issue | list | print | revoke``: investigators' badges (工作牌) and their
verification pages on the deployment's public address (``CANBAO_PUBLIC_URL``)."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot import clock
from bot.cli import CliError, cli_settings
from bot.cli.db import add_database_option, database_url, with_sessions
from bot.printing.badge import MAX_PHOTO_BYTES, PhotoError, badge_photo, render_badge, verify_url
from flows import values
from storage.badges import (
    STATE_LABELS,
    BadgeError,
    badge_by_number,
    badges_in,
    issue_badge,
    normal_number,
    revoke_badge,
    state_of,
)
from storage.models import Community, Investigator
from storage.repositories import Actor
from storage.repositories.audit import add_event

DEFAULT_DAYS = 90


def _actor() -> Actor:
    return Actor.system(f"命令行（{getpass.getuser()}）")


def _date(text: str) -> dt.date:
    try:
        return values.parse_date(text)
    except values.Invalid as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def _issue(args: argparse.Namespace) -> int:
    public = cli_settings().public_url
    start = args.valid_from or clock.today()
    until = args.valid_until or start + dt.timedelta(days=DEFAULT_DAYS)
    photo = None
    if args.photo:
        try:
            photo = badge_photo(Path(args.photo).read_bytes()[: MAX_PHOTO_BYTES + 1])
        except OSError as exc:
            raise CliError(f"{args.photo}: {exc.strerror}") from None
        except PhotoError as exc:
            raise CliError(f"{args.photo}: {exc}") from None

    async def work(sessions: async_sessionmaker[AsyncSession]) -> tuple[str, str]:
        async with sessions() as db, db.begin():
            inv = await db.scalar(
                select(Investigator)
                .where(Investigator.id == args.investigator)
                .options(selectinload(Investigator.communities))
            )
            if inv is None:
                raise CliError(f"没有调查员 {args.investigator}")
            community = None
            if args.community is not None:
                community = await db.get(Community, args.community)
            elif len(inv.communities) == 1:
                community = inv.communities[0]
            if community is None:
                raise CliError("请用 --community 指定社区编号（该调查员负责的社区之一）")
            try:
                badge = await issue_badge(
                    db,
                    inv,
                    community,
                    office_phone=args.phone,
                    valid_from=start,
                    valid_until=until,
                    actor=_actor(),
                    channel="cli",
                    photo=photo,
                )
            except BadgeError as exc:
                raise CliError(str(exc)) from None
            return badge.number, f"{inv.name} · {community.name}"

    number, who = with_sessions(database_url(args), work)
    print(f"已发放工作牌 {number}（{who}，{start} 至 {until}）")
    print(f"核验页：{verify_url(public, number)}")
    return 0


def _list(args: argparse.Namespace) -> int:
    public = cli_settings().public_url
    today = clock.today()

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
        async with sessions() as db:
            return [
                f"{b.number}  {STATE_LABELS[state_of(b, today)]}  {b.investigator.name}  "
                f"{b.community.name}  {b.valid_from} 至 {b.valid_until}  "
                f"{verify_url(public, b.number)}"
                for b in await badges_in(db, args.district)
            ]

    lines = with_sessions(database_url(args), work)
    print("\n".join(lines) if lines else "暂无工作牌")
    return 0


def _number(text: str) -> str:
    number = normal_number(text)
    if number is None:
        raise CliError(f"{text}: 不是工作牌编号（16 位字母数字，如 K7QF-3M9X-P2WD-8HNA）")
    return number


def _print(args: argparse.Namespace) -> int:
    from bot.console.views.badges import card_of

    public = cli_settings().public_url
    number = _number(args.number)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> bytes:
        async with sessions() as db, db.begin():
            badge = await badge_by_number(db, number)
            if badge is None:
                raise CliError(f"没有工作牌 {number}")
            add_event(db, _actor(), "badge_printed", channel="cli", details={"badge_id": badge.id})
            return render_badge(card_of(badge, public))

    body = with_sessions(database_url(args), work)
    Path(args.output).write_bytes(body)
    print(f"{args.output}: 工作牌 {number}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    number = _number(args.number)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> None:
        async with sessions() as db, db.begin():
            badge = await badge_by_number(db, number)
            if badge is None:
                raise CliError(f"没有工作牌 {number}")
            try:
                await revoke_badge(db, badge, reason=args.reason, actor=_actor(), channel="cli")
            except BadgeError as exc:
                raise CliError(str(exc)) from None

    with_sessions(database_url(args), work)
    print(f"工作牌 {number} 已注销，核验页即时显示“已注销”")
    return 0


def register(subparsers: Any) -> None:
    """Add ``canbao badge``."""
    parser = subparsers.add_parser("badge", help="调查员工作牌（居民扫码核验）")
    sub = parser.add_subparsers(dest="badge_command", metavar="ACTION", required=True)
    issue = sub.add_parser("issue", help="发放工作牌")
    issue.add_argument("--investigator", type=int, required=True, metavar="ID", help="调查员编号")
    issue.add_argument(
        "--community", type=int, metavar="ID", help="社区编号（只负责一个社区时可省）"
    )
    issue.add_argument("--phone", required=True, help="社区办公电话，印在工作牌和核验页上")
    issue.add_argument("--from", dest="valid_from", type=_date, help="有效期开始（默认今天）")
    issue.add_argument("--until", dest="valid_until", type=_date, help="有效期结束（默认 90 天后）")
    issue.add_argument("--photo", metavar="FILE", help="照片（可选，JPEG / PNG，不超过 900 KB）")
    add_database_option(issue)
    issue.set_defaults(func=_issue)
    lst = sub.add_parser("list", help="列出工作牌及其状态和核验页")
    lst.add_argument("--district", type=int, metavar="ID", help="只列这个区的")
    add_database_option(lst)
    lst.set_defaults(func=_list)
    prt = sub.add_parser("print", help="打印工作牌（卡片大小的 PDF，带二维码）")
    prt.add_argument("number", help="工作牌编号")
    prt.add_argument("-o", "--output", required=True, metavar="FILE", help="输出 PDF")
    add_database_option(prt)
    prt.set_defaults(func=_print)
    rev = sub.add_parser("revoke", help="注销工作牌（调查员离岗、工作牌遗失）")
    rev.add_argument("number", help="工作牌编号")
    rev.add_argument("--reason", default="", help="注销原因")
    add_database_option(rev)
    rev.set_defaults(func=_revoke)
