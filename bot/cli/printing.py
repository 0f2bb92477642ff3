"""``canbao roster print``: the printed roster (入户调查花名册) of a community or an
investigator, as PDF or XLSX; audited like the console's copy."""

from __future__ import annotations

import argparse
import asyncio
import getpass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.cli import CliError
from bot.cli.db import add_database_option, database_url, with_sessions
from bot.printing.roster import RosterPrint, Status, render_pdf, write_roster_xlsx
from bot.printing.scope import load_roster
from flows import load_default_form
from storage.repositories import Actor


def _status() -> Status:
    from bot.console.views.persons import describe, reason_labels

    reasons = reason_labels(load_default_form())
    return lambda row: describe(row, reasons)


def _print(args: argparse.Namespace) -> int:
    out = Path(args.output)
    fmt = args.format or (out.suffix.lstrip(".").lower() or "pdf")
    if fmt not in ("pdf", "xlsx"):
        raise CliError(f"{out}: 格式只能是 pdf 或 xlsx（用 --format 指定）")
    actor = Actor.system(f"命令行打印（{getpass.getuser()}）")

    async def work(sessions: async_sessionmaker[AsyncSession]) -> RosterPrint | None:
        async with sessions() as db, db.begin():
            return await load_roster(
                db,
                args.district,
                community_id=args.community,
                investigator_id=args.investigator,
                day=clock.today(),
                actor=actor,
                channel="cli",
                fmt=fmt,
            )

    item = with_sessions(database_url(args), work)
    if item is None:
        what = f"社区 {args.community}" if args.community else f"调查员 {args.investigator}"
        raise CliError(f"没有{what}（或不在所选的区）")
    status = _status()
    if fmt == "pdf":
        out.write_bytes(render_pdf(item, status))
    else:
        asyncio.run(write_roster_xlsx(out, item, status))
    print(f"{out}: {item.scope} 花名册 {len(item.entries)} 人（已记入审计日志）")
    return 0


def add_roster_print(sub: Any) -> None:
    """Add ``canbao roster print`` to the ``roster`` command's actions."""
    parser = sub.add_parser(
        "print",
        help="打印一个社区或一名调查员的花名册（PDF / Excel）",
        description=(
            "按户号顺序打印花名册：姓名、公民身份号码（部分隐藏）、联系电话、居住地址、"
            "已参保家庭成员、当前状态、最近联系，并留上门情况、备注空栏。每次打印记入审计日志。"
        ),
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--community", type=int, metavar="ID", help="社区编号")
    which.add_argument("--investigator", type=int, metavar="ID", help="调查员编号")
    parser.add_argument("--district", type=int, metavar="ID", help="只限这个区（区编号）")
    parser.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="输出文件 .pdf / .xlsx"
    )
    parser.add_argument("--format", choices=("pdf", "xlsx"), help="默认按输出文件的扩展名")
    add_database_option(parser)
    parser.set_defaults(func=_print)
