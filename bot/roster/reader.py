"""Read a roster file (.xlsx, or .csv in UTF-8 with or without BOM, or GB18030) into raw rows.

Rows are streamed: :func:`open_table` gives the header and an iterator over the data rows, so a
200,000-row roster is never held as Python objects all at once. XLSX is read with
python-calamine (a Rust reader, several times faster than openpyxl's); CSV with the standard
``csv`` module over the file, decoded as it is read.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook
from xlsxwriter.utility import xl_col_to_name

from bot.roster.errors import RosterFileError, RosterProblem

SUPPORTED = (".xlsx", ".csv")
# Spreadsheet programs on Chinese Windows save CSV as GB18030 (a superset of GBK/GB2312).
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
_BLOCK = 1 << 20

Rows = Iterable[tuple[int, list[Any]]]


@dataclass(slots=True)
class RawTable:
    """Header cells (by column) and data rows as (1-based row number in the file, cells).

    ``rows`` is a list when the table was built in memory (:func:`read_table`, the demo) and a
    one-shot iterator when it streams from a file (:func:`open_table`); ``estimated_rows`` is
    what progress reports count towards (exact for a list).
    """

    name: str
    headers: list[str]
    rows: Rows
    encoding: str | None = None
    estimated_rows: int | None = None

    @property
    def expected_rows(self) -> int:
        """The number of data rows, or an estimate while they stream."""
        if isinstance(self.rows, list):
            return len(self.rows)
        return self.estimated_rows or 0


def column_letter(index: int) -> str:
    """The spreadsheet column letter of a 0-based column index (0 → A)."""
    letter: str = xl_col_to_name(index)
    return letter


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header(value: Any) -> str:
    # Headers copied from Word or typed with an IME often carry full-width or stray spaces.
    return "" if value is None else "".join(str(value).split()).replace("\u3000", "")


def read_table(path: Path) -> RawTable:
    """The whole table in memory (small files, tests); see :func:`open_table`."""
    with open_table(path) as table:
        table.rows = list(table.rows)
    return table


@contextlib.contextmanager
def open_table(path: Path) -> Iterator[RawTable]:
    """The first sheet (xlsx) or the whole file (csv) with its rows streaming; blank rows skipped.

    Raises RosterFileError for a missing file, an unsupported type, an undecodable CSV or a
    file with no header row. The file is closed when the block ends.
    """
    name = path.name
    if not path.is_file():
        raise RosterFileError(RosterProblem(name, "文件不存在"))
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        opened = _open_xlsx
    elif suffix == ".csv":
        opened = _open_csv
    else:
        raise RosterFileError(
            RosterProblem(name, f"不支持的文件类型 {suffix or '(无扩展名)'}，请使用 .xlsx 或 .csv")
        )
    with opened(path) as table:
        yield table


def _split(name: str, lines: Iterator[tuple[int, list[Any]]]) -> tuple[list[str], Rows]:
    """The header (the first non-blank row) and an iterator over the non-blank rows after it."""
    for _number, cells in lines:
        if not all(_blank(c) for c in cells):
            headers = [_header(c) for c in cells]
            break
    else:
        raise RosterFileError(
            RosterProblem(name, "文件是空的：第一行应为表头（区、街道、社区、户号…）")
        )
    return headers, ((n, cells) for n, cells in lines if not all(_blank(c) for c in cells))


def _cell(value: Any) -> Any:
    # calamine gives a date cell as ``date`` and a date-and-time cell as ``datetime``; a
    # datetime at midnight is a date typed into a cell formatted with a time.
    if type(value) is dt.datetime and value.time() == dt.time():
        return value.date()
    return value


@contextlib.contextmanager
def _open_xlsx(path: Path) -> Iterator[RawTable]:
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
    except Exception as exc:  # calamine raises several kinds for a damaged or mislabelled file
        raise RosterFileError(
            RosterProblem(
                path.name,
                "无法作为 Excel (.xlsx) 文件打开：文件已损坏或不是 .xlsx 格式"
                "（.xls 请先在 Excel 中另存为 .xlsx）",
            )
        ) from exc
    try:
        # calamine's rows start at the sheet's first row but at its first used column: put
        # the empty columns back in front so column letters stay those of the file.
        offset = [""] * (sheet.start[1] if sheet.start else 0)

        def lines() -> Iterator[tuple[int, list[Any]]]:
            for number, values in enumerate(sheet.iter_rows(), start=1):
                cells = [_cell(v) for v in values]
                yield number, offset + cells if offset else cells

        headers, rows = _split(path.name, lines())
        yield RawTable(path.name, headers, rows, estimated_rows=max(sheet.height - 1, 0))
    finally:
        workbook.close()


def _csv_encoding(path: Path) -> str:
    """The first of CSV_ENCODINGS that decodes the whole file (read in blocks, nothing kept)."""
    for encoding in CSV_ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as f:
                while block := f.read(_BLOCK):
                    decoder.decode(block)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise RosterFileError(
        RosterProblem(path.name, "无法识别文件编码：请另存为 UTF-8 或 GB18030 编码的 CSV")
    )


@contextlib.contextmanager
def _open_csv(path: Path) -> Iterator[RawTable]:
    encoding = _csv_encoding(path)
    with path.open(encoding=encoding, newline="") as f:
        sample = f.read(4096)
        f.seek(0)
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(f, dialect)
        lines = ((reader.line_num, row) for row in reader)
        headers, rows = _split(path.name, lines)
        # About one line a row: enough for a progress bar (quoted line breaks count extra).
        estimate = max(_count_lines(path) - 1, 0)
        yield RawTable(path.name, headers, rows, encoding=encoding, estimated_rows=estimate)


def _count_lines(path: Path) -> int:
    count = 0
    last = b"\n"
    with path.open("rb") as f:
        while block := f.read(_BLOCK):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")
