"""Streaming XLSX with XlsxWriter's ``constant_memory`` mode: each row goes to disk as it comes.

XlsxWriter writes cells several times faster than openpyxl's write-only mode
(``bench/exports.py`` measures both on the same rows). Every string is written as a text cell:
ID numbers and phone numbers stay text, a typed ``=1+1`` stays text, nothing becomes a formula,
a number or a link.

The cells are written by a child Python process (this module run with ``-m``), fed batches of
rows through a pipe: writing them is pure Python work that would otherwise hold the server's
interpreter lock for the whole export (a worker thread does not help), and in its own process
it runs beside the database reads and row layout instead of after them. The pipe's flow
control keeps the memory of both processes flat.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import sys
from collections.abc import AsyncIterable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

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


def _write(path: str, source: BinaryIO) -> int:
    """Write the workbook described by the pickled messages on ``source``; returns the rows.

    Messages: ``(title, header, widths)`` first, then lists of rows until the end of input.
    """
    title, header, widths = pickle.load(source)
    workbook = xlsxwriter.Workbook(path, OPTIONS)
    try:
        sheet = workbook.add_worksheet(title[:31])
        for index, width in widths.items():
            sheet.set_column(index, index, width)
        bold = workbook.add_format({"bold": True})
        for c, name in enumerate(header):
            sheet.write_string(0, c, writable(name), bold)
        sheet.freeze_panes(1, 0)
        count = 0
        while True:
            try:
                batch = pickle.load(source)
            except EOFError:
                break
            _append(sheet, count + 1, batch)
            count += len(batch)
    finally:
        # Also on an error: closing removes XlsxWriter's temporary files (the caller deletes
        # the half-written ``path``).
        workbook.close()
    return count


async def write_xlsx(
    path: Path,
    title: str,
    header: Sequence[str],
    rows: AsyncIterable[Sequence[Any]],
    *,
    widths: dict[int, float] | None = None,
) -> int:
    """Write ``rows`` under a bold, frozen ``header`` into ``path``; returns the number of rows.

    Rows go to the writing process in batches; ``constant_memory`` keeps only the current row
    in memory there. Raises RuntimeError when the writer fails (nothing has been sent yet: the
    file is complete before a download starts).
    """
    # The child imports this very module: the parent's import path, and not the working
    # directory in front of it (-P), whatever directory the server was started from.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-P",
        "-m",
        __name__,
        str(path),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert child.stdin is not None
    try:
        start = (title, list(header), widths or {})
        child.stdin.write(pickle.dumps(start, pickle.HIGHEST_PROTOCOL))
        batch: list[Sequence[Any]] = []
        async for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                child.stdin.write(pickle.dumps(batch, pickle.HIGHEST_PROTOCOL))
                batch = []
                await child.stdin.drain()
        if batch:
            child.stdin.write(pickle.dumps(batch, pickle.HIGHEST_PROTOCOL))
        child.stdin.close()
        out, err = await child.communicate()
    except BaseException:
        if child.returncode is None:
            child.kill()
            await child.wait()
        raise
    if child.returncode != 0:
        raise RuntimeError(f"XLSX writer exited with {child.returncode}: {err.decode()[-800:]}")
    return int(out)


if __name__ == "__main__":
    print(_write(sys.argv[1], sys.stdin.buffer))
