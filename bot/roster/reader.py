"""Read a roster file (.xlsx, or .csv in UTF-8 with or without BOM, or GB18030) into raw rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from bot.roster.errors import RosterFileError, RosterProblem

SUPPORTED = (".xlsx", ".csv")
# Spreadsheet programs on Chinese Windows save CSV as GB18030 (a superset of GBK/GB2312).
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass(slots=True)
class RawTable:
    """Header cells (by column) and data rows as (1-based row number in the file, cells)."""

    name: str
    headers: list[str]
    rows: list[tuple[int, list[Any]]]
    encoding: str | None = None


def column_letter(index: int) -> str:
    """The spreadsheet column letter of a 0-based column index (0 → A)."""
    letter: str = get_column_letter(index + 1)
    return letter


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header(value: Any) -> str:
    # Headers copied from Word or typed with an IME often carry full-width or stray spaces.
    return "" if value is None else "".join(str(value).split()).replace("\u3000", "")


def read_table(path: Path) -> RawTable:
    """Read the first sheet (xlsx) or the whole file (csv); blank rows are skipped.

    Raises RosterFileError for a missing file, an unsupported type or an undecodable CSV.
    """
    name = path.name
    if not path.is_file():
        raise RosterFileError(RosterProblem(name, "文件不存在"))
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(path)
    if suffix == ".csv":
        return _read_csv(path)
    raise RosterFileError(
        RosterProblem(name, f"不支持的文件类型 {suffix or '(无扩展名)'}，请使用 .xlsx 或 .csv")
    )


def _split(
    name: str, lines: Iterator[tuple[int, list[Any]]]
) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    headers: list[str] | None = None
    rows: list[tuple[int, list[Any]]] = []
    for number, cells in lines:
        if all(_blank(c) for c in cells):
            continue
        if headers is None:
            headers = [_header(c) for c in cells]
            continue
        rows.append((number, list(cells)))
    if headers is None:
        raise RosterFileError(
            RosterProblem(name, "文件是空的：第一行应为表头（区、街道、社区、户号…）")
        )
    return headers, rows


def _read_xlsx(path: Path) -> RawTable:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or mislabelled file
        raise RosterFileError(
            RosterProblem(
                path.name,
                "无法作为 Excel (.xlsx) 文件打开：文件已损坏或不是 .xlsx 格式"
                "（.xls 请先在 Excel 中另存为 .xlsx）",
            )
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        lines = (
            (number, list(values))
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        )
        headers, rows = _split(path.name, lines)
    finally:
        workbook.close()
    return RawTable(path.name, headers, rows)


def _read_csv(path: Path) -> RawTable:
    data = path.read_bytes()
    for encoding in CSV_ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise RosterFileError(
            RosterProblem(path.name, "无法识别文件编码：请另存为 UTF-8 或 GB18030 编码的 CSV")
        )
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    lines = ((reader.line_num, row) for row in reader)
    headers, rows = _split(path.name, lines)
    return RawTable(path.name, headers, rows, encoding=encoding)
