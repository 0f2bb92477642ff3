"""CSV for machines (and for Excel users who open it anyway): UTF-8 with a byte-order mark,
every value as it is stored, made safe to write."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from bot.display import display_text

BOM = "\ufeff"
# A cell starting with one of these is a formula to a spreadsheet program.
_FORMULA_START = ("=", "+", "-", "@")


def cell(value: Any) -> str:
    """One CSV cell: the value itself (no padding or prefix that a reading program would have
    to strip), except that free text a spreadsheet would run as a formula gets a leading
    ``'``. ID and phone numbers are digits and never start with one of those characters."""
    if value is None:
        return ""
    text = display_text(str(value))
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def encode_row(row: Sequence[Any]) -> str:
    """One CSV line (``\\r\\n`` ended)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([cell(v) for v in row])
    return buffer.getvalue()
