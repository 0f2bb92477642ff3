"""``canbao run``: the bot and the web server in one process.

Long polling by default; webhook mode when ``CANBAO_WEBHOOK_URL`` is set. Without a bot token
only the web server runs. SIGTERM or SIGINT (Ctrl-C) stops it gracefully.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import secrets
import signal
import socket
from typing import Any

from pydantic import SecretStr
from sqlalchemy import make_url

from bot import speedups
from bot.cli import CliError, cli_settings
from bot.privacy import install_log_masking
from bot.settings import Settings

logger = logging.getLogger("canbao.run")


def register(subparsers: Any) -> None:
    """Add the ``run`` sub-command."""
    parser = subparsers.add_parser(
        "run",
        help="运行机器人和网页服务",
        description="运行 Telegram 机器人（默认长轮询；设置 CANBAO_WEBHOOK_URL 时用 webhook）"
        "和网页服务（工作人员后台、网页填报、健康检查）。",
    )
    parser.add_argument("--host", help="监听地址（默认 CANBAO_HOST）")
    parser.add_argument("--port", type=int, help="监听端口（默认 CANBAO_PORT）")
    parser.add_argument(
        "--no-migrate",
        action="store_true",
        help="启动时不升级数据库结构（由 canbao db upgrade 负责）",
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run until SIGTERM/SIGINT; returns the exit code."""
    configure_logging(args.log_level)
    settings = cli_settings()
    overrides: dict[str, Any] = {}
    if args.host:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
    if settings.webhook_url and settings.webhook_secret is None:
        # Telegram echoes the secret in every webhook call; one per run is enough.
        overrides["webhook_secret"] = SecretStr(secrets.token_urlsafe(32))
        logger.info("CANBAO_WEBHOOK_SECRET not set: using a random secret for this run")
    settings = settings.model_copy(update=overrides)
    logger.info("event loop: %s", speedups.install_event_loop())
    asyncio.run(serve(settings, migrate=not args.no_migrate))
    return 0


def configure_logging(level: str) -> None:
    """Log to stderr with timestamps; ID and mobile numbers are masked in every record."""
    logging.basicConfig(
        level=getattr(logging, level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Access lines would carry web chat links, and with them invite codes: only when debugging
    # (ID and mobile numbers are masked in them as everywhere).
    if level != "DEBUG":
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    else:
        # SQL statements with their parameters (SQLAlchemy keeps its loggers at WARNING).
        logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    # transitions logs every state change of every conversation at INFO.
    logging.getLogger("transitions").setLevel(logging.WARNING)
    install_log_masking()


async def serve(settings: Settings, *, migrate: bool = True) -> None:
    """Start everything, wait for SIGTERM/SIGINT, stop everything."""
    from bot.cli.keys import install_keys
    from bot.telegram.service import Service
    from storage.crypto import DataKeyError
    from storage.db import ensure_schema, make_engine, make_sessionmaker
    from storage.keys import check_keys

    database = make_url(settings.database_url).render_as_string(hide_password=True)
    engine = make_engine(settings.database_url)
    # Updates are handled through an engine of their own (see make_engine's for_updates).
    chat_engine = make_engine(settings.database_url, for_updates=True)
    try:
        # Nothing starts without the data keys, nor with another database's keys.
        install_keys(settings.data_key_file)
        try:
            if migrate:
                await ensure_schema(engine)
            else:
                await check_keys(engine)
        except DataKeyError as exc:
            raise CliError(f"数据库 {database}: {exc}") from None
        except Exception as exc:
            raise CliError(
                f"数据库 {database}: 无法升级结构: {type(exc).__name__}: {exc}"
            ) from None
        service = Service(
            settings,
            sessionmaker=make_sessionmaker(engine),
            chat_sessionmaker=make_sessionmaker(chat_engine),
            form=_load_form(settings),
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        try:
            await service.start()
        except OSError as exc:
            await service.stop()
            raise CliError(port_message(settings.host, settings.port, exc)) from None
        except BaseException:
            await service.stop()
            raise
        freeze_startup_objects()
        _warn_weak_points(settings)
        logger.info(
            "running (telegram: %s, database: %s); stop with Ctrl-C or SIGTERM",
            service.mode,
            database,
        )
        await stop.wait()
        logger.info("stopping")
        await service.stop()
    finally:
        await engine.dispose()
        await chat_engine.dispose()


def _warn_weak_points(settings: Settings) -> None:
    """Say at start what ``canbao security check`` would call serious in the settings."""
    from bot.security.check import check_settings

    for finding in check_settings(settings):
        if finding.serious:
            logger.warning("security: %s → %s", finding.what, finding.fix)


def port_message(host: str, port: int, exc: OSError) -> str:
    """Why the server cannot listen, and what to do about it."""
    return (
        f"无法监听 {host}:{port}：{exc.strerror or exc}。"
        f"端口可能已被占用，请用 --port 换一个端口（如 --port {port + 1}）。"
    )


def check_port(host: str, port: int) -> None:
    """Raise CliError when ``host:port`` cannot be listened on now (before anything is
    printed or loaded that would suggest the server is coming up)."""
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except OSError as exc:
        raise CliError(f"无法监听 {host}:{port}：{exc.strerror or exc}") from None
    for family, kind, proto, _name, address in infos[:1]:
        with socket.socket(family, kind, proto) as probe:
            # As aiohttp listens: a port in TIME_WAIT counts as free, one in use does not.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                raise CliError(port_message(host, port, exc)) from None


def freeze_startup_objects() -> None:
    """Exempt what start-up built from the garbage collector's full collections.

    The modules, pydantic and SQLAlchemy models, the compiled form and the routers (some
    300,000 objects) live as long as the process, yet every full collection walked them all:
    about a tenth of the bot's CPU under load. Frozen, they are no longer examined (one that
    became garbage later would stay in memory: start-up keeps what it builds); everything made
    afterwards is collected as before.
    """
    gc.collect()
    gc.freeze()


def _load_form(settings: Settings) -> Any:
    import flows

    try:
        return flows.load_form(settings.form_file)
    except flows.FormError as exc:
        raise CliError(str(exc)) from None
    except FileNotFoundError:
        raise CliError(f"{settings.form_file}: 表单文件不存在 (CANBAO_FORM_FILE)") from None
