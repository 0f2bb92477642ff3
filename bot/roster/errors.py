"""Roster problems, each naming the file, row and column.

Example: ``roster.xlsx: 第12行 公民身份号码 (F列): 校验位错误…``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RosterProblem:
    """One thing wrong in a roster file; ``row``/``column`` are None for file-level problems."""

    file: str
    message: str
    row: int | None = None
    header: str | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f": 第{self.row}行"
            if self.header is not None:
                where += f" {self.header}"
                if self.column is not None:
                    where += f" ({self.column}列)"
        return f"{where}: {self.message}"


class RosterFileError(Exception):
    """The file cannot be read at all (missing, wrong type, no header row...)."""

    def __init__(self, problem: RosterProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem
