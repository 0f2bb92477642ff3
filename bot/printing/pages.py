"""Page furniture shared by the printed reports: A4 landscape, a header with the area and the
print date on every page, ``第 N 页 / 共 M 页`` and the notice's warning in the footer."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate

from bot.display import display_text
from bot.exports.fonts import cjk_font

PAGE = landscape(A4)
MARGIN = 10 * mm
HEADER = 14 * mm
FOOTER = 10 * mm
# 五.4: the data must not be passed on; every printed page says so.
WARNING = "内含个人信息，仅限本次入户调查使用，不得复制、转借或外传。"


def styles() -> dict[str, ParagraphStyle]:
    """Body, small, title and cell styles in the embedded CJK font."""
    font = cjk_font()
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    return {
        "body": body,
        "cell": ParagraphStyle("cell", parent=body, fontSize=8, leading=10),
        "small": ParagraphStyle("small", parent=body, fontSize=7.5, leading=10),
        "title": ParagraphStyle("title", parent=body, fontSize=15, leading=20, alignment=1),
        "h2": ParagraphStyle("h2", parent=body, fontSize=11, leading=15, spaceBefore=6),
    }


@dataclass
class Heading:
    """What the header says on the page being drawn; :class:`SetHeading` changes it."""

    title: str
    area: str
    right: str


class SetHeading(Flowable):  # type: ignore[misc]
    """A zero-size flowable: from the page it lands on, the header names ``area`` (a roster of
    several communities names each community on its own pages)."""

    def __init__(self, state: Heading, area: str) -> None:
        super().__init__()
        self.state = state
        self.area = area
        self.width = self.height = 0

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.state.area = self.area


class _NumberedCanvas(Canvas):  # type: ignore[misc]
    """Holds each page until the end, so every page can say how many pages there are."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont(cjk_font(), 8)
            self.drawRightString(
                PAGE[0] - MARGIN, MARGIN - 2 * mm, f"第 {self._pageNumber} 页 / 共 {total} 页"
            )
            super().showPage()
        super().save()


@dataclass
class Document:
    """A landscape A4 document whose pages carry :class:`Heading`."""

    heading: Heading
    story: list[Any] = field(default_factory=list)

    def _decorate(self, canvas: Canvas, doc: Any) -> None:
        h = self.heading
        top = PAGE[1] - MARGIN
        canvas.saveState()
        canvas.setFont(cjk_font(), 10)
        canvas.drawString(MARGIN, top - 4 * mm, display_text(f"{h.title} · {h.area}"))
        canvas.setFont(cjk_font(), 8)
        canvas.drawRightString(PAGE[0] - MARGIN, top - 4 * mm, display_text(h.right))
        canvas.line(MARGIN, top - 6 * mm, PAGE[0] - MARGIN, top - 6 * mm)
        canvas.drawString(MARGIN, MARGIN - 2 * mm, WARNING)
        canvas.restoreState()

    def build(self) -> bytes:
        """The PDF's bytes."""
        out = io.BytesIO()
        doc = BaseDocTemplate(
            out,
            pagesize=PAGE,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN + HEADER,
            bottomMargin=MARGIN + FOOTER,
            title=display_text(f"{self.heading.title} {self.heading.area}"),
        )
        frame = Frame(
            MARGIN,
            MARGIN + FOOTER,
            PAGE[0] - 2 * MARGIN,
            PAGE[1] - 2 * MARGIN - HEADER - FOOTER,
            id="body",
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )
        doc.addPageTemplates([PageTemplate("page", [frame], onPageEnd=self._decorate)])
        doc.build(list(self.story), canvasmaker=_NumberedCanvas)
        return out.getvalue()


def width() -> float:
    """The printable width of a page."""
    return float(PAGE[0] - 2 * MARGIN)


def column_widths(shares: Sequence[float]) -> list[float]:
    """Column widths from relative shares, filling the page's width."""
    total = sum(shares)
    return [width() * s / total for s in shares]
