"""Roster import benchmark: a synthetic roster of N people, as CSV and XLSX, into a fresh store.

    python3 bench/roster_import.py                 # 200,000 rows, SQLite, CSV and XLSX, 2 runs
    python3 bench/roster_import.py --rows 20000 --pg postgresql+asyncpg://postgres@127.0.0.1/test
    python3 bench/roster_import.py --format xlsx --runs 3

The files are written once (``make_roster(rows, seed=2014)``). Each run is a separate Python
process that imports one file into an empty database and then imports it again (idempotent:
everything unchanged), so its peak RSS is the import's own, not the benchmark's. Per format:
file size, read + check time, write (merge) time, total, the process's CPU time (on a shared
machine the steadier figure), re-import, peak RSS of every run, and
the best run in the table form of docs/benchmarks.md. Also prints the machine's load, so
figures taken on a busy machine are marked as such.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import xlsxwriter

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
    # Shared strings, as Excel writes them; every cell a text cell (IDs kept as text).
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, list(ROSTER_HEADERS))
    for n, row in enumerate(rows, start=1):
        for c, header in enumerate(ROSTER_HEADERS):
            if value := row[header]:
                sheet.write_string(n, c, value)
    workbook.close()


def peak_mb() -> float:
    """This process's peak RSS (VmHWM: unlike ``ru_maxrss``, not inherited from the parent
    that started it, which holds the whole synthetic roster)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def one(path: Path, rows: int, pg: str | None) -> dict[str, float]:
    """Import ``path`` into a fresh database, then again; the figures of this process."""
    with tempfile.TemporaryDirectory() as tmp:
        async with temporary_database(pg, directory=Path(tmp)) as engine:
            sessions = make_sessionmaker(engine)
            marks: dict[str, float] = {}

            def progress(phase: str, done: int, total: int) -> None:
                if done >= total:
                    marks[phase] = time.perf_counter()

            start, cpu = time.perf_counter(), time.process_time()
            report = await import_file(path, sessions, progress=progress)
            total, cpu = time.perf_counter() - start, time.process_time() - cpu
            assert report.ok and report.written is not None, report.problems[:3]
            assert report.written.persons_added == rows, report.written
            checked = marks["check"] - start
            first_peak = peak_mb()
            start = time.perf_counter()
            again = await import_file(path, sessions)
            reimport = time.perf_counter() - start
            assert again.written is not None and again.written.persons_unchanged == rows
    return {
        "check": checked,
        "write": total - checked,
        "total": total,
        "cpu": cpu,
        "reimport": reimport,
        "peak_mb": first_peak,
        "peak_after_reimport_mb": peak_mb(),
    }


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {load}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--pg", help="a PostgreSQL URL instead of SQLite")
    parser.add_argument("--format", choices=["csv", "xlsx"], action="append")
    parser.add_argument("--runs", type=int, default=2, help="runs per format (best is shown)")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # a run's own process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(asyncio.run(one(args.one, args.rows, args.pg))))
        return

    formats = args.format or ["csv", "xlsx"]
    engine_name = "PostgreSQL" if args.pg else "SQLite"
    print(f"machine: {machine()}")
    data = make_roster(args.rows, seed=2014)
    lines: list[str] = []
    again: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in formats:
            path = Path(tmp) / f"roster.{fmt}"
            (write_csv if fmt == "csv" else write_xlsx)(data, path)
            size = path.stat().st_size / 1e6
            runs = []
            for n in range(1, args.runs + 1):
                command = [sys.executable, __file__, "--one", str(path), "--rows", str(args.rows)]
                if args.pg:
                    command += ["--pg", args.pg]
                out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
                run = json.loads(out.strip().splitlines()[-1])
                runs.append(run)
                print(
                    f"{fmt} run {n}: read + check {run['check']:.1f} s, write {run['write']:.1f} s,"
                    f" total {run['total']:.1f} s (CPU {run['cpu']:.1f} s), "
                    f"re-import {run['reimport']:.1f} s, "
                    f"peak RSS {run['peak_mb']:.0f} MB (after re-import "
                    f"{run['peak_after_reimport_mb']:.0f} MB); load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
            best = min(runs, key=lambda r: r["total"])
            lines.append(
                f"| {args.rows:,} | {fmt.upper()} ({size:.1f} MB) | {engine_name} "
                f"| {best['check']:.1f} s | {best['write']:.1f} s | **{best['total']:.1f} s** "
                f"| {min(r['cpu'] for r in runs):.1f} s "
                f"| {min(r['reimport'] for r in runs):.1f} s "
                f"| {max(r['peak_mb'] for r in runs):.0f} MB |"
            )
            again.append(f"{fmt.upper()}: {max(r['peak_after_reimport_mb'] for r in runs):.0f} MB")
    print(f"\nbest of {args.runs} runs each (peak RSS: the highest of the runs); {machine()}")
    print(
        "peak RSS of a process that imports the file a second time (the re-import; "
        f"`canbao roster import` runs one import per process): {', '.join(again)}"
    )
    print("| rows | file | engine | read + check | write | total | CPU | re-import | peak RSS |")
    print("| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
