"""A Chinese font for PDFs: an embedded TrueType CJK font when the machine has one."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

# TrueType (glyf) CJK fonts reportlab can embed; Noto CJK is OpenType/CFF and cannot be.
CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)
EMBEDDED_NAME = "CanbaoCJK"
BUILTIN_NAME = "STSong-Light"


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """The registered font's name: WenQuanYi embedded, else reportlab's STSong-Light.

    STSong-Light is not embedded; the viewer must have a Chinese font of its own.
    """
    for path in CANDIDATES:
        if path.exists():
            try:
                pdfmetrics.registerFont(TTFont(EMBEDDED_NAME, str(path), subfontIndex=0))
            except Exception:  # a broken font file: try the next, then the built-in
                continue
            return EMBEDDED_NAME
    pdfmetrics.registerFont(UnicodeCIDFont(BUILTIN_NAME))
    return BUILTIN_NAME
