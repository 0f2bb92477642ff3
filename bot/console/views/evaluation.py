"""The evaluation table (检查、评估、考核): communities or investigators with coverage,
completeness, timeliness, household completeness and the 未采集 share, sortable, with the
definitions under it; XLSX export audited. District staff see their district only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from bot import clock
from bot.appkeys import FORM, SESSIONMAKER, SETTINGS
from bot.console.auth import current_staff
from bot.console.sessions import csrf_token
from bot.console.views.exports import XLSX_TYPE, _send_file, _stamp, _temp_path
from bot.console.views.persons import reason_labels
from bot.exports.xlsx import write_xlsx
from bot.params import Query
from storage import evaluation
from storage.repositories import Actor
from storage.repositories.audit import add_event

router = web.RouteTableDef()
KINDS = ("community", "investigator")
HEADERS = {
    "community": "社区",
    "investigator": "调查员",
}
LABELS = {
    "coverage": "覆盖率",
    "completeness": "完整准确率",
    "timeliness": "及时率",
    "household_completeness": "户完整率",
    "not_collected_share": "未采集比例",
}


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def reasons_text(line: evaluation.EvaluationLine, reasons: dict[str, str]) -> str:
    """``人户分离 2、长期外出 1``."""
    return "、".join(f"{reasons.get(k, k)} {n}" for k, n in sorted(line.not_collected.items()))


def cells(line: evaluation.EvaluationLine, reasons: dict[str, str]) -> list[Any]:
    """One line of the table (shares as percentages)."""
    return [
        line.name,
        line.district,
        line.target,
        _pct(line.coverage),
        _pct(line.completeness),
        _pct(line.timeliness),
        _pct(line.household_completeness),
        _pct(line.not_collected_share),
        reasons_text(line, reasons),
    ]


def headers(kind: str) -> list[str]:
    """The table's header."""
    return [HEADERS[kind], "区", "花名册人数", *LABELS.values(), "未采集原因"]


@router.get("/evaluation", name="console_evaluation")
async def evaluation_page(request: web.Request) -> web.StreamResponse:
    """``kind`` community / investigator, ``sort`` one of the shares, ``dir`` asc / desc,
    ``format`` html / xlsx."""
    staff = current_staff(request)
    settings = request.config_dict[SETTINGS]
    reasons = reason_labels(request.config_dict[FORM])
    q = Query(request.query)
    kind = q.choice("kind", KINDS, "community") or "community"
    sort = q.choice("sort", evaluation.COLUMNS, "coverage") or "coverage"
    direction = q.choice("dir", ("asc", "desc"), "asc") or "asc"
    fmt = q.choice("format", ("html", "xlsx"), "html") or "html"
    deadline_end = clock.day_start(settings.community_deadline + dt.timedelta(days=1))
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        build = evaluation.community_lines if kind == "community" else evaluation.investigator_lines
        lines = evaluation.sort_lines(
            await build(db, staff.district_id, deadline_end), sort, direction == "desc"
        )
        if fmt == "xlsx":
            add_event(
                db,
                Actor.staff(staff),
                "exported",
                channel="console",
                details={"format": "evaluation.xlsx", "kind": kind, "lines": len(lines)},
            )
    if fmt == "xlsx":

        async def rows() -> Any:
            for line in lines:
                yield cells(line, reasons)
            yield []
            yield [f"社区完成期限：{settings.community_deadline.isoformat()}"]
            for name, text in evaluation.DEFINITIONS:
                yield [name, text]

        with _temp_path(".xlsx") as path:
            await write_xlsx(path, "考核评估", headers(kind), rows(), widths={0: 28, 8: 30})
            return await _send_file(request, path, XLSX_TYPE, f"考核评估-{_stamp()}.xlsx")
    session = await get_session(request)
    context = {
        "staff": staff,
        "csrf": csrf_token(session),
        "kind": kind,
        "sort": sort,
        "dir": direction,
        "labels": LABELS,
        "header": HEADERS[kind],
        "rows": [cells(line, reasons) for line in lines],
        "definitions": evaluation.DEFINITIONS,
        "deadline": settings.community_deadline.isoformat(),
    }
    return aiohttp_jinja2.render_template("console/evaluation.html", request, context)
