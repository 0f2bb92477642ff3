"""``canbao db``: schema upgrades; also the database access the other commands share."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import CliError, cli_settings
from bot.cli.keys import install_keys, key_file
from bot.privacy import install_log_masking
from storage.crypto import DataKeyError
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
    """Run ``work(sessions)`` on an up-to-date database, then close the engine. The data keys
    are loaded first and checked against the database (a wrong key file changes nothing)."""
    install_log_masking()
    install_keys(key_file())

    async def main() -> T:
        engine = make_engine(url)
        try:
            await ensure_schema(engine)
            return await work(make_sessionmaker(engine))
        except DataKeyError as exc:
            raise CliError(str(exc)) from None
        except OSError as exc:
            raise CliError(f"无法连接数据库：{exc}") from exc
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _upgrade(args: argparse.Namespace) -> int:
    url = database_url(args)
    install_log_masking()
    install_keys(key_file())

    async def main() -> tuple[str | None, str | None]:
        engine = make_engine(url)
        try:
            before = await current_revision(engine)
            await ensure_schema(engine, args.revision)
            return before, await current_revision(engine)
        except DataKeyError as exc:
            raise CliError(str(exc)) from None
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


SHOWN = 50


def _check(args: argparse.Namespace) -> int:
    text_ok = _check_text(args)
    counters_ok = _check_counters(args)
    return 0 if text_ok and counters_ok else 1


def _check_text(args: argparse.Namespace) -> bool:
    from bot.stored_text import check_stored_text
    from storage.keys import seal_report

    async def work(sessions: async_sessionmaker[AsyncSession]) -> tuple[list[Any], list[Any]]:
        async with sessions() as session:
            sealing = await (await session.connection()).run_sync(seal_report)
        return await check_stored_text(sessions, repair=args.repair), sealing

    found, sealing = with_sessions(database_url(args), work)
    plain = _report_sealing(sealing)
    if not found:
        print("未发现无法显示的文字。")
        return not plain
    what = "控制字符、孤立的代理项或双向控制符"
    if args.repair:
        print(f"已修复 {len(found)} 行含有{what}的数据（每行一条审计记录）：")
    else:
        print(f"发现 {len(found)} 行含有{what}的数据：")
    for item in found[:SHOWN]:
        print(f"  {item.describe()}")
    if len(found) > SHOWN:
        print(f"  …另有 {len(found) - SHOWN} 行")
    if args.repair:
        return not plain
    print(
        "导出、控制台和接口会把这些字符去掉后显示；用 canbao db check --repair 写回修复后的内容。"
    )
    return False


def _check_counters(args: argparse.Namespace) -> bool:
    """The progress pages' counters (storage.counters) against a full recount."""
    from storage import counters

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
        async with sessions() as session, session.begin():
            problems = await counters.check(session)
            if problems and args.repair:
                await counters.rebuild(session)
            return problems

    problems = with_sessions(database_url(args), work)
    if not problems:
        print("进度统计与逐条重新统计一致。")
        return True
    print(f"进度统计有 {len(problems)} 处与逐条重新统计不一致：")
    for problem in problems[:SHOWN]:
        print(f"  {problem}")
    if len(problems) > SHOWN:
        print(f"  …另有 {len(problems) - SHOWN} 处")
    if args.repair:
        print("已按逐条重新统计的结果重建进度统计。")
        return True
    print("用 canbao db check --repair 按逐条重新统计的结果重建。")
    return False


def _report_sealing(found: list[Any]) -> bool:
    """Print the personal values left in plain text and those under an old key; whether any
    are in plain text."""
    plain = [f for f in found if f.plain]
    if not plain:
        print("个人信息均已加密（SM4）。")
    for item in plain:
        print(f"  未加密：{item.table}.{item.column} 有 {item.plain} 个值是明文")
    if plain:
        print("  （canbao db upgrade 会把明文加密；升级后仍有明文说明有程序绕过了加密类型写入）")
    old = [f for f in found if f.old_key]
    for item in old:
        print(
            f"  旧密钥：{item.table}.{item.column} 有 {item.old_key} 个值"
            "（canbao keys rotate --resume）"
        )
    return bool(plain)


def register(subparsers: Any) -> None:
    """Add ``canbao db upgrade|current|check``."""
    parser = subparsers.add_parser("db", help="数据库：升级结构、查看版本、检查数据")
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
    check = sub.add_parser(
        "check",
        help="查找未加密的个人信息、含有无法显示字符（控制字符、孤立代理项、双向控制符）的数据，"
        "核对进度统计；--repair 修复后两者",
    )
    check.add_argument(
        "--repair",
        action="store_true",
        help="写回修复后的内容（每行一条审计记录），重建不一致的进度统计",
    )
    add_database_option(check)
    check.set_defaults(func=_check)
