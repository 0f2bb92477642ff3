"""``canbao keys init|rotate``: the data keys (SM4 for personal data, the blind-index key).

The key file lives outside the database (``CANBAO_DATA_KEY_FILE``), readable by its owner
only; see :mod:`storage.crypto` and docs/security.md ("数据加密").
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from bot.cli import CliError, cli_settings
from storage import crypto


def key_file(args: argparse.Namespace | None = None) -> Path | None:
    """``--key-file``, else ``CANBAO_DATA_KEY_FILE``."""
    given = getattr(args, "key_file", None) if args is not None else None
    return Path(given) if given else cli_settings().data_key_file


def install_keys(path: Path | None) -> crypto.Keyring:
    """Load and install the data keys of ``path`` (None: ``CANBAO_DATA_KEY_FILE`` as the
    process sees it); a missing, broken or too open file is an operator error."""
    try:
        if path is not None:
            crypto.install(crypto.load_key_file(path))
        return crypto.keyring()
    except crypto.DataKeyError as exc:
        raise CliError(str(exc)) from None


def _init(args: argparse.Namespace) -> int:
    path = key_file(args)
    if path is None:
        raise CliError("请用 --key-file 指定密钥文件的位置，或设置 CANBAO_DATA_KEY_FILE")
    try:
        crypto.write_key_file(path, crypto.Keyring.generate())
    except crypto.DataKeyError as exc:
        raise CliError(str(exc)) from None
    print(f"已生成数据密钥文件 {path}（仅所有者可读）。")
    print(f"  设置 CANBAO_DATA_KEY_FILE={path}，并把它备份到数据库备份以外的地方：")
    print("  没有这个文件，数据库中的身份号码、手机号、姓名和答案都无法读出。")
    return 0


def _rotate(args: argparse.Namespace) -> int:
    from bot.cli.db import database_url
    from storage.db import make_engine
    from storage.keys import check_keys, reseal_all

    path = key_file(args)
    if path is None:
        raise CliError("请用 --key-file 指定密钥文件的位置，或设置 CANBAO_DATA_KEY_FILE")
    keys = install_keys(path)
    url = database_url(args)

    async def main() -> dict[str, int]:
        engine = make_engine(url)
        try:
            await check_keys(engine, register=False)
            if not args.resume:
                fresh = keys.rotated()
                crypto.write_key_file(path, fresh, replace=True)
                crypto.install(fresh)
                print(f"新密钥 {fresh.active} 已写入 {path}；旧密钥保留用于读取。")
            await check_keys(engine)
            async with engine.connect() as conn:

                def work(sync: Any) -> dict[str, int]:
                    return reseal_all(sync, rotate=True, batch=args.batch, commit=sync.commit)

                return await conn.run_sync(work)
        except crypto.DataKeyError as exc:
            raise CliError(str(exc)) from None
        except OSError as exc:
            raise CliError(f"无法连接数据库：{exc}") from exc
        finally:
            await engine.dispose()

    changed = asyncio.run(main())
    total = sum(changed.values())
    print(f"已用密钥 {crypto.keyring().active} 重新加密 {total} 行：")
    for table, n in changed.items():
        print(f"  {table}: {n}")
    print("运行中的服务读到新密钥加密的数据时会自动重新读取密钥文件；")
    print("服务重启后请再执行一次 canbao keys rotate --resume，把期间写入的数据也换成新密钥。")
    return 0


def register(subparsers: Any) -> None:
    """Add ``canbao keys init|rotate``."""
    from bot.cli.db import add_database_option

    parser = subparsers.add_parser("keys", help="数据密钥：生成、轮换（国密 SM4 / SM3）")
    sub = parser.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    init = sub.add_parser("init", help="生成新的数据密钥文件（不会覆盖已有文件）")
    init.add_argument("--key-file", metavar="PATH", help="默认取 CANBAO_DATA_KEY_FILE")
    init.set_defaults(func=_init)
    rotate = sub.add_parser(
        "rotate",
        help="生成新密钥并分批把所有数据重新加密（服务可继续运行；中断后用 --resume 继续）",
    )
    rotate.add_argument("--key-file", metavar="PATH", help="默认取 CANBAO_DATA_KEY_FILE")
    rotate.add_argument(
        "--resume", action="store_true", help="不生成新密钥，只把仍用旧密钥加密的数据重新加密"
    )
    rotate.add_argument("--batch", type=int, default=500, help="每批行数（默认 500）")
    add_database_option(rotate)
    rotate.set_defaults(func=_rotate)
