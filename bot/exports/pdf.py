"""One record as a printable PDF in the layout of the paper 信息采集表, with signature lines."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from bot.display import display_text
from bot.exports.fonts import cjk_font
from flows import Form

CHECKED = "■"
UNCHECKED = "□"
NOTES = (
    "说明：1、本表登记对象：本市市区户籍，或非本市市区户籍、居住在本市市区、持有苏州市公安机关核发的"
    "居住证，但未在苏州市参加社会保险的人员。",
    "2、登记对象未满16周岁或无民事行为能力的，须填写监护人信息。",
    "3、当前参保状态为“从未参保”或“参保后断保”的，须填写“未参保情况”栏；当前参保状态为"
    "“在外地参保”的，须填写“外地参保情况”栏。",
    "4、未参保的登记对象，当前常住地为港澳台、外国的，“所在省”填写相应地区、国家名称；常住地为"
    "江苏省苏州市的，必须填写所在区县名称。",
    "5、未参保的登记对象，当前常住地为江苏省苏州市，且当前状态为“在校（园）学生”或“单位就业”的，"
    "必须准确填写工作单位或学校、托幼机构情况。",
)


@dataclass(frozen=True, slots=True)
class PdfRecord:
    """What the PDF prints: the header areas, the answers and a footer line."""

    district: str
    street: str
    community: str
    household: str
    answers: dict[str, Any]
    footer: str


def _styles() -> tuple[ParagraphStyle, ParagraphStyle, ParagraphStyle]:
    font = cjk_font()
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=13, wordWrap="CJK")
    title = ParagraphStyle("title", parent=body, fontSize=15, leading=20, alignment=1)
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=11)
    return body, title, small


def _boxes(form: Form, name: str, value: Any) -> str:
    """Every choice of the question with the chosen ones ticked, as on paper."""
    chosen = set(value) if isinstance(value, list) else {value}
    field = form.field(name)
    return "  ".join(
        f"{CHECKED if c.code in chosen else UNCHECKED} {c.label}" for c in field.choices
    )


# Each address part's printed label, as on the paper form, and the endings of a written-out
# name that the label already says: the paper's blank comes first and the label after it, so
# "江苏省" prints as "江苏 省（市、自治区）", never "江苏省 省（市、自治区）".
ADDRESS_LABELS: dict[str, tuple[str, tuple[str, ...]]] = {
    "province": ("省（市、自治区）", ("特别行政区", "自治区", "省", "市")),
    "city": ("市（区、县）", ("自治州", "地区", "市", "区", "县")),
    "district": ("区（县）", ("区", "县")),
    "road": ("路", ("路",)),
    "number": ("号", ("号",)),
}
BLANK = "____"


def address_line(value: Any, parts: tuple[str, ...]) -> str:
    """An address in the paper's layout: each part's value in its blank, then its label."""
    given = value if isinstance(value, dict) else {}
    out = []
    for part in parts:
        label, endings = ADDRESS_LABELS[part]
        text = str(given.get(part) or "").strip()
        for ending in endings:
            if text.endswith(ending) and len(text) > len(ending):
                text = text[: -len(ending)]
                break
        out.append(f"{text or BLANK} {label}")
    return "  ".join(out)


def date_line(value: Any) -> str:
    """``2014 年 11 月 1 日`` for an ISO date, blanks to write in otherwise."""
    try:
        day = dt.date.fromisoformat(str(value or ""))
    except ValueError:
        return "      年    月    日"
    return f"{day.year} 年 {day.month} 月 {day.day} 日"


def render_pdf(form: Form, item: PdfRecord) -> bytes:
    """The PDF's bytes (A4, one page for a usual record)."""
    body, title, small = _styles()
    a = item.answers

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        # Every text of the page, stored answers included, as it may be shown.
        return Paragraph(escape(display_text(text)), style)

    def v(key: str) -> str:
        value = a.get(key)
        return form.label_of(key, value) if value not in (None, "", []) else ""

    collected = a.get("collection_status") != "not_collected"
    reason = a.get("not_collected_reason")
    collection = (
        f"{CHECKED if collected else UNCHECKED} 已采集    "
        f"{UNCHECKED if collected else CHECKED} 未采集（原因："
        + "  ".join(
            f"{CHECKED if reason == c.code else UNCHECKED}{c.label}"
            for c in form.field("not_collected_reason").choices
        )
        + "）"
    )
    parts = ("province", "city", "district", "road", "number")
    residence_value = a.get("residence")
    rows: list[list[Any]] = [
        [
            p("姓名"),
            p(v("name")),
            p("公民身份号码"),
            p(v("id_number")),
            p("手机号码"),
            p(v("mobile")),
        ],
        [
            p("监护人姓名"),
            p(v("guardian_name")),
            p("监护人公民身份号码"),
            p(v("guardian_id_number")),
            p("监护人手机号码"),
            p(v("guardian_mobile")),
        ],
        [p("采集状态"), p(collection), "", "", "", ""],
        [
            p("当前参保状态"),
            p(_boxes(form, "insured_status", a.get("insured_status"))),
            "",
            "",
            "",
            "",
        ],
        [p("未参保情况"), p("当前常住地"), p(address_line(residence_value, parts)), "", "", ""],
        ["", p("当前状态"), p(_boxes(form, "current_status", a.get("current_status"))), "", "", ""],
        ["", p("工作或学习单位名称"), p(v("workplace_name")), "", "", ""],
        [
            "",
            p("工作或学习单位地址"),
            p(address_line(a.get("workplace_address"), parts)),
            "",
            "",
            "",
        ],
        [
            "",
            p("未参保原因"),
            p(_boxes(form, "uninsured_reasons", a.get("uninsured_reasons"))),
            "",
            "",
            "",
        ],
        [
            p("外地参保情况"),
            p("参保地"),
            p(address_line(a.get("insured_place"), ("province", "city"))),
            "",
            "",
            "",
        ],
        ["", p("养老保险"), p(_boxes(form, "pension", a.get("pension"))), "", "", ""],
        ["", p("医疗保险"), p(_boxes(form, "medical", a.get("medical"))), "", "", ""],
        [p("备注"), p(v("remarks")), "", "", "", ""],
    ]
    # The first column fits "当前参保状态" and "外地参保情况" on one line.
    widths = [27 * mm, 30 * mm, 30 * mm, 37 * mm, 24 * mm, 32 * mm]
    table = Table(rows, colWidths=widths)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("SPAN", (1, 2), (-1, 2)),
        ("SPAN", (1, 3), (-1, 3)),
        ("SPAN", (0, 4), (0, 8)),
        ("SPAN", (0, 9), (0, 11)),
        ("SPAN", (1, 12), (-1, 12)),
    ]
    for r in range(4, 12):
        style.append(("SPAN", (2, r), (-1, r)))
    table.setStyle(TableStyle(style))

    confirmer = v("confirmer_name")
    worker = v("community_worker")
    # 采集日期 is the day the answers were collected, whoever collected them; the signature
    # lines are tables so that a date never wraps away from its line.
    date_text = date_line(a.get("collection_date"))
    signatures = Table(
        [
            [p(f"本人/监护人/指定代理人签名：{confirmer}  ________________"), p(date_text)],
            [p(""), p("")],
            [p(f"社区经办人签名：{worker}  ________________"), p(f"采集日期：{date_text}")],
        ],
        colWidths=[120 * mm, 60 * mm],
    )
    signatures.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("LEFTPADDING", (0, 0), (0, -1), 0)])
    )
    story: list[Any] = [
        p("苏州市区全民社会保险登记信息采集表", title),
        Spacer(1, 4 * mm),
        p(
            f"区：{item.district}      街道：{item.street}      社区：{item.community}      "
            f"户号：{item.household}"
        ),
        Spacer(1, 2 * mm),
        table,
        Spacer(1, 3 * mm),
        *[p(line, small) for line in NOTES],
        Spacer(1, 6 * mm),
        p("我已知悉本表告知事项，并据实填写本人相关事项。"),
        Spacer(1, 2 * mm),
        signatures,
        Spacer(1, 8 * mm),
        p(item.footer, small),
    ]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title="苏州市区全民社会保险登记信息采集表",
        author="canbao-intake",
    )
    doc.build(story)
    return buffer.getvalue()
