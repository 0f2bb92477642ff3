"""Streaming XLSX with openpyxl's write-only mode: rows go to disk as they come."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from bot.display import display_text

BATCH = 1000


def _cells(sheet: WriteOnlyWorksheet, row: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for value in row:
        if isinstance(value, str):
            # Whatever the database holds: openpyxl refuses control characters, XML surrogates.
            value = display_text(value)
        if isinstance(value, str) and value.startswith("="):
            # openpyxl writes a leading "=" as a formula: a typed answer must stay text.
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            out.append(cell)
        else:
            out.append(value)
    return out


def _append(sheet: WriteOnlyWorksheet, rows: list[Sequence[Any]]) -> None:
    for row in rows:
        sheet.append(_cells(sheet, row))


async def write_xlsx(
    path: Path,
    title: str,
    header: Sequence[str],
    rows: AsyncIterable[Sequence[Any]],
    *,
    widths: dict[int, float] | None = None,
) -> int:
    """Write ``rows`` under a bold ``header`` into ``path``; returns the number of data rows.

    Rows are appended in batches in a worker thread, so a long export never stalls the server,
    and openpyxl's write-only sheet keeps only the current row in memory.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=display_text(title)[:31])
    for index, width in (widths or {}).items():
        sheet.column_dimensions[_letter(index)].width = width
    bold = Font(bold=True)
    head = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=display_text(name))
        cell.font = bold
        head.append(cell)
    sheet.append(head)
    sheet.freeze_panes = "A2"
    count = 0
    batch: list[Sequence[Any]] = []
    async for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            await asyncio.to_thread(_append, sheet, batch)
            count += len(batch)
            batch = []
    if batch:
        await asyncio.to_thread(_append, sheet, batch)
        count += len(batch)
    await asyncio.to_thread(workbook.save, path)
    return count


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index + 1))
