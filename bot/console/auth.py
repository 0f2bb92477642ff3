"""Who is signed in: the auth middleware, login and logout."""

from __future__ import annotations

import math
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp_session import get_session, new_session

from bot.appkeys import SESSIONMAKER
from bot.console.keys import LIMITER, STAFF_KEY
from bot.console.sessions import csrf_token
from bot.telegram.i18n import gettext as _
from storage.models import Staff
from storage.repositories import Actor
from storage.repositories.accounts import get_staff, verify_staff_password
from storage.repositories.audit import add_event

router = web.RouteTableDef()

# Paths (below the console's prefix) open without signing in.
PUBLIC_PATHS = ("/login", "/lang")
PUBLIC_PREFIXES = ("/static/",)


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
    """Load the signed-in staff member, or send the browser to the login page."""
    local = _local_path(request)
    if local in PUBLIC_PATHS or local.startswith(PUBLIC_PREFIXES):
        return await handler(request)
    session = await get_session(request)
    staff_id = session.get("staff_id")
    staff = None
    if isinstance(staff_id, int):
        async with request.config_dict[SESSIONMAKER]() as db:
            staff = await get_staff(db, staff_id)
    if staff is None or not staff.active:
        session.invalidate()
        login = request.app.router["console_login"].url_for()
        if request.method == "GET":
            login = login.with_query(next=request.path_qs)
        raise web.HTTPSeeOther(login)
    request[STAFF_KEY] = staff
    return await handler(request)


def _safe_next(request: web.Request, value: Any) -> str:
    home = str(request.app.router["console_queue"].url_for())
    prefix = home.rsplit("/", 1)[0] + "/"
    # Only paths inside the console: never an absolute URL or "//host" (open redirect).
    if isinstance(value, str) and value.startswith(prefix) and not value.startswith("//"):
        return value
    return home


@router.get("/login", name="console_login")
async def login_page(request: web.Request) -> web.Response:
    """The sign-in form."""
    session = await get_session(request)
    context = {"csrf": csrf_token(session), "next": request.query.get("next", ""), "error": None}
    return aiohttp_jinja2.render_template("console/login.html", request, context)


@router.post("/login")
async def login(request: web.Request) -> web.Response:
    """Check the password (argon2, in the store); 5 failures in 15 minutes → 429."""
    form = await request.post()
    username = str(form.get("username", "")).strip()[:64]
    password = str(form.get("password", ""))
    address = request.remote or "?"
    limiter = request.app[LIMITER]
    session = await get_session(request)

    def page(error: str, status: int) -> web.Response:
        context = {
            "csrf": csrf_token(session),
            "next": form.get("next", ""),
            "error": error,
            "username": username,
        }
        return aiohttp_jinja2.render_template("console/login.html", request, context, status=status)

    wait = limiter.retry_after(username, address)
    if wait is not None:
        minutes = max(1, math.ceil(wait / 60))
        response = page(_("登录失败次数过多，请 {n} 分钟后再试。").format(n=minutes), 429)
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        staff = await verify_staff_password(db, username, password) if username else None
        if staff is None:
            add_event(
                db,
                Actor.system("控制台登录"),
                "login_failed",
                channel="console",
                details={"username": username, "ip": address},
            )
        else:
            add_event(db, Actor.staff(staff), "login", channel="console", details={"ip": address})
    if staff is None:
        limiter.failed(username, address)
        return page(_("用户名或密码不正确。"), 401)
    limiter.succeeded(username, address)
    # A fresh session on sign-in, so a session id planted before login is worthless.
    fresh = await new_session(request)
    fresh["staff_id"] = staff.id
    csrf_token(fresh)
    raise web.HTTPSeeOther(_safe_next(request, form.get("next")))


@router.post("/logout", name="console_logout")
async def logout(request: web.Request) -> web.Response:
    """Sign out and forget the session."""
    staff = current_staff(request)
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        add_event(db, Actor.staff(staff), "logout", channel="console")
    session = await get_session(request)
    session.invalidate()
    raise web.HTTPSeeOther(request.app.router["console_login"].url_for())
