"""Export benchmark: the 采集表 of every handed-in record as XLSX (XlsxWriter, and openpyxl's
write-only mode for comparison) and as CSV, through the console, on a 200,000-person store.

    python3 bench/exports.py                    # 200,000 people (~130,000 handed in), SQLite
    python3 bench/exports.py --people 50000 --pg postgresql+asyncpg://postgres@127.0.0.1/test
    python3 bench/exports.py --runs 3 --writer xlsxwriter --writer csv

The store is built as in ``bench/console.py`` (same roster and records, same seeds). Each
export is fetched by a signed-in city-level reviewer through the real application
(``GET /console/exports/records.xlsx?status=all``), so it includes the database stream, the
row layout and the writer. The openpyxl run swaps only the writer: the write-only writer the
console used before, with the same layout (bold header, frozen first row, column widths). The
runs alternate (xlsxwriter, openpyxl, csv, xlsxwriter, ...), as the machine drifts. Per run:
time, the process's CPU time (server and client share the process; on a shared machine the
steadier figure), size, and the process's RSS before and at its highest during the export
(sampled every 50 ms): flat memory means the second stays near the first.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import resource
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.console import PASSWORD, build
from bench.roster_import import machine
from bot.console.views import exports as export_views
from bot.server import create_app
from bot.settings import Settings
from flows import load_default_form

WRITERS = ("xlsxwriter", "openpyxl", "csv")


async def write_xlsx_openpyxl(
    path: Path,
    title: str,
    header: Sequence[str],
    rows: AsyncIterable[Sequence[Any]],
    *,
    widths: dict[int, float] | None = None,
) -> int:
    """The console's previous writer (openpyxl write-only), kept here for the comparison."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    for index, width in (widths or {}).items():
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    bold = Font(bold=True)
    head = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        head.append(cell)
    sheet.append(head)
    sheet.freeze_panes = "A2"

    def append(batch: list[Sequence[Any]]) -> None:
        for row in batch:
            cells: list[Any] = []
            for value in row:
                if isinstance(value, str) and value.startswith("="):
                    cell = WriteOnlyCell(sheet, value=value)
                    cell.data_type = "s"
                    cells.append(cell)
                else:
                    cells.append(value)
            sheet.append(cells)

    count = 0
    batch: list[Sequence[Any]] = []
    async for row in rows:
        batch.append(row)
        if len(batch) >= 1000:
            await asyncio.to_thread(append, batch)
            count += len(batch)
            batch = []
    await asyncio.to_thread(append, batch)
    count += len(batch)
    await asyncio.to_thread(workbook.save, path)
    return count


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the XLSX writing process)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def rss_mb(pid: int | str = "self") -> float:
    try:
        with open(f"/proc/{pid}/statm") as f:
            pages = int(f.read().split()[1])
    except (OSError, IndexError, ValueError):  # the child has just ended
        return 0.0
    return pages * 4096 / 1024 / 1024


def children_rss_mb() -> float:
    """RSS of this process's children (the XLSX writing process while it runs)."""
    total = 0.0
    for task in Path("/proc/self/task").iterdir():
        try:
            pids = (task / "children").read_text().split()
        except OSError:
            continue
        total += sum(rss_mb(pid) for pid in pids)
    return total


@contextmanager
def rss_peak() -> Iterator[list[float]]:
    """[RSS before, highest RSS seen meanwhile, highest RSS of the children] (MB), sampled
    every 50 ms in a thread."""
    seen = [rss_mb(), rss_mb(), 0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            seen[1] = max(seen[1], rss_mb())
            seen[2] = max(seen[2], children_rss_mb())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        done.set()
        thread.join()
        seen[1] = max(seen[1], rss_mb())


async def run(people: int, url: str | None, runs: int, writers: list[str]) -> None:
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        context, sessions = await build(url, people, Path(tmp))
        # time, MB, RSS before, highest RSS, CPU, highest RSS of the writing process
        Figures = tuple[float, float, float, float, float, float]
        results: dict[str, list[Figures]] = {w: [] for w in writers}
        try:
            settings = Settings(data_dir=Path(tmp) / "data", session_secret="bench")  # type: ignore[arg-type]
            app = create_app(settings, sessions, load_default_form())
            async with TestClient(TestServer(app)) as client:
                page = await (await client.get("/console/login")).text()
                token = re.search(r'name="_csrf" value="([^"]+)"', page)
                assert token
                await client.post(
                    "/console/login",
                    data={"_csrf": token.group(1), "username": "bench_city", "password": PASSWORD},
                )
                handed_in = 0
                for n in range(1, runs + 1):
                    for writer in writers:
                        fmt = "csv" if writer == "csv" else "xlsx"
                        original = export_views.write_xlsx
                        if writer == "openpyxl":
                            export_views.write_xlsx = write_xlsx_openpyxl  # type: ignore[assignment]
                        try:
                            with rss_peak() as rss:
                                started, cpu = time.perf_counter(), cpu_seconds()
                                response = await client.get(
                                    f"/console/exports/records.{fmt}?status=all"
                                )
                                body = await response.read()
                                took = time.perf_counter() - started
                                cpu = cpu_seconds() - cpu
                        finally:
                            export_views.write_xlsx = original
                        assert response.status == 200, response.status
                        if fmt == "csv":
                            handed_in = body.count(b"\n") - 1
                        size = len(body) / 1024 / 1024
                        results[writer].append((took, size, rss[0], rss[1], cpu, rss[2]))
                        print(
                            f"run {n} {writer:<10}: {took:6.1f} s (CPU {cpu:.1f} s), "
                            f"{size:5.1f} MB, "
                            f"RSS {rss[0]:.0f} → {rss[1]:.0f} MB, writing process "
                            f"{rss[2]:.0f} MB",
                            flush=True,
                        )
        finally:
            await context.__aexit__(None, None, None)
    engine = "PostgreSQL" if url else "SQLite"
    rows = f"{handed_in:,} rows" if handed_in else "all handed-in records"
    print(f"\nbest of {runs} runs each, {rows}, {engine}; {machine()}")
    print(
        "| export | best | all runs | CPU (best) | size | RSS before → highest during "
        "| writing process RSS |"
    )
    print("| --- | ---: | --- | ---: | ---: | --- | ---: |")
    labels = {
        "xlsxwriter": "XLSX, XlsxWriter constant_memory",
        "openpyxl": "XLSX, openpyxl write-only",
        "csv": "CSV",
    }
    for writer, figures in results.items():
        best = min(figures)
        print(
            f"| {labels[writer]} | **{best[0]:.1f} s** "
            f"| {' / '.join(f'{f[0]:.1f}' for f in figures)} s "
            f"| {min(f[4] for f in figures):.1f} s | {best[1]:.1f} MB "
            f"| {max(f[2] for f in figures):.0f} → {max(f[3] for f in figures):.0f} MB "
            f"| {max(f[5] for f in figures):.0f} MB |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--pg", help="a PostgreSQL URL instead of SQLite")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--writer", choices=WRITERS, action="append")
    args = parser.parse_args()
    asyncio.run(run(args.people, args.pg, args.runs, args.writer or list(WRITERS)))


if __name__ == "__main__":
    main()
