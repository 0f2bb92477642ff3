"""The printed roster (入户调查花名册) of a community or of an investigator's communities:
PDF (A4 landscape, the header repeated on every page) and XLSX, with empty columns for what
the investigator notes at the door."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.platypus import PageBreak, Paragraph, Spacer, Table, TableStyle

from bot.display import display_text
from bot.exports.xlsx import write_xlsx
from bot.printing.pages import Document, Heading, SetHeading, column_widths, styles
from bot.privacy import mask_id
from storage.people import PersonRow
from storage.person_status import outcome_label
from storage.rosters import RosterEntry, communities_of

TITLE = "入户调查花名册"
NOTE_COLUMNS = ("上门情况", "备注")
HEADERS = (
    "序号",
    "户号",
    "姓名",
    "公民身份号码",
    "联系电话",
    "居住地址",
    "已参保家庭成员",
    "当前状态",
    "最近联系",
    *NOTE_COLUMNS,
)
SHARES = (4, 6, 6, 14, 10, 16, 16, 10, 10, 11, 11)
XLSX_HEADERS = ("区", "街道", "社区", *HEADERS)


@dataclass(frozen=True, slots=True)
class RosterPrint:
    """What is printed: the scope's name (a community's path, or an investigator), the date,
    who printed it and the people."""

    scope: str
    day: dt.date
    printed_by: str
    entries: list[RosterEntry]


def insured_text(contacts: Sequence[Mapping[str, str]]) -> str:
    """``王芳（母亲）13800000000；…``: whom to ask about a person living elsewhere."""
    parts = []
    for c in contacts:
        relation = f"（{c['relation']}）" if c.get("relation") else ""
        parts.append(f"{c['name']}{relation}{(' ' + c['phone']) if c.get('phone') else ''}")
    return "；".join(parts)


def last_contact(row: PersonRow) -> str:
    """``2014-11-20 无人接听`` ('' when never contacted)."""
    if row.last_contact_on is None:
        return ""
    return f"{row.last_contact_on.isoformat()} {outcome_label(row.last_contact_outcome)}".strip()


def cells(n: int, e: RosterEntry, status: Callable[[PersonRow], str]) -> list[str]:
    """One person's printed cells (numbers masked but the phone, which the visit needs)."""
    r = e.row
    return [
        str(n),
        r.household,
        r.name,
        mask_id(r.id_number),
        r.mobile or "",
        e.address,
        insured_text(e.insured),
        status(r),
        last_contact(r),
        "",
        "",
    ]


Status = Callable[[PersonRow], str]


def render_pdf(item: RosterPrint, status: Status) -> bytes:
    """The roster as PDF: one section per community, each starting on a new page.
    ``status`` words a person's status (the console's ``describe``)."""
    st = styles()
    heading = Heading(
        TITLE, item.scope, f"打印日期 {item.day.isoformat()} · 打印人 {item.printed_by}"
    )
    doc = Document(heading)

    def p(text: str) -> Paragraph:
        return Paragraph(escape(display_text(text)), st["cell"])

    groups = communities_of(item.entries)
    if not groups:
        doc.story.append(SetHeading(heading, item.scope))
        doc.story.append(Paragraph(f"{TITLE}（{escape(item.scope)}）", st["title"]))
        doc.story.append(Paragraph("没有人员。", st["body"]))
    for i, (community, entries) in enumerate(groups):
        if i:
            doc.story.append(PageBreak())
        doc.story.append(SetHeading(heading, community))
        households = len({e.row.household_id for e in entries})
        doc.story.append(Paragraph(escape(f"{TITLE} {community}"), st["title"]))
        doc.story.append(
            Paragraph(escape(f"共 {households} 户、{len(entries)} 人（{item.scope}）"), st["small"])
        )
        doc.story.append(Spacer(1, 4))
        data: list[list[Any]] = [[p(h) for h in HEADERS]]
        lines: list[int] = []
        for n, e in enumerate(entries, start=1):
            if e.first_of_household and n > 1:
                lines.append(n)
            data.append([p(c) for c in cells(n, e, status)])
        table = Table(data, colWidths=column_widths(SHARES), repeatRows=1)
        style = [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
        # A heavier line where a new household starts.
        style += [("LINEABOVE", (0, n), (-1, n), 1.2, colors.black) for n in lines]
        table.setStyle(TableStyle(style))
        doc.story.append(table)
    return doc.build()


async def _xlsx_rows(
    entries: Sequence[RosterEntry], status: Callable[[PersonRow], str]
) -> AsyncIterator[list[Any]]:
    for n, e in enumerate(entries, start=1):
        r = e.row
        yield [r.district, r.street, r.community, *cells(n, e, status)]


async def write_roster_xlsx(path: Path, item: RosterPrint, status: Status) -> None:
    """The roster as XLSX (one sheet, every cell text)."""
    await write_xlsx(
        path,
        TITLE,
        list(XLSX_HEADERS),
        _xlsx_rows(item.entries, status),
        widths={6: 20, 8: 36, 9: 30, 12: 20, 13: 20},
    )
