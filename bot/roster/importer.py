"""Import a roster file: read → check every row → (unless a dry run) write it in one transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.roster.errors import RosterProblem
from bot.roster.reader import read_table
from bot.roster.validate import CheckResult, Progress, check_table
from storage.repositories.actors import Actor
from storage.repositories.roster import RosterImportResult, import_roster


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


def check_file(
    path: Path, *, today: dt.date | None = None, progress: Progress | None = None
) -> CheckResult:
    """Read and check a roster file (RosterFileError when it cannot be read at all)."""
    table = read_table(path)
    if progress:
        progress("read", len(table.rows), len(table.rows))
    return check_table(table, today=today, progress=progress)


async def import_file(
    path: Path,
    sessions: async_sessionmaker[AsyncSession],
    *,
    dry_run: bool = False,
    actor: Actor | None = None,
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Check ``path`` and, if every row is good and not ``dry_run``, write it.

    Nothing is written when any row has a problem: a half-imported roster is worse than none.
    """
    checked = check_file(path, today=today, progress=progress)
    report = ImportReport(
        file=path.name,
        rows=len(checked.rows) + len({p.row for p in checked.problems if p.row is not None}),
        problems=checked.problems,
        extra_headers=checked.extra_headers,
    )
    if not checked.ok or dry_run:
        return report
    async with sessions() as session, session.begin():
        report.written = await import_roster(
            session,
            checked.rows,
            actor=actor or Actor.system("命令行导入"),
            source=path.name,
            progress=progress,
        )
    return report
