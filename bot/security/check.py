"""``canbao security check``: the deployment's weak points, from its settings, its files and
its store. Each finding says what is wrong and what to do; serious ones make the command fail,
so a deployment script can stop on them (``docs/deploy.md``)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import make_url, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings
from storage.models import AuditEvent, Staff
from storage.repositories.accounts import password_matches
from storage.types import utcnow

# Secrets printed in this project's documentation and tests: never a real deployment's.
EXAMPLE_SECRETS = frozenset(
    {
        "test-secret_0123456789",
        "bench-secret_0123456789",
        "change-me",
        "changeme",
        "secret",
    }
)
MIN_SECRET_LENGTH = 32
# Forwarding headers from an untrusted peer within this long count as "arriving".
FORWARDING_LOOKBACK = dt.timedelta(days=30)
DEMO_LOGIN_FILE = "demo-login.json"
KEY_FILES = ("console_session.key", "webchat.key", DEMO_LOGIN_FILE)


@dataclass(frozen=True, slots=True)
class Finding:
    """One weak point: ``serious`` ones must be fixed before real data goes in."""

    serious: bool
    what: str
    fix: str

    def render(self) -> str:
        return f"{'严重' if self.serious else '提示'}：{self.what}\n      → {self.fix}"


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _sqlite_path(settings: Settings) -> Path | None:
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).expanduser()


def _is_postgres(settings: Settings) -> bool:
    return make_url(settings.database_url).get_backend_name() == "postgresql"


def _file_findings(path: Path, label: str) -> list[Finding]:
    try:
        mode = path.stat().st_mode
    except OSError:
        return []
    fix = f"chmod 600 {path}（只允许运行 canbao 的用户读取）"
    if mode & stat.S_IROTH:
        return [Finding(True, f"{label} {path} 所有用户都可以读取", fix)]
    if mode & stat.S_IRGRP:
        return [Finding(False, f"{label} {path} 同组用户可以读取", fix)]
    return []


def _same_directory(a: Path, b: Path) -> bool:
    return a.expanduser().parent.resolve() == b.expanduser().parent.resolve()


def check_settings(settings: Settings) -> list[Finding]:
    """What the settings and the files on this machine give away (no database needed)."""
    found: list[Finding] = []
    secret = settings.session_secret.get_secret_value() if settings.session_secret else ""
    if not secret:
        found.append(
            Finding(
                _is_postgres(settings),
                "未设置 CANBAO_SESSION_SECRET：Cookie 密钥由各进程在数据目录中自行生成，"
                "多个工作进程之间互不相认",
                "设置 CANBAO_SESSION_SECRET（python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'），所有工作进程相同",
            )
        )
    elif len(secret) < MIN_SECRET_LENGTH or secret in EXAMPLE_SECRETS:
        found.append(
            Finding(
                True,
                "CANBAO_SESSION_SECRET 太短或是示例值：可被猜出，从而伪造登录和居民 Cookie",
                f"换成至少 {MIN_SECRET_LENGTH} 个字符的随机值",
            )
        )
    if settings.public_url.lower().startswith("http://"):
        local = _loopback(settings.public_url)
        found.append(
            Finding(
                not local,
                f"CANBAO_PUBLIC_URL 是 http（{settings.public_url}）：密码、身份证号和 Cookie "
                "以明文传输" + ("（仅本机访问时可以接受）" if local else ""),
                "在 nginx 上启用 TLS，并把 CANBAO_PUBLIC_URL 设为 https://…",
            )
        )
    if settings.webhook_url:
        hook = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
        if not hook:
            found.append(
                Finding(
                    True,
                    "使用 webhook 但未设置 CANBAO_WEBHOOK_SECRET：每次启动随机生成，"
                    "多个工作进程会互相拒绝 Telegram 的投递",
                    "设置 CANBAO_WEBHOOK_SECRET（32 个以上 [A-Za-z0-9_-] 字符），所有工作进程相同",
                )
            )
        elif hook in EXAMPLE_SECRETS or len(hook) < MIN_SECRET_LENGTH:
            found.append(
                Finding(
                    True,
                    "CANBAO_WEBHOOK_SECRET 是示例值或太短：别人可以冒充 Telegram 投递消息",
                    f"换成至少 {MIN_SECRET_LENGTH} 个字符的随机值",
                )
            )
    for network in settings.trusted_networks:
        if network.prefixlen == 0:
            found.append(
                Finding(
                    True,
                    f"CANBAO_TRUSTED_PROXIES 含 {network}：任何人都能伪造 X-Forwarded-For，"
                    "绕过登录次数限制",
                    "只列出 nginx 所在的地址，例如 127.0.0.1",
                )
            )
    database = _sqlite_path(settings)
    if database is not None:
        for suffix in ("", "-wal", "-shm"):
            found += _file_findings(Path(f"{database}{suffix}"), "数据库文件")
    for name in KEY_FILES:
        found += _file_findings(Path(settings.data_dir) / name, "密钥文件")
    # A data key file others can read stops every command before this check (storage.crypto).
    key = settings.data_key_file
    if key is not None and database is not None and _same_directory(key, database):
        found.append(
            Finding(
                False,
                f"数据密钥文件 {key} 与数据库在同一目录：一起备份、"
                "一起被拷走，加密就没有意义（演示环境如此）",
                "把密钥文件放到数据库目录之外，并与数据库备份分开保存",
            )
        )
    found += _file_findings(Path(".env"), "配置文件")
    return found


def _demo_password(settings: Settings) -> tuple[str, str] | None:
    try:
        data = json.loads((Path(settings.data_dir) / DEMO_LOGIN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(data, dict):
        username, password = data.get("username"), data.get("password")
        if isinstance(username, str) and isinstance(password, str):
            return username, password
    return None


async def check_store(session: AsyncSession, settings: Settings) -> list[Finding]:
    """What the store shows: forwarding headers ignored, initial and demo passwords."""
    found: list[Finding] = []
    since = utcnow() - FORWARDING_LOOKBACK
    peers = {
        str(e.details.get("peer"))
        for e in await session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "forwarded_header_ignored", AuditEvent.at >= since
            )
        )
    }
    from bot.security.proxies import is_trusted

    untrusted = sorted(p for p in peers if not is_trusted(p, settings.trusted_networks))
    if untrusted:
        found.append(
            Finding(
                True,
                f"收到了来自 {'、'.join(untrusted)} 的 X-Forwarded-For，但它不在 "
                "CANBAO_TRUSTED_PROXIES 中：所有人的地址都成了代理的地址，"
                "登录限制会把整个单位一起锁住",
                f"设置 CANBAO_TRUSTED_PROXIES={','.join(untrusted)}（nginx 的地址）",
            )
        )
    staff = (await session.scalars(select(Staff).where(Staff.active.is_(True)))).all()
    initial = sorted(s.username for s in staff if s.must_change_password)
    if initial:
        found.append(
            Finding(
                False,
                f"{len(initial)} 个账号仍在使用他人设置的初始密码：{'、'.join(initial)}",
                "请本人登录后台修改密码；不再使用的账号用 canbao staff disable 停用",
            )
        )
    demo = _demo_password(settings)
    if demo is not None:
        username, password = demo
        account = next((s for s in staff if s.username == username), None)
        if account is not None and password_matches(account, password):
            found.append(
                Finding(
                    True,
                    f"演示账号 {username} 仍可用 canbao demo 打印的密码登录"
                    f"（也保存在 {Path(settings.data_dir) / DEMO_LOGIN_FILE}）",
                    f"正式使用前：canbao staff disable {username}，并删除演示数据库",
                )
            )
    return found
