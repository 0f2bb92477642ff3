"""CSV for Excel: UTF-8 with a byte-order mark, text kept as text."""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Sequence
from typing import Any

BOM = "\ufeff"
# A cell starting with one of these is a formula to a spreadsheet program.
_FORMULA_START = ("=", "+", "-", "@")


def cell(value: Any, *, keep_text: bool = False) -> str:
    """One CSV cell.

    ``keep_text`` cells (ID and phone numbers) get a leading tab, which Excel shows as nothing
    but which stops it turning 18 digits into ``3.20508E+17``.
    """
    if value is None:
        return ""
    text = str(value)
    if keep_text and text:
        return "\t" + text
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def encode_row(row: Sequence[Any], text_columns: Collection[int] = ()) -> str:
    """One CSV line (``\\r\\n`` ended)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(
        [cell(v, keep_text=i in text_columns) for i, v in enumerate(row)]
    )
    return buffer.getvalue()
