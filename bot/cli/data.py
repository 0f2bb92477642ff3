"""``canbao data purge``: remove what the survey no longer needs, once it is over
(:mod:`storage.retention`; audited)."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.cli import CliError, cli_settings
from bot.cli.db import add_database_option, database_url, with_sessions
from storage.repositories.actors import Actor
from storage.retention import PurgeCounts, purge, purge_counts


def _purge(args: argparse.Namespace) -> int:
    settings = cli_settings()
    allowed = settings.survey_end + dt.timedelta(days=settings.retention_days)
    if clock.today() <= allowed:
        raise CliError(
            f"调查截止 {settings.survey_end.isoformat()}，保留期 {settings.retention_days} 天："
            f"{allowed.isoformat()} 之后才能清理（CANBAO_SURVEY_END、CANBAO_RETENTION_DAYS）"
        )

    async def work(sessions: async_sessionmaker[AsyncSession]) -> PurgeCounts:
        async with sessions() as session, session.begin():
            if args.dry_run:
                return await purge_counts(session)
            return await purge(
                session, Actor.system("命令行 canbao data purge"), reason=args.reason
            )

    counts = with_sessions(database_url(args), work)
    verb = "将清理" if args.dry_run else "已清理"
    print(
        f"{verb}：已处理的聊天消息 {counts.inbox} 条，已发出或放弃的通知 {counts.outbox} 条，"
        f"从未提交的草稿 {counts.drafts} 份"
    )
    if not args.dry_run:
        print("（已记入审计日志 data_purged；已提交和已确认的记录保留）")
    return 0


def register(subparsers: Any) -> None:
    """Add ``canbao data purge``."""
    parser = subparsers.add_parser("data", help="数据保留：调查结束后清理不再需要的数据")
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    purge_parser = sub.add_parser(
        "purge",
        help="删除已处理的聊天消息、已发出的通知和从未提交的草稿（调查截止日加保留期之后）",
    )
    purge_parser.add_argument("--dry-run", action="store_true", help="只统计，不删除")
    purge_parser.add_argument("--reason", help="写入审计日志的说明")
    add_database_option(purge_parser)
    purge_parser.set_defaults(func=_purge)
