"""Import a roster file: stream its rows through the check into a staging table, then (when
every row is good and it is not a dry run) merge the staging table into the store.

Nothing is half-imported: staging and merge run in one transaction, which is rolled back when
any row has a problem, and the store's tables are written only by the merge. The file is read
once and never held in memory as a whole.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.roster.errors import RosterProblem
from bot.roster.reader import RawTable, open_table
from bot.roster.validate import CheckResult, Progress, RowChecker, check_table
from storage.repositories.actors import Actor
from storage.repositories.roster import CHUNK, RosterImportResult, RosterRow, RosterStaging


@dataclass(slots=True)
class ImportReport:
    """The check's outcome and, when written, what changed in the store."""

    file: str
    rows: int
    problems: list[RosterProblem]
    extra_headers: list[str]
    written: RosterImportResult | None = None

    @property
    def ok(self) -> bool:
        """Nothing wrong in the file."""
        return not self.problems


class _Rejected(Exception):
    """Some row has a problem: the transaction is rolled back."""


def check_file(
    path: Path, *, today: dt.date | None = None, progress: Progress | None = None
) -> CheckResult:
    """Read and check a roster file, keeping the good rows (RosterFileError when it cannot be
    read at all). For large files :func:`import_file` with ``dry_run`` keeps none."""
    with open_table(path) as table:
        _read(table, progress)
        return check_table(table, today=today, progress=progress)


def _read(table: RawTable, progress: Progress | None) -> None:
    # The file has been read once when it is open (calamine loads the sheet, the CSV's
    # encoding is checked over the whole file); the rows are parsed as they are checked.
    if progress:
        progress("read", table.expected_rows, table.expected_rows)


async def import_file(
    path: Path,
    sessions: async_sessionmaker[AsyncSession] | None,
    *,
    dry_run: bool = False,
    actor: Actor | None = None,
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Check ``path`` and, if every row is good and not ``dry_run``, write it.

    Nothing is written when any row has a problem: a half-imported roster is worse than none.
    A dry run opens no database (``sessions`` may be None).
    """
    with contextlib.ExitStack() as opened:
        table = opened.enter_context(open_table(path))
        _read(table, progress)
        checker = RowChecker(table, today=today)
        report = ImportReport(path.name, 0, list(checker.problems), checker.extras)
        if checker.problems:
            return report
        outcomes = checker.check_rows(table.rows, progress, table.expected_rows)
        if dry_run or sessions is None:
            for _row, problems in outcomes:
                report.problems.extend(problems)
            report.rows = checker.rows
            return report
        try:
            async with sessions() as session, session.begin():
                staging = await RosterStaging.start(session)
                batch: list[RosterRow] = []
                for row, problems in outcomes:
                    if row is None:
                        report.problems.extend(problems)
                    elif not report.problems:  # after a problem nothing will be written
                        batch.append(row)
                        if len(batch) >= CHUNK:
                            await staging.add(batch)
                            batch = []
                report.rows = checker.rows
                # The file is done with: free the reader's memory (calamine holds the whole
                # sheet) before the merge needs some.
                opened.close()
                if report.problems:
                    await staging.discard()
                    raise _Rejected
                await staging.add(batch)
                report.written = await staging.merge(
                    actor=actor or Actor.system("命令行导入"), source=path.name, progress=progress
                )
        except _Rejected:
            pass
    return report
