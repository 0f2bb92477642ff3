"""``canbao db``: schema upgrades; also the database access the other commands share."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import CliError, cli_settings
from bot.privacy import install_log_masking
from storage.db import (
    current_revision,
    ensure_schema,
    head_revision,
    make_engine,
    make_sessionmaker,
)

T = TypeVar("T")


def database_url(args: argparse.Namespace) -> str:
    """The ``--database-url`` given, else the settings' (``CANBAO_DATABASE_URL``)."""
    return getattr(args, "database_url", None) or cli_settings().database_url


def add_database_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--database-url`` to a sub-command."""
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="数据库地址（默认取 CANBAO_DATABASE_URL，即 sqlite+aiosqlite:///data/canbao.db）",
    )


def with_sessions(url: str, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """Run ``work(sessions)`` on an up-to-date database, then close the engine."""
    install_log_masking()

    async def main() -> T:
        engine = make_engine(url)
        try:
            await ensure_schema(engine)
            return await work(make_sessionmaker(engine))
        except OSError as exc:
            raise CliError(f"无法连接数据库：{exc}") from exc
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _upgrade(args: argparse.Namespace) -> int:
    url = database_url(args)
    install_log_masking()

    async def main() -> tuple[str | None, str | None]:
        engine = make_engine(url)
        try:
            before = await current_revision(engine)
            await ensure_schema(engine, args.revision)
            return before, await current_revision(engine)
        except OSError as exc:
            raise CliError(f"无法连接数据库：{exc}") from exc
        finally:
            await engine.dispose()

    before, after = asyncio.run(main())
    if before == after:
        print(f"数据库已是最新版本（{after}）")
    else:
        print(f"数据库已升级：{before or '空库'} → {after}")
    return 0


def _current(args: argparse.Namespace) -> int:
    url = database_url(args)

    async def main() -> str | None:
        engine = make_engine(url)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    current = asyncio.run(main())
    head = head_revision()
    state = "最新" if current == head else f"需要升级到 {head}（canbao db upgrade）"
    print(f"当前版本：{current or '未初始化'}；{state}")
    return 0


def register(subparsers: Any) -> None:
    """Add ``canbao db upgrade|current``."""
    parser = subparsers.add_parser("db", help="数据库：升级结构、查看版本")
    sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = sub.add_parser(
        "upgrade", help="把数据库结构升级到最新（canbao run 启动时也会自动执行）"
    )
    upgrade.add_argument("revision", nargs="?", default="head", help="目标版本（默认 head）")
    add_database_option(upgrade)
    upgrade.set_defaults(func=_upgrade)
    current = sub.add_parser("current", help="显示数据库当前的结构版本")
    add_database_option(current)
    current.set_defaults(func=_current)
