"""The ``canbao`` command line.

Each sub-command lives in its own module exposing ``register(subparsers)``; the module sets
``func`` on its parser, returning an exit code. Errors meant for the operator are raised as
:class:`CliError` and printed without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.settings import Settings

# Order here is the order in ``canbao --help``.
_COMMAND_MODULES = (
    "bot.cli.form",
    "bot.cli.db",
    "bot.cli.keys",
    "bot.cli.data",
    "bot.cli.roster",
    "bot.cli.contacts",
    "bot.cli.badge",
    "bot.cli.report",
    "bot.cli.accounts",
    "bot.cli.security",
    "bot.cli.run",
    "bot.cli.demo",
)


class CliError(Exception):
    """An error the operator can fix; printed as one line, exit code 2 unless given."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def cli_settings() -> Settings:
    """The settings from the environment, read afresh; a bad ``CANBAO_*`` value is an operator
    error."""
    from pydantic import ValidationError

    from bot.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CliError(f"配置错误: CANBAO_{where.upper()}: {first['msg']}") from None


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every available sub-command."""
    parser = argparse.ArgumentParser(
        prog="canbao", description="全民参保登记 信息采集 (canbao-intake)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``canbao`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        result = func(args)
    except CliError as exc:
        print(f"错误: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
