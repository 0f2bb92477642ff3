"""``canbao contacts import FILE``: record a file of contact attempts (电话联系记录) at once.

Every row is checked first (the 公民身份号码 on the roster, the date, the outcome, the caller);
with any problem nothing is written, and each problem names the file, row and column.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.cli import CliError
from bot.cli.db import add_database_option, database_url, with_sessions
from bot.roster import RosterFileError
from bot.roster.contacts import OPTIONAL, REQUIRED, ContactsReport, import_contacts_file
from storage.person_status import OUTCOME_LABELS, RECORDABLE_OUTCOMES
from storage.repositories.actors import Actor

MAX_PROBLEMS_SHOWN = 100


def _import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    actor = Actor.system(f"命令行导入（{path.name}）")

    async def work(sessions: async_sessionmaker[AsyncSession]) -> ContactsReport:
        return await import_contacts_file(
            path, sessions, today=clock.today(), actor=actor, dry_run=args.dry_run
        )

    try:
        report = with_sessions(database_url(args), work)
    except RosterFileError as exc:
        raise CliError(str(exc)) from exc
    if report.problems:
        for problem in report.problems[:MAX_PROBLEMS_SHOWN]:
            print(problem, file=sys.stderr)
        hidden = len(report.problems) - MAX_PROBLEMS_SHOWN
        if hidden > 0:
            print(f"…… 另有 {hidden} 处问题未列出", file=sys.stderr)
        raise CliError(f"{report.file}: 发现 {len(report.problems)} 处问题，未导入任何联系记录")
    if report.extra_headers:
        print(f"以下列未导入：{'、'.join(report.extra_headers)}")
    if args.dry_run:
        print(f"{report.file}: 检查通过，共 {report.rows} 行、{report.people} 人（试运行，未写入）")
        return 0
    print(f"{report.file}: 已导入 {report.written} 条联系记录，涉及 {report.people} 人")
    return 0


def register(subparsers: Any) -> None:
    """Add ``canbao contacts import``."""
    parser = subparsers.add_parser("contacts", help="联系记录（电话联系、上门）")
    sub = parser.add_subparsers(dest="contacts_command", metavar="ACTION", required=True)
    outcomes = "、".join(OUTCOME_LABELS[o] for o in RECORDABLE_OUTCOMES)
    imp = sub.add_parser(
        "import",
        help="从 .xlsx / .csv 文件批量导入联系记录",
        description=(
            f"批量导入联系记录。表头：{'、'.join(REQUIRED)}（必填），{'、'.join(OPTIONAL)}（可选）。"
            f"联系结果为 {outcomes} 之一；联系人填调查员姓名或工作人员用户名，"
            "留空则记为本次命令行导入。先检查每一行，有任何问题都不导入。"
        ),
    )
    imp.add_argument("file", metavar="FILE", help="联系记录文件 .xlsx / .csv（UTF-8 或 GB18030）")
    imp.add_argument("--dry-run", action="store_true", help="只检查并报告，不写入")
    add_database_option(imp)
    imp.set_defaults(func=_import)
