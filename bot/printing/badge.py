"""An investigator's badge (工作牌) as a card-size PDF (85.6 × 54 mm, ID-1) with a QR code of
its verification page on the deployment's public address."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from bot.display import display_text
from bot.exports.fonts import cjk_font

CARD = (85.6 * mm, 54 * mm)
SURVEY_TITLE = "全民参保登记入户调查"
QR_SIZE = 30 * mm


def verify_url(public_url: str, number: str) -> str:
    """The address a badge's QR code opens."""
    return f"{public_url.rstrip('/')}/badge/{number}"


@dataclass(frozen=True, slots=True)
class BadgeCard:
    """What the card shows."""

    name: str
    community: str
    number: str
    valid_from: dt.date
    valid_until: dt.date
    office_phone: str
    url: str


def _qr(canvas: Canvas, url: str, x: float, y: float, size: float) -> None:
    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, x, y)


def render_badge(card: BadgeCard) -> bytes:
    """The card's PDF, one page of the card's size."""
    out = io.BytesIO()
    w, h = CARD
    c = Canvas(out, pagesize=CARD)
    c.setTitle(display_text(f"工作牌 {card.name} {card.number}"))
    font = cjk_font()
    c.setStrokeColor(colors.HexColor("#1f4e79"))
    c.setLineWidth(1.5)
    c.rect(1.5 * mm, 1.5 * mm, w - 3 * mm, h - 3 * mm)
    c.setFillColor(colors.HexColor("#1f4e79"))
    c.rect(1.5 * mm, h - 11 * mm, w - 3 * mm, 9.5 * mm, stroke=0, fill=1)
    c.setFillColor(colors.white)
    c.setFont(font, 9)
    c.drawString(4 * mm, h - 6 * mm, SURVEY_TITLE)
    c.setFont(font, 7)
    c.drawString(4 * mm, h - 9.5 * mm, "调查员工作牌")
    c.setFillColor(colors.black)
    c.setFont(font, 15)
    c.drawString(4 * mm, h - 19 * mm, display_text(card.name))
    c.setFont(font, 7.5)
    lines = (
        display_text(card.community),
        f"编号 {card.number}",
        f"有效期 {card.valid_from.isoformat()} 至 {card.valid_until.isoformat()}",
        display_text(f"社区电话 {card.office_phone}"),
    )
    for i, line in enumerate(lines):
        c.drawString(4 * mm, h - (25 + 4.5 * i) * mm, line)
    _qr(c, card.url, w - QR_SIZE - 3 * mm, 9 * mm, QR_SIZE)
    c.setFont(font, 6)
    c.drawCentredString(w - QR_SIZE / 2 - 3 * mm, 6.5 * mm, "扫码核验真伪")
    c.setFont(font, 4.5)
    c.drawString(4 * mm, 3.2 * mm, display_text(card.url))
    c.showPage()
    c.save()
    return out.getvalue()
