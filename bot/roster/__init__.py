"""Roster files: read (.xlsx / .csv), check every cell, import into the store.

>>> from bot.roster import import_file, check_file
"""

from bot.roster.errors import RosterFileError, RosterProblem
from bot.roster.importer import ImportReport, check_file, import_file
from bot.roster.validate import CheckResult

__all__ = [
    "CheckResult",
    "ImportReport",
    "RosterFileError",
    "RosterProblem",
    "check_file",
    "import_file",
]
