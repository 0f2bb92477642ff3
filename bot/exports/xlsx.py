"""Streaming XLSX with XlsxWriter's ``constant_memory`` mode: each row goes to disk as it comes.

XlsxWriter writes cells several times faster than openpyxl's write-only mode
(``bench/exports.py`` measures both on the same rows). Every string is written as a text cell:
ID numbers and phone numbers stay text, a typed ``=1+1`` stays text, nothing becomes a formula,
a number or a link.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Sequence
from pathlib import Path
from typing import Any

import xlsxwriter

BATCH = 1000
OPTIONS = {
    "constant_memory": True,
    "strings_to_numbers": False,
    "strings_to_formulas": False,
    "strings_to_urls": False,
}


def writable(text: str) -> str:
    """``text`` as XlsxWriter can store it.

    XlsxWriter escapes control characters itself (as ``_xHHHH_``, which Excel reads back);
    what it cannot store is a lone surrogate (possible in JSON-stored answers), which would
    fail the whole file when it is closed: that becomes U+FFFD. What a value should look like
    in an export is decided before it gets here, in :mod:`bot.exports.rows`.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Two halves of a pair become the character again; a lone half becomes U+FFFD.
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def _append(sheet: Any, first: int, rows: list[Sequence[Any]]) -> None:
    write_string, write_number, write = sheet.write_string, sheet.write_number, sheet.write
    for r, row in enumerate(rows, start=first):
        for c, value in enumerate(row):
            kind = type(value)
            if kind is str:
                if value:
                    write_string(r, c, value if value.isascii() else writable(value))
            elif value is None:
                continue
            elif kind is int or kind is float:
                write_number(r, c, value)
            else:
                write(r, c, value)


async def write_xlsx(
    path: Path,
    title: str,
    header: Sequence[str],
    rows: AsyncIterable[Sequence[Any]],
    *,
    widths: dict[int, float] | None = None,
) -> int:
    """Write ``rows`` under a bold, frozen ``header`` into ``path``; returns the number of rows.

    Rows are written in batches in a worker thread, so a long export never stalls the server,
    and ``constant_memory`` keeps only the current row in memory.
    """
    workbook = xlsxwriter.Workbook(str(path), OPTIONS)
    try:
        sheet = workbook.add_worksheet(title[:31])
        for index, width in (widths or {}).items():
            sheet.set_column(index, index, width)
        bold = workbook.add_format({"bold": True})
        for c, name in enumerate(header):
            sheet.write_string(0, c, writable(name), bold)
        sheet.freeze_panes(1, 0)
        count = 0
        batch: list[Sequence[Any]] = []
        async for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                await asyncio.to_thread(_append, sheet, count + 1, batch)
                count += len(batch)
                batch = []
        if batch:
            await asyncio.to_thread(_append, sheet, count + 1, batch)
            count += len(batch)
    finally:
        # Also on an error: closing removes XlsxWriter's temporary files (the caller deletes
        # the half-written ``path``).
        await asyncio.to_thread(workbook.close)
    return count
