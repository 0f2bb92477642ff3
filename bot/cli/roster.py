"""``canbao roster import FILE``: check every row, then import (or only report, ``--dry-run``)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import CliError
from bot.cli.db import add_database_option, database_url, with_sessions
from bot.roster import ImportReport, RosterFileError, import_file
from bot.roster.progress import ProgressPrinter

MAX_PROBLEMS_SHOWN = 100


def _import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    progress = None if args.quiet else ProgressPrinter(sys.stderr)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> ImportReport:
        return await import_file(path, sessions, dry_run=args.dry_run, progress=progress)

    try:
        if args.dry_run:
            # A dry run only reads the file: no database is opened or created.
            report = asyncio.run(import_file(path, None, dry_run=True, progress=progress))
        else:
            report = with_sessions(database_url(args), work)
    except RosterFileError as exc:
        raise CliError(str(exc)) from exc

    if report.problems:
        for problem in report.problems[:MAX_PROBLEMS_SHOWN]:
            print(problem, file=sys.stderr)
        hidden = len(report.problems) - MAX_PROBLEMS_SHOWN
        if hidden > 0:
            print(f"…… 另有 {hidden} 处问题未列出", file=sys.stderr)
        raise CliError(f"{report.file}: 发现 {len(report.problems)} 处问题，未导入任何数据")
    if report.extra_headers:
        print(f"其他列作为备注保存：{'、'.join(report.extra_headers)}")
    if args.dry_run:
        print(f"{report.file}: 检查通过，共 {report.rows} 行（试运行，未写入数据库）")
        return 0
    written = report.written
    assert written is not None
    print(
        f"{report.file}: 已导入 {report.rows} 行 —— 新增 {written.persons_added} 人，"
        f"更新 {written.persons_updated} 人，未变 {written.persons_unchanged} 人；"
        f"新增 区 {written.districts_added}、街道 {written.streets_added}、"
        f"社区 {written.communities_added}、户 {written.households_added}"
    )
    return 0


def register(subparsers: Any) -> None:
    """Add ``canbao roster import`` and ``canbao roster print``."""
    parser = subparsers.add_parser("roster", help="入户调查花名册")
    sub = parser.add_subparsers(dest="roster_command", metavar="ACTION", required=True)
    imp = sub.add_parser(
        "import",
        help="导入花名册（.xlsx 或 .csv）",
        description=(
            "导入花名册。表头：区、街道、社区、户号、姓名、公民身份号码、联系电话、居住地址、"
            "已参保家庭成员（后三列可为空，其他列作为备注保存）。先检查每一行，"
            "有任何问题都不导入；重复导入同一文件不会产生重复；更新的花名册只新增人员、"
            "更新联系方式，不影响已采集的记录。"
        ),
    )
    imp.add_argument("file", metavar="FILE", help="花名册文件 .xlsx / .csv（UTF-8 或 GB18030）")
    imp.add_argument("--dry-run", action="store_true", help="只检查并报告，不写入")
    imp.add_argument("-q", "--quiet", action="store_true", help="不显示进度")
    add_database_option(imp)
    imp.set_defaults(func=_import)

    from bot.cli.printing import add_roster_print

    add_roster_print(sub)
