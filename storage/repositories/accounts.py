"""Accounts: investigators (bound to Telegram by a one-time code), staff, API tokens."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage import passwords
from storage.models import ApiToken, Community, Investigator, Staff, StaffRole, Street
from storage.repositories.actors import Actor
from storage.repositories.audit import add_event
from storage.repositories.errors import AccountError, BindingError
from storage.repositories.staff_sessions import end_sessions
from storage.types import utcnow

BINDING_CODE_PREFIX = "bind-"
BINDING_CODE_TTL = dt.timedelta(days=7)
TOKEN_PREFIX = "cbt_"
MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{3,64}")
# Refresh ``last_used_at`` at most this often, so API reads do not become writes.
TOKEN_TOUCH_INTERVAL = dt.timedelta(minutes=5)
# How many client addresses of a token are remembered (older ones are forgotten).
MAX_TOKEN_ADDRESSES = 20

_hasher = PasswordHasher()
# Verifying against this when the username is unknown keeps the answer time the same,
# so response times do not tell which usernames exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def sha256_hex(secret: str) -> str:
    """The hex SHA-256 of a secret (codes and tokens are random, so no salt is needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


# --------------------------------------------------------------------------------- investigators


async def create_investigator(
    session: AsyncSession,
    name: str,
    communities: Sequence[Community],
    *,
    mobile: str | None = None,
    actor: Actor | None = None,
    ttl: dt.timedelta = BINDING_CODE_TTL,
) -> tuple[Investigator, str]:
    """Create an investigator for the communities; returns it and its one-time binding code.

    The code is not stored (only its hash): show it once.
    """
    name = name.strip()
    if not name:
        raise AccountError("调查员姓名不能为空")
    if not communities:
        raise AccountError("请至少指定一个社区")
    code = BINDING_CODE_PREFIX + secrets.token_urlsafe(18)
    investigator = Investigator(
        name=name,
        mobile=mobile,
        binding_code_hash=sha256_hex(code),
        binding_code_expires_at=utcnow() + ttl,
        communities=list(communities),
    )
    session.add(investigator)
    await session.flush()
    add_event(
        session,
        actor or Actor.system(),
        "investigator_created",
        details={"investigator_id": investigator.id, "communities": [c.id for c in communities]},
    )
    return investigator, code


async def reissue_binding_code(
    session: AsyncSession,
    investigator: Investigator,
    *,
    actor: Actor | None = None,
    ttl: dt.timedelta = BINDING_CODE_TTL,
) -> str:
    """A new one-time binding code (e.g. a lost phone); unbinds the old Telegram account."""
    if investigator.revoked_at is not None:
        raise AccountError("该调查员已被停用")
    code = BINDING_CODE_PREFIX + secrets.token_urlsafe(18)
    investigator.binding_code_hash = sha256_hex(code)
    investigator.binding_code_expires_at = utcnow() + ttl
    investigator.telegram_user_id = None
    investigator.bound_at = None
    await session.flush()
    add_event(
        session,
        actor or Actor.system(),
        "binding_code_reissued",
        details={"investigator_id": investigator.id},
    )
    return code


def looks_like_binding_code(code: str) -> bool:
    """Whether a deep-link code is an investigator's binding code rather than an invite."""
    return code.startswith(BINDING_CODE_PREFIX)


async def bind_investigator(
    session: AsyncSession, code: str, telegram_user_id: int
) -> Investigator:
    """Bind the Telegram account to the investigator holding ``code`` (single use).

    Raises BindingError (Chinese message) for an unknown, used, expired or revoked code, or a
    Telegram account already bound to another investigator.
    """
    investigator = await session.scalar(
        select(Investigator)
        .where(Investigator.binding_code_hash == sha256_hex(code.strip()))
        .options(selectinload(Investigator.communities))
    )
    if investigator is None:
        raise BindingError("绑定码无效或已使用，请向区社保中心索取新的绑定码")
    if investigator.revoked_at is not None:
        raise BindingError("该调查员账号已停用")
    expires = investigator.binding_code_expires_at
    if expires is not None and expires < utcnow():
        raise BindingError("绑定码已过期，请向区社保中心索取新的绑定码")
    other = await session.scalar(
        select(Investigator).where(
            Investigator.telegram_user_id == telegram_user_id, Investigator.id != investigator.id
        )
    )
    if other is not None:
        raise BindingError("这个 Telegram 账号已绑定其他调查员")
    investigator.telegram_user_id = telegram_user_id
    investigator.bound_at = utcnow()
    investigator.binding_code_hash = None
    investigator.binding_code_expires_at = None
    await session.flush()
    add_event(
        session,
        Actor.investigator(investigator),
        "investigator_bound",
        channel="telegram",
        details={"investigator_id": investigator.id},
    )
    return investigator


async def investigator_by_telegram(
    session: AsyncSession, telegram_user_id: int
) -> Investigator | None:
    """The active investigator bound to that Telegram account (communities loaded), or None."""
    return await session.scalar(
        select(Investigator)
        .where(Investigator.telegram_user_id == telegram_user_id, Investigator.revoked_at.is_(None))
        .options(selectinload(Investigator.communities))
    )


async def get_investigator(session: AsyncSession, investigator_id: int) -> Investigator | None:
    """The investigator with that id (communities loaded)."""
    return await session.scalar(
        select(Investigator)
        .where(Investigator.id == investigator_id)
        .options(selectinload(Investigator.communities))
    )


async def list_investigators(
    session: AsyncSession, *, district_id: int | None = None, include_revoked: bool = True
) -> Sequence[Investigator]:
    """Investigators with their communities (and those communities' streets and districts)."""
    stmt = (
        select(Investigator)
        .options(
            selectinload(Investigator.communities)
            .selectinload(Community.street)
            .selectinload(Street.district)
        )
        .order_by(Investigator.id)
    )
    if not include_revoked:
        stmt = stmt.where(Investigator.revoked_at.is_(None))
    investigators = (await session.scalars(stmt)).all()
    if district_id is None:
        return investigators
    return [i for i in investigators if any(c.district_id == district_id for c in i.communities)]


async def revoke_investigator(
    session: AsyncSession, investigator: Investigator, *, actor: Actor, reason: str | None = None
) -> None:
    """Revoke an investigator: the Telegram account no longer acts as one."""
    if investigator.revoked_at is not None:
        return
    investigator.revoked_at = utcnow()
    investigator.binding_code_hash = None
    await session.flush()
    add_event(
        session,
        actor,
        "investigator_revoked",
        reason=reason,
        details={"investigator_id": investigator.id},
    )


async def set_investigator_communities(
    session: AsyncSession,
    investigator: Investigator,
    communities: Sequence[Community],
    *,
    actor: Actor,
) -> None:
    """Replace the communities an investigator covers."""
    if not communities:
        raise AccountError("请至少指定一个社区")
    await session.refresh(investigator, ["communities"])
    investigator.communities = list(communities)
    await session.flush()
    add_event(
        session,
        actor,
        "investigator_communities",
        details={"investigator_id": investigator.id, "communities": [c.id for c in communities]},
    )


# ----------------------------------------------------------------------------------------- staff


def check_password_strength(password: str, *, username: str | None = None) -> None:
    """Raise AccountError when the password is too weak to protect personal data (the policy
    of :mod:`storage.passwords`)."""
    try:
        passwords.check_password(password, username=username)
    except passwords.WeakPassword as exc:
        raise AccountError(str(exc)) from None


async def create_staff(
    session: AsyncSession,
    username: str,
    password: str,
    *,
    role: StaffRole = StaffRole.reviewer,
    district_id: int | None = None,
    display_name: str | None = None,
    actor: Actor | None = None,
    must_change_password: bool = False,
) -> Staff:
    """Create a staff account (``district_id`` None = the whole city).

    ``must_change_password``: the password was chosen by someone else (an operator at the
    command line); the console asks for a new one at the first sign-in."""
    if not USERNAME_PATTERN.fullmatch(username):
        raise AccountError("用户名应为 3–64 个字母、数字或 _ . -")
    if await session.scalar(select(Staff.id).where(Staff.username == username)) is not None:
        raise AccountError(f"用户名 {username} 已存在")
    check_password_strength(password, username=username)
    staff = Staff(
        username=username,
        password_hash=_hasher.hash(password),
        role=StaffRole(role),
        district_id=district_id,
        display_name=display_name,
        active=True,
        must_change_password=must_change_password,
        password_changed_at=utcnow(),
    )
    session.add(staff)
    await session.flush()
    add_event(
        session,
        actor or Actor.system(),
        "staff_created",
        details={
            "staff_id": staff.id,
            "role": str(staff.role),
            "district_id": district_id,
            "must_change_password": must_change_password,
        },
    )
    return staff


def password_matches(staff: Staff, password: str) -> bool:
    """Whether ``password`` is the staff member's current one (nothing is changed)."""
    try:
        return bool(_hasher.verify(staff.password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


async def verify_staff_password(
    session: AsyncSession, username: str, password: str
) -> Staff | None:
    """The active staff member when the password matches, else None (same time either way).

    Rehashes the password when argon2's parameters have changed since it was set.
    """
    staff = await session.scalar(select(Staff).where(Staff.username == username))
    if staff is None or not staff.active:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return None
    try:
        _hasher.verify(staff.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(staff.password_hash):
        staff.password_hash = _hasher.hash(password)
    staff.last_login_at = utcnow()
    await session.flush()
    return staff


async def set_staff_password(
    session: AsyncSession,
    staff: Staff,
    password: str,
    *,
    actor: Actor,
    must_change: bool = False,
) -> int:
    """Set a new password and end every sign-in of the account; returns how many ended.

    ``must_change``: set by someone other than the account's owner (a reset), so the owner
    chooses their own at the next sign-in."""
    check_password_strength(password, username=staff.username)
    if password_matches(staff, password):
        raise AccountError("新密码不能与原密码相同")
    staff.password_hash = _hasher.hash(password)
    staff.password_changed_at = utcnow()
    staff.must_change_password = must_change
    await session.flush()
    ended = await end_sessions(session, staff.id, reason="password_changed")
    add_event(
        session,
        actor,
        "staff_password_set",
        details={"staff_id": staff.id, "must_change_password": must_change, "sessions": ended},
    )
    return ended


async def deactivate_staff(session: AsyncSession, staff: Staff, *, actor: Actor) -> int:
    """Disable a staff account (kept for the audit trail) and end its sign-ins at once;
    returns how many ended."""
    staff.active = False
    await session.flush()
    ended = await end_sessions(session, staff.id, reason="disabled")
    add_event(
        session, actor, "staff_deactivated", details={"staff_id": staff.id, "sessions": ended}
    )
    return ended


async def staff_by_username(session: AsyncSession, username: str) -> Staff | None:
    """The staff account with that username."""
    return await session.scalar(select(Staff).where(Staff.username == username))


async def get_staff(session: AsyncSession, staff_id: int) -> Staff | None:
    """The staff member with that id."""
    return await session.get(Staff, staff_id)


async def list_staff(session: AsyncSession) -> Sequence[Staff]:
    """Every staff account (district loaded)."""
    result = await session.scalars(
        select(Staff).options(selectinload(Staff.district)).order_by(Staff.username)
    )
    return result.all()


# ------------------------------------------------------------------------------------ API tokens


async def create_api_token(
    session: AsyncSession,
    name: str,
    *,
    district_id: int | None = None,
    actor: Actor | None = None,
) -> tuple[ApiToken, str]:
    """Create a bearer token for the central system; returns it and the secret (show once)."""
    name = name.strip()
    if not name or len(name) > 64:
        raise AccountError("令牌名称应为 1–64 个字符")
    if await session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise AccountError(f"令牌名称 {name} 已存在")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, token_hash=sha256_hex(secret), district_id=district_id)
    session.add(token)
    await session.flush()
    add_event(
        session,
        actor or Actor.system(),
        "api_token_created",
        details={"token_id": token.id, "name": name, "district_id": district_id},
    )
    return token, secret


async def verify_api_token(
    session: AsyncSession, secret: str, *, address: str | None = None
) -> ApiToken | None:
    """The live token matching ``secret``, or None; refreshes ``last_used_at`` now and then.

    With ``address`` (the client's), a token used from an address it was not used from before
    is audited (``api_token_new_address``): a leaked token shows up where it is used."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = await session.scalar(select(ApiToken).where(ApiToken.token_hash == sha256_hex(secret)))
    if token is None or token.revoked_at is not None:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        token.last_used_at = now
    known = [str(a) for a in token.known_addresses or []]
    if address is not None and address not in known:
        token.known_addresses = [*known, address][-MAX_TOKEN_ADDRESSES:]
        add_event(
            session,
            Actor("api", str(token.id), f"API 令牌 {token.name}"),
            "api_token_new_address",
            channel="api",
            details={"token_id": token.id, "name": token.name, "ip": address, "known": known},
        )
    await session.flush()
    return token


async def revoke_api_token(session: AsyncSession, name: str, *, actor: Actor) -> ApiToken:
    """Revoke the token of that name."""
    token = await session.scalar(select(ApiToken).where(ApiToken.name == name))
    if token is None:
        raise AccountError(f"没有名为 {name} 的令牌")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        await session.flush()
        add_event(session, actor, "api_token_revoked", details={"token_id": token.id})
    return token


async def list_api_tokens(session: AsyncSession) -> Sequence[ApiToken]:
    """Every token (hashes only)."""
    return (await session.scalars(select(ApiToken).order_by(ApiToken.name))).all()
