"""Roster import benchmark: a synthetic roster of N people, as CSV and XLSX, into a fresh store.

    python3 bench/roster_import.py                 # 200,000 rows, SQLite
    python3 bench/roster_import.py --rows 20000 --pg postgresql+asyncpg://postgres@127.0.0.1/test

Reports, per file format: file size, read + check time, write time, total, peak memory of
the process, and the time of an idempotent re-import of the same file.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import resource
import sys
import tempfile
import time
from pathlib import Path

from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.roster import import_file
from bot.synthetic import ROSTER_HEADERS, make_roster
from storage.db import make_sessionmaker
from storage.testing import temporary_database


def write_csv(rows: list[dict[str, str]], path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(ROSTER_HEADERS))
        writer.writeheader()
        writer.writerows(rows)


def write_xlsx(rows: list[dict[str, str]], path: Path) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(list(ROSTER_HEADERS))
    for row in rows:
        sheet.append([row[h] for h in ROSTER_HEADERS])
    workbook.save(path)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run(rows: int, pg: str | None, formats: list[str]) -> None:
    data = make_roster(rows, seed=2014)
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in formats:
            path = Path(tmp) / f"roster.{fmt}"
            (write_csv if fmt == "csv" else write_xlsx)(data, path)
            async with temporary_database(pg, directory=Path(tmp)) as engine:
                sessions = make_sessionmaker(engine)
                marks: dict[str, float] = {}

                def progress(
                    phase: str, done: int, total: int, marks: dict[str, float] = marks
                ) -> None:
                    if done >= total:
                        marks[phase] = time.perf_counter()

                start = time.perf_counter()
                report = await import_file(path, sessions, progress=progress)
                total = time.perf_counter() - start
                assert report.ok and report.written is not None, report.problems[:3]
                assert report.written.persons_added == rows
                checked = marks["check"] - start
                start = time.perf_counter()
                again = await import_file(path, sessions)
                reimport = time.perf_counter() - start
                assert again.written is not None and again.written.persons_unchanged == rows
            engine_name = "PostgreSQL" if pg else "SQLite"
            size = path.stat().st_size / 1e6
            print(
                f"| {rows:,} | {fmt.upper()} ({size:.1f} MB) | {engine_name} | {checked:.1f} s "
                f"| {total - checked:.1f} s | **{total:.1f} s** | {reimport:.1f} s "
                f"| {peak_mb():.0f} MB |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--pg", help="a PostgreSQL URL instead of SQLite")
    parser.add_argument("--format", choices=["csv", "xlsx"], action="append")
    args = parser.parse_args()
    print("| rows | file | engine | read + check | write | total | re-import | peak RSS |")
    print("| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    asyncio.run(run(args.rows, args.pg, args.format or ["csv", "xlsx"]))


if __name__ == "__main__":
    main()
