"""``canbao demo``: a working installation in one command, with synthetic data only.

Creates (or upgrades) the database, loads the demo roster and accounts (:mod:`bot.demo`),
prints how to sign in and a few residents' links, then serves the console and the web chat
exactly as ``canbao run`` does (the Telegram bot too when ``CANBAO_BOT_TOKEN`` is set).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from bot.cli import CliError, cli_settings
from bot.settings import Settings
from storage import crypto


def register(subparsers: Any) -> None:
    """Add the ``demo`` sub-command."""
    parser = subparsers.add_parser(
        "demo",
        help="载入演示数据并启动（工作人员后台 + 网页填报）",
        description="创建数据库，载入合成的演示名册（姑苏区、高新区的几个社区）、"
        "演示工作人员账号和调查员，然后在 http://127.0.0.1:8080 提供工作人员后台和网页填报。"
        "所有身份号码均为合成数据。",
    )
    parser.add_argument("--host", help="监听地址（默认 CANBAO_HOST，即 127.0.0.1）")
    parser.add_argument("--port", type=int, help="监听端口（默认 CANBAO_PORT，即 8080）")
    parser.add_argument(
        "--people", type=int, default=60, help="演示名册的人数（默认 60，最多 500）"
    )
    parser.add_argument("--no-serve", action="store_true", help="只载入演示数据，不启动服务")
    parser.set_defaults(func=demo)


def _settings(args: argparse.Namespace) -> Settings:
    from bot.demo import demo_settings

    settings = cli_settings()
    overrides: dict[str, Any] = {}
    if args.host:
        overrides["host"] = args.host
    if args.port is not None:
        if not 0 < args.port < 65536:
            raise CliError(f"--port {args.port}: 端口应在 1–65535 之间")
        overrides["port"] = args.port
    if overrides and "public_url" not in settings.model_fields_set:
        # Links printed for the tester must point where the server really listens.
        host = overrides.get("host", settings.host)
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        overrides["public_url"] = f"http://{shown}:{overrides.get('port', settings.port)}"
    if settings.data_key_file is None:
        overrides["data_key_file"] = demo_key_file(settings)
    return demo_settings(settings.model_copy(update=overrides))


def demo_key_file(settings: Settings) -> Path:
    """The demo's data keys, next to its SQLite database (else in ``CANBAO_DATA_DIR``), made
    on the first run: the demo runs encrypted like a deployment."""
    url = make_url(settings.database_url)
    database = url.database if url.get_backend_name() == "sqlite" else None
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).expanduser().with_name("canbao-data.key")
    else:
        path = Path(settings.data_dir) / "canbao-data.key"
    if not path.exists():
        crypto.write_key_file(path, crypto.Keyring.generate())
    return path


def demo(args: argparse.Namespace) -> int:
    """Load the demo data, print the logins and links, and serve unless ``--no-serve``."""
    if not 1 <= args.people <= 500:
        raise CliError(f"--people {args.people}: 人数应在 1–500 之间")
    settings = _settings(args)
    from bot.cli.run import check_port, configure_logging, serve

    if not args.no_serve:
        check_port(settings.host, settings.port)
    print_report(settings, asyncio.run(_load(settings, args.people)))
    if args.no_serve:
        return 0

    configure_logging("INFO")
    asyncio.run(serve(settings, migrate=False))
    return 0


async def _load(settings: Settings, people: int) -> Any:
    from bot.cli.keys import install_keys
    from bot.demo import load_demo
    from storage.crypto import DataKeyError
    from storage.db import ensure_schema, make_engine, make_sessionmaker

    database = make_url(settings.database_url).render_as_string(hide_password=True)
    install_keys(settings.data_key_file)
    engine = make_engine(settings.database_url)
    try:
        try:
            await ensure_schema(engine)
        except DataKeyError as exc:
            raise CliError(f"数据库 {database}: {exc}") from None
        except Exception as exc:
            raise CliError(
                f"数据库 {database}: 无法创建或升级: {type(exc).__name__}: {exc}"
            ) from None
        return await load_demo(make_sessionmaker(engine), settings, people=people)
    finally:
        await engine.dispose()


def print_report(settings: Settings, report: Any) -> None:
    """What a tester needs: where to sign in, and residents' links with their synthetic IDs."""
    base = settings.public_url.rstrip("/")
    database = make_url(settings.database_url).render_as_string(hide_password=True)
    print(f"演示数据已就绪（数据库 {database}）")
    print(
        f"  名册：{report.communities} 个社区，{report.people} 人"
        f"（本次新增 {report.people_added} 人），身份号码均为合成数据"
    )
    from bot.deadlines import deadline_for

    community = deadline_for("community", settings)
    print(
        f"  调查期：{settings.survey_start} 至 {settings.survey_end}，社区完成期限 {community.text}"
    )
    share = report.not_contacted / report.target if report.target else 0.0
    print(f"  未联系：{report.not_contacted}/{report.target} 人（{share:.1%}）")
    print()
    print(f"工作人员后台：{base}/console/")
    if report.staff_password:
        print(f"  用户名 {report.staff_username}   密码 {report.staff_password}")
    else:
        print(f"  用户名 {report.staff_username}   密码：您已在后台修改过，请用新密码登录")
    print("  （演示账号，密码公开。正式部署请用 canbao staff add 建账号，")
    print("   并运行 canbao security check）")
    print(f"  表单预览（登录后）：{base}/c/preview")
    if report.community_id is not None:
        print(
            f"  人员名单（{report.community_path}）："
            f"{base}/console/persons?level=community&id={report.community_id}"
        )
        print(
            "  电话联系名单：在人员名单页点“导出电话联系名单”，或 "
            f"canbao invite --community {report.community_path} -o 电话联系名单.xlsx"
        )
    if report.binding_code:
        print(f"调查员“演示调查员”的绑定码：{report.binding_code}")
        print(
            "  （设置 CANBAO_BOT_TOKEN 后，在 Telegram 中向机器人发送 "
            f"/start {report.binding_code}）"
        )
    elif report.investigator_bound:
        print("调查员“演示调查员”已绑定 Telegram。")
    if getattr(report, "badge_number", None):
        print(f"  工作牌 {report.badge_number}，居民扫码核验页：{base}/badge/{report.badge_number}")
        print(
            f"  （打印：后台“工作牌”页，或 canbao badge print {report.badge_number} -o 工作牌.pdf）"
        )
    if report.signin_token:
        print(
            "调查员“演示调查员”的手机浏览器登录链接（只能登录一次，再次运行 demo 会给出新链接）："
        )
        print(f"  {base}/i/login/{report.signin_token}")
    print()
    print("居民网页填报链接（打开后输入右侧的合成身份号码核对身份）：")
    for resident in report.residents:
        print(f"  {resident.name}（{resident.age}岁，{resident.area}）")
        print(f"    {base}/c/{resident.code}   身份号码 {resident.id_number}")
