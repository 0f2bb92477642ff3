"""Who is signed in: the auth middleware, login, logout and the password page.

A sign-in is a row in the store (:mod:`storage.repositories.staff_sessions`) whose token the
encrypted cookie carries; every request checks it. Failed sign-ins are limited in the store
per account, per account and address, and per address (:mod:`storage.repositories.login_limits`),
with the client's address as :mod:`bot.security.proxies` tells it.
"""

from __future__ import annotations

import math
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp_session import Session, get_session, new_session
from sqlalchemy.ext.asyncio import AsyncSession

from bot.appkeys import SESSIONMAKER, SETTINGS
from bot.console.flash import flash
from bot.console.keys import STAFF_KEY
from bot.console.sessions import SID, csrf_token, signed_in_staff
from bot.security.proxies import client_address
from bot.telegram.i18n import gettext as _
from storage.models import Staff
from storage.repositories import Actor
from storage.repositories import login_limits as limits
from storage.repositories.accounts import (
    password_matches,
    set_staff_password,
    verify_staff_password,
)
from storage.repositories.audit import add_event
from storage.repositories.errors import AccountError
from storage.repositories.staff_sessions import end_sessions, start_session

router = web.RouteTableDef()

# Paths (below the console's prefix) open without signing in.
PUBLIC_PATHS = ("/login", "/lang")
PUBLIC_PREFIXES = ("/static/",)
# What a staff member who must choose a new password may still open.
PASSWORD_PATHS = ("/password", "/logout")
LOGIN_ACTOR = Actor.system("控制台登录")


def current_staff(request: web.Request) -> Staff:
    """The signed-in staff member (the middleware guarantees one on every private view)."""
    if STAFF_KEY not in request:
        raise web.HTTPUnauthorized()
    return request[STAFF_KEY]


def _local_path(request: web.Request) -> str:
    prefix = request.app.router["console_login"].url_for().path.removesuffix("/login")
    return request.path.removeprefix(prefix) or "/"


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Load the staff member of a live sign-in, or send the browser to the login page; one who
    must change the password first is sent to the password page."""
    local = _local_path(request)
    if local in PUBLIC_PATHS or local.startswith(PUBLIC_PREFIXES):
        return await handler(request)
    session = await get_session(request)
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        staff = await signed_in_staff(db, session, request.config_dict[SETTINGS])
    if staff is None:
        session.invalidate()
        login = request.app.router["console_login"].url_for()
        if request.method == "GET":
            login = login.with_query(next=request.path_qs)
        raise web.HTTPSeeOther(login)
    request[STAFF_KEY] = staff
    if staff.must_change_password and local not in PASSWORD_PATHS:
        raise web.HTTPSeeOther(request.app.router["console_password"].url_for())
    return await handler(request)


def _safe_next(request: web.Request, value: Any) -> str:
    home = str(request.app.router["console_queue"].url_for())
    prefix = home.rsplit("/", 1)[0] + "/"
    # Only paths inside the console: never an absolute URL or "//host" (open redirect).
    if isinstance(value, str) and value.startswith(prefix) and not value.startswith("//"):
        return value
    return home


def _throttled(exc: limits.Throttled) -> tuple[str, str]:
    minutes = max(1, math.ceil(exc.retry_after / 60))
    message = _("登录失败次数过多，请 {n} 分钟后再试。").format(n=minutes)
    return message, str(math.ceil(exc.retry_after))


async def _take_try(
    request: web.Request, username: str, address: str
) -> limits.Taken | limits.Throttled:
    """A try for this sign-in, taken before the password is checked, or the refusal."""
    try:
        async with request.config_dict[SESSIONMAKER]() as db, db.begin():
            return await limits.take_try(db, username, address)
    except limits.Throttled as exc:
        return exc


def _audit_failure(
    db: AsyncSession, username: str, address: str, taken: limits.Taken, action: str
) -> None:
    add_event(
        db,
        LOGIN_ACTOR,
        action,
        channel="console",
        details={"username": username, "ip": address},
    )
    if taken.locking:
        add_event(
            db,
            LOGIN_ACTOR,
            "login_locked",
            channel="console",
            details={"username": username, "ip": address, "keys": taken.locking},
        )


async def _sign_in(request: web.Request, db: AsyncSession, staff: Staff, address: str) -> Session:
    """A new server-side sign-in in a fresh cookie session (a session planted before login
    is worthless)."""
    token = await start_session(db, staff, address=address)
    fresh = await new_session(request)
    fresh[SID] = token
    csrf_token(fresh)
    return fresh


@router.get("/login", name="console_login")
async def login_page(request: web.Request) -> web.Response:
    """The sign-in form."""
    session = await get_session(request)
    context = {"csrf": csrf_token(session), "next": request.query.get("next", ""), "error": None}
    return aiohttp_jinja2.render_template("console/login.html", request, context)


@router.post("/login")
async def login(request: web.Request) -> web.Response:
    """Check the password (argon2, in the store) within the shared login limits → 429."""
    form = await request.post()
    username = str(form.get("username", "")).strip()[:64]
    password = str(form.get("password", ""))
    address = client_address(request)
    session = await get_session(request)

    def page(error: str, status: int) -> web.Response:
        context = {
            "csrf": csrf_token(session),
            "next": form.get("next", ""),
            "error": error,
            "username": username,
        }
        return aiohttp_jinja2.render_template("console/login.html", request, context, status=status)

    if not username or not password:
        return page(_("请输入用户名和密码。"), 400)
    taken = await _take_try(request, username, address)
    if isinstance(taken, limits.Throttled):
        message, retry_after = _throttled(taken)
        response = page(message, 429)
        response.headers["Retry-After"] = retry_after
        return response
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        staff = await verify_staff_password(db, username, password)
        if staff is None:
            _audit_failure(db, username, address, taken, "login_failed")
        else:
            await limits.give_back(db, username, address)
            add_event(db, Actor.staff(staff), "login", channel="console", details={"ip": address})
            await _sign_in(request, db, staff, address)
    if staff is None:
        return page(_("用户名或密码不正确。"), 401)
    if staff.must_change_password:
        raise web.HTTPSeeOther(request.app.router["console_password"].url_for())
    raise web.HTTPSeeOther(_safe_next(request, form.get("next")))


@router.post("/logout", name="console_logout")
async def logout(request: web.Request) -> web.Response:
    """Sign out: every sign-in of this account ends at once, on every device."""
    staff = current_staff(request)
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        ended = await end_sessions(db, staff.id, reason="logout")
        add_event(
            db,
            Actor.staff(staff),
            "logout_all",
            channel="console",
            details={"sessions": ended, "ip": client_address(request)},
        )
    session = await get_session(request)
    session.invalidate()
    raise web.HTTPSeeOther(request.app.router["console_login"].url_for())


def _password_page(
    request: web.Request, session: Session, staff: Staff, error: str | None, status: int = 200
) -> web.Response:
    context = {
        "staff": staff,
        "csrf": csrf_token(session),
        "error": error,
        "forced": staff.must_change_password,
        "flashes": [],
    }
    return aiohttp_jinja2.render_template("console/password.html", request, context, status=status)


@router.get("/password", name="console_password")
async def password_page(request: web.Request) -> web.Response:
    """The form to choose a new password (required first when the password was set by
    someone else)."""
    return _password_page(request, await get_session(request), current_staff(request), None)


@router.post("/password")
async def change_password(request: web.Request) -> web.Response:
    """Change the password: the current one is checked within the login limits; every other
    sign-in of the account ends, this browser gets a fresh one."""
    staff = current_staff(request)
    form = await request.post()
    current = str(form.get("current", ""))
    new = str(form.get("new", ""))
    session = await get_session(request)
    address = client_address(request)
    if new != str(form.get("repeat", "")):
        return _password_page(request, session, staff, _("两次输入的新密码不一致。"), 400)
    taken = await _take_try(request, staff.username, address)
    if isinstance(taken, limits.Throttled):
        message, retry_after = _throttled(taken)
        response = _password_page(request, session, staff, message, 429)
        response.headers["Retry-After"] = retry_after
        return response
    error: tuple[str, int] | None = None
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        row = await db.get(Staff, staff.id)
        assert row is not None
        if not password_matches(row, current):
            _audit_failure(db, staff.username, address, taken, "password_change_failed")
            error = (_("当前密码不正确。"), 401)
        else:
            await limits.give_back(db, staff.username, address)
            try:
                await set_staff_password(db, row, new, actor=Actor.staff(row))
            except AccountError as exc:
                error = (str(exc), 400)
            else:
                fresh = await _sign_in(request, db, row, address)
                flash(fresh, _("密码已修改。其他设备上的登录已全部退出。"))
    if error is not None:
        return _password_page(request, session, staff, *error)
    raise web.HTTPSeeOther(request.app.router["console_queue"].url_for())
