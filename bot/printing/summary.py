"""The work summary (工作总结, 四.3) as PDF and XLSX: one layout of sections (a title, a
header, rows) that both formats print, so the two always say the same."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import xlsxwriter
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from bot.display import display_text
from bot.exports.fonts import cjk_font
from bot.exports.xlsx import OPTIONS, writable
from bot.printing.pages import Document, Heading, column_widths, styles, width
from flows import Form
from storage.person_status import STATUS_LABELS, STATUS_ORDER
from storage.summary import UNINSURED, WorkSummary

TITLE = "全民参保登记工作总结"


@dataclass(frozen=True, slots=True)
class Section:
    """A table of the summary."""

    title: str
    header: list[str]
    rows: list[list[Any]]


def _share(n: int, d: int) -> str:
    return f"{n / d * 100:.1f}%" if d else "—"


def _choice(form: Form, name: str, code: str) -> str:
    return form.label_of(name, code) if form.has_field(name) else code


def _field_label(form: Form, name: str) -> str:
    return form.field(name).label if form.has_field(name) else name


def sections(s: WorkSummary, form: Form, reasons: dict[str, str]) -> list[Section]:
    """The summary's tables, in the order the report prints them."""
    p, r = s.progress, s.reach
    overview: list[list[Any]] = [
        ["花名册人数", p.target],
        ["花名册户数", p.households],
        ["已联系（含已发邀请、已填写）", s.reached],
        ["未联系", r.not_contacted],
        ["已采集（已交表）", p.collected],
        ["采集率", _share(p.collected, p.target)],
        ["未采集", p.not_collected_total],
        *[[f"　未采集：{reasons.get(k, k)}", n] for k, n in sorted(p.not_collected.items())],
        ["在外地参保（采集表）", s.insured_elsewhere],
        ["在外地参保（电话联系，尚未填表）", s.contacted_insured_elsewhere],
        ["从未参保、参保后断保", s.uninsured],
        ["单位未参保：报送劳动保障监察的单位", s.employers],
        ["单位未参保：涉及人数", s.employer_people],
    ]
    status_rows = [[STATUS_LABELS[st], r.count(st)] for st in STATUS_ORDER]
    current: list[list[Any]] = []
    reason_rows: list[list[Any]] = []
    for insured in UNINSURED:
        label = _choice(form, "insured_status", insured)
        for code, n in sorted(s.by_current_status.get(insured, {}).items()):
            current.append([label, _choice(form, "current_status", code), n])
        for code, n in sorted(s.by_reason.get(insured, {}).items()):
            reason_rows.append([label, _choice(form, "uninsured_reasons", code), n])
    period = f"{s.date_from.isoformat()} 至 {s.date_to.isoformat()}"
    handed = sum(s.daily.get("submitted", {}).values())
    confirmed = sum(s.daily.get("confirmed", {}).values())
    in_period = [
        ["交表（最近一次提交在期间内）", handed],
        ["审核确认", confirmed],
        ["退回", s.returns],
        *[[f"　退回项目：{_field_label(form, k)}", n] for k, n in s.return_fields.most_common()],
        ["动员后参保", s.enrolled],
        *[[f"　参保险种：{k or '未注明'}", n] for k, n in sorted(s.enrolled_by_insurance.items())],
    ]
    child_label = {"district": "区", "street": "街道", "community": "社区"}
    children = [
        [
            line.name,
            line.target,
            reach.target - reach.not_contacted,
            reach.not_contacted,
            line.collected,
            _share(line.collected, line.target),
            line.not_collected_total,
            line.submitted,
            line.returned,
            line.confirmed,
        ]
        for line, reach in s.children
    ]
    days = sorted(set(s.daily.get("submitted", {})) | set(s.daily.get("confirmed", {})))
    daily = [
        [
            d.isoformat(),
            s.daily.get("submitted", {}).get(d, 0),
            s.daily.get("confirmed", {}).get(d, 0),
        ]
        for d in days
    ]
    out = [
        Section("一、总体情况（截至打印时）", ["项目", "人数"], overview),
        Section("二、人员状态", ["状态", "人数"], status_rows),
        Section("三、未参保人员：按当前状态", ["参保状态", "当前状态", "人数"], current),
        Section(
            "四、未参保人员：按未参保原因（可多选）", ["参保状态", "原因", "人次"], reason_rows
        ),
        Section(f"五、期间工作（{period}）", ["项目", "数量"], in_period),
    ]
    if s.children:
        level = child_label.get(s.children[0][0].level, "地区")
        out.append(
            Section(
                f"六、分{level}情况",
                [
                    level,
                    "花名册",
                    "已联系",
                    "未联系",
                    "已采集",
                    "采集率",
                    "未采集",
                    "待审核",
                    "已退回",
                    "已确认",
                ],
                children,
            )
        )
    out.append(Section("七、每日进度", ["日期", "交表", "确认"], daily))
    return out


def _chart(s: WorkSummary) -> Drawing | None:
    days = [s.date_from + dt.timedelta(days=i) for i in range((s.date_to - s.date_from).days + 1)]
    if not days or len(days) > 400:
        return None
    series = []
    for key in ("submitted", "confirmed"):
        counts = s.daily.get(key, {})
        series.append([(i, counts.get(d, 0)) for i, d in enumerate(days)])
    drawing = Drawing(width(), 150)
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 40, 25, width() - 80, 110
    plot.data = series
    plot.lines[0].strokeColor = colors.HexColor("#1f4e79")
    plot.lines[1].strokeColor = colors.HexColor("#c55a11")
    plot.xValueAxis.valueMin = 0
    plot.xValueAxis.valueMax = max(len(days) - 1, 1)
    plot.xValueAxis.labelTextFormat = lambda i: (
        days[int(i)].strftime("%m-%d") if 0 <= int(i) < len(days) else ""
    )
    plot.yValueAxis.valueMin = 0
    plot.xValueAxis.labels.fontName = plot.yValueAxis.labels.fontName = cjk_font()
    drawing.add(plot)
    font = cjk_font()
    drawing.add(String(40, 140, "每日交表（蓝）与确认（橙）", fontName=font, fontSize=9))
    return drawing


def render_summary_pdf(
    s: WorkSummary, form: Form, reasons: dict[str, str], *, printed_by: str, day: dt.date
) -> bytes:
    """The summary as PDF (A4 landscape, the area and print date on every page)."""
    st = styles()
    heading = Heading(TITLE, s.name, f"打印日期 {day.isoformat()} · 打印人 {printed_by}")
    doc = Document(heading)
    doc.story.append(Paragraph(escape(f"{TITLE}（{s.name}）"), st["title"]))
    doc.story.append(
        Paragraph(
            escape(f"统计期间 {s.date_from.isoformat()} 至 {s.date_to.isoformat()}"), st["small"]
        )
    )

    def p(value: Any) -> Paragraph:
        return Paragraph(escape(display_text(str(value))), st["cell"])

    for sec in sections(s, form, reasons):
        doc.story.append(Paragraph(escape(sec.title), st["h2"]))
        if sec.title.startswith("七") and (chart := _chart(s)) is not None:
            doc.story.append(chart)
        if not sec.rows:
            doc.story.append(Paragraph("无。", st["small"]))
            continue
        shares = [3] + [1] * (len(sec.header) - 1)
        table = Table(
            [[p(h) for h in sec.header], *[[p(c) for c in row] for row in sec.rows]],
            colWidths=column_widths(shares) if len(sec.header) > 3 else None,
            repeatRows=1,
            hAlign="LEFT",
        )
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                ]
            )
        )
        doc.story.append(table)
        doc.story.append(Spacer(1, 4))
    return doc.build()


def _write_xlsx(path: Path, s: WorkSummary, secs: list[Section]) -> None:
    book = xlsxwriter.Workbook(
        str(path), {k: v for k, v in OPTIONS.items() if k != "constant_memory"}
    )
    bold = book.add_format({"bold": True})
    sheet = book.add_worksheet("工作总结")
    sheet.set_column(0, 0, 36)
    sheet.set_column(1, 9, 12)
    sheet.write_string(0, 0, writable(f"{TITLE}（{s.name}）"), bold)
    sheet.write_string(1, 0, f"统计期间 {s.date_from.isoformat()} 至 {s.date_to.isoformat()}")
    r = 3
    daily_at: tuple[int, int] | None = None
    for sec in secs:
        sheet.write_string(r, 0, sec.title, bold)
        r += 1
        for c, h in enumerate(sec.header):
            sheet.write_string(r, c, h, bold)
        r += 1
        first = r
        for row in sec.rows:
            for c, value in enumerate(row):
                if isinstance(value, int):
                    sheet.write_number(r, c, value)
                else:
                    sheet.write_string(r, c, writable(str(value)))
            r += 1
        if sec.title.startswith("七") and sec.rows:
            daily_at = (first, r - 1)
        r += 1
    if daily_at is not None:
        chart = book.add_chart({"type": "line"})
        for col, name in ((1, "交表"), (2, "确认")):
            chart.add_series(
                {
                    "name": name,
                    "categories": ["工作总结", daily_at[0], 0, daily_at[1], 0],
                    "values": ["工作总结", daily_at[0], col, daily_at[1], col],
                }
            )
        chart.set_title({"name": "每日进度"})
        sheet.insert_chart(3, 11, chart)
    book.close()


async def write_summary_xlsx(
    path: Path, s: WorkSummary, form: Form, reasons: dict[str, str]
) -> None:
    """The summary as XLSX: the same tables, and the daily progress as a line chart."""
    await asyncio.to_thread(_write_xlsx, path, s, sections(s, form, reasons))
