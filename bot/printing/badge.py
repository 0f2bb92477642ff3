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
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from bot.display import display_text
from bot.exports.fonts import cjk_font

CARD = (85.6 * mm, 54 * mm)
SURVEY_TITLE = "全民参保登记入户调查"
QR_SIZE = 30 * mm
PHOTO = (18 * mm, 24 * mm)
MAX_PHOTO_BYTES = 900 * 1024
PHOTO_PIXELS = (360, 480)


class PhotoError(ValueError):
    """The uploaded picture cannot be a badge photo (the message says why, in Chinese)."""


def badge_photo(data: bytes) -> bytes:
    """A JPEG or PNG picture as the card's photo: at most 360 × 480 pixels, re-encoded as JPEG
    (its metadata — where and when it was taken — left behind)."""
    from PIL import Image, UnidentifiedImageError

    if not data or len(data) > MAX_PHOTO_BYTES:
        raise PhotoError("照片须为不超过 900 KB 的 JPEG 或 PNG 图片。")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("JPEG", "PNG"):
                raise PhotoError("照片须为 JPEG 或 PNG 图片。")
            image.thumbnail(PHOTO_PIXELS)
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=85)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise PhotoError("照片无法读取，请换一张 JPEG 或 PNG 图片。") from None
    return out.getvalue()


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
    photo: bytes | None = None


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
    left = 4 * mm
    if card.photo:
        c.drawImage(
            ImageReader(io.BytesIO(card.photo)),
            left,
            h - 13 * mm - PHOTO[1],
            PHOTO[0],
            PHOTO[1],
            preserveAspectRatio=True,
        )
        left += PHOTO[0] + 2 * mm
    c.setFont(font, 15)
    c.drawString(left, h - 19 * mm, display_text(card.name))
    c.setFont(font, 7.5 if not card.photo else 6.5)
    lines = (
        display_text(card.community),
        f"编号 {card.number}",
        f"有效期 {card.valid_from.isoformat()} 至 {card.valid_until.isoformat()}",
        display_text(f"社区电话 {card.office_phone}"),
    )
    if card.photo:  # the community beside the photo, the rest below it
        c.drawString(left, h - 25 * mm, lines[0])
        for i, line in enumerate(lines[1:]):
            c.drawString(4 * mm, (14.5 - 3.6 * i) * mm, line)
    else:
        for i, line in enumerate(lines):
            c.drawString(left, h - (25 + 4.5 * i) * mm, line)
    _qr(c, card.url, w - QR_SIZE - 3 * mm, 9 * mm, QR_SIZE)
    c.setFont(font, 6)
    c.drawCentredString(w - QR_SIZE / 2 - 3 * mm, 6.5 * mm, "扫码核验真伪")
    c.setFont(font, 4.5)
    c.drawString(4 * mm, 3.2 * mm, display_text(card.url))
    c.showPage()
    c.save()
    return out.getvalue()
