"""``canbao report summary``: the work summary (工作总结) of the city, a district, a street or
a community for a period, as PDF or XLSX; audited like the console's copy."""

from __future__ import annotations

import argparse
import asyncio
import getpass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.cli import CliError, cli_settings
from bot.cli.badge import _date
from bot.cli.db import add_database_option, database_url, with_sessions
from bot.printing.summary import render_summary_pdf, write_summary_xlsx
from flows import load_default_form
from storage import reporting
from storage.repositories import Actor
from storage.repositories.audit import add_event
from storage.summary import WorkSummary, work_summary

LEVEL_WORDS = {"city": "市", "district": "区", "street": "街道", "community": "社区"}


def _summary(args: argparse.Namespace) -> int:
    from bot.console.views.persons import reason_labels

    out = Path(args.output)
    fmt = out.suffix.lstrip(".").lower()
    if fmt not in ("pdf", "xlsx"):
        raise CliError(f"{out}: 输出文件须为 .pdf 或 .xlsx")
    settings = cli_settings()
    date_from = args.date_from or settings.survey_start
    date_to = args.date_to or clock.today()
    if date_to < date_from:
        raise CliError("--to 不能早于 --from")
    level, area_id = "city", None
    for name in ("district", "street", "community"):
        if getattr(args, name) is not None:
            level, area_id = name, getattr(args, name)
    actor = Actor.system(f"命令行（{getpass.getuser()}）")

    async def work(sessions: async_sessionmaker[AsyncSession]) -> WorkSummary:
        async with sessions() as db, db.begin():
            crumbs = await reporting.area_path(db, level, area_id)
            if crumbs is None:
                raise CliError(f"没有这个{LEVEL_WORDS[level]}：{area_id}")
            name = "/".join(c.name for c in crumbs[1:]) or crumbs[0].name
            summary = await work_summary(
                db,
                None,
                level,
                area_id,
                name,
                date_from=date_from,
                date_to=date_to,
                zone=clock.zone(),
            )
            add_event(
                db,
                actor,
                "summary_printed",
                channel="cli",
                details={
                    "level": level,
                    "id": area_id,
                    "from": date_from.isoformat(),
                    "to": date_to.isoformat(),
                    "format": fmt,
                },
            )
            return summary

    summary = with_sessions(database_url(args), work)
    form = load_default_form()
    reasons = reason_labels(form)
    if fmt == "pdf":
        out.write_bytes(
            render_summary_pdf(summary, form, reasons, printed_by=actor.label, day=clock.today())
        )
    else:
        asyncio.run(write_summary_xlsx(out, summary, form, reasons))
    p = summary.progress
    print(
        f"{out}: {summary.name} 工作总结（{date_from} 至 {date_to}）："
        f"花名册 {p.target} 人，已采集 {p.collected} 人，未采集 {p.not_collected_total} 人"
    )
    return 0


def register(subparsers: Any) -> None:
    """Add ``canbao report``."""
    parser = subparsers.add_parser("report", help="工作总结、考核评估表")
    sub = parser.add_subparsers(dest="report_command", metavar="ACTION", required=True)
    summ = sub.add_parser(
        "summary",
        help="工作总结（全市或一个区、街道、社区），PDF / Excel",
        description="人员状态截至现在；交表、确认、退回、动员后参保按统计期间。默认全市。",
    )
    which = summ.add_mutually_exclusive_group()
    which.add_argument("--district", type=int, metavar="ID", help="区编号")
    which.add_argument("--street", type=int, metavar="ID", help="街道编号")
    which.add_argument("--community", type=int, metavar="ID", help="社区编号")
    summ.add_argument("--from", dest="date_from", type=_date, help="统计期间开始（默认调查开始日）")
    summ.add_argument("--to", dest="date_to", type=_date, help="统计期间结束（默认今天）")
    summ.add_argument("-o", "--output", required=True, metavar="FILE", help="输出 .pdf / .xlsx")
    add_database_option(summ)
    summ.set_defaults(func=_summary)
