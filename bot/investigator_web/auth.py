"""Signing in an investigator's browser: the one-time link, the device cookie, the session.

``GET /i/login/<token>`` shows a page with one button (a link preview in an SMS app that
fetches the URL uses nothing up); pressing it posts the token. Tries are counted before the
token is looked up, on the console's shared login limits (:mod:`storage.repositories.
login_limits`), per client address (``CANBAO_TRUSTED_PROXIES`` decides what that is). A right
link gives its try back, is used up, and starts a server-side session bound to the browser's
device cookie; its token is the session cookie. A used link signs in nobody again (tapped
once more on the phone it signed in, that phone simply goes on).
"""

from __future__ import annotations

import datetime as dt
import math

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.appkeys import SESSIONMAKER, SETTINGS
from bot.display import json_response
from bot.investigator_web.keys import INVESTIGATOR_ID
from bot.investigator_web.pages import render
from bot.security.proxies import client_address
from bot.settings import Settings
from bot.telegram.i18n import N_
from bot.telegram.i18n import gettext as _
from storage.repositories import investigator_web as iw
from storage.repositories import login_limits as limits
from storage.repositories.staff_sessions import Timeouts

PREFIX = "/i"
SESSION_COOKIE = "canbao_investigator"
DEVICE_COOKIE = "canbao_device"
# A device cookie lives long: it is what a used sign-in link is bound to.
DEVICE_MAX_AGE = 400 * 24 * 3600
# The "account" of the login limits: per address, so one address guessing links locks only
# itself (staff usernames cannot contain "@").
LIMIT_ACCOUNT = "@investigator-link"

SIGN_IN_HINT = N_("请用工作人员发给您的登录链接打开本页面（链接只能在一台手机上使用）。")


def timeouts(settings: Settings) -> Timeouts:
    """The idle and absolute limits of an investigator's sign-in."""
    return Timeouts(
        idle=dt.timedelta(minutes=settings.investigator_idle_minutes),
        absolute=dt.timedelta(hours=settings.investigator_session_hours),
    )


def _set_cookie(
    request: web.Request, response: web.StreamResponse, name: str, value: str, **extra: object
) -> None:
    response.set_cookie(
        name,
        value,
        path=PREFIX,
        httponly=True,
        secure=request.secure,
        **extra,  # type: ignore[arg-type]
    )


def device_of(request: web.Request) -> str | None:
    """The browser's device id (its cookie), when it has a well-formed one."""
    value = request.cookies.get(DEVICE_COOKIE)
    return value if iw.is_token_shaped(value) else None


def _same_origin_form(request: web.Request) -> bool:
    """Whether the sign-in form was posted from this server's page. Browsers that say where a
    request comes from (``Sec-Fetch-Site``) decide; otherwise the ``Origin``, which the page's
    ``Referrer-Policy: no-referrer`` may turn into ``null``, must be this server's or absent."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    public = request.config_dict[SETTINGS].public_url.rstrip("/")
    return origin in (f"{request.scheme}://{request.host}", public)


async def link_page(request: web.Request) -> web.StreamResponse:
    """The page behind a sign-in link: one button that signs in (nothing is used up here)."""
    token = request.match_info["token"]
    if not iw.is_token_shaped(token):
        return render(
            request, "message.html", {"message": _("登录链接无效。") + _(SIGN_IN_HINT)}, 404
        )
    response = render(request, "signin.html", {"token": token})
    if device_of(request) is None:
        _set_cookie(
            request, response, DEVICE_COOKIE, iw.new_token(), max_age=DEVICE_MAX_AGE, samesite="Lax"
        )
    return response


async def sign_in(request: web.Request) -> web.StreamResponse:
    """Use a sign-in link (the form of :func:`link_page`)."""
    if not _same_origin_form(request):
        return render(
            request, "message.html", {"message": _("请求来源无法确认，请重新打开登录链接。")}, 403
        )
    form = await request.post()
    token = form.get("token")
    token = token if isinstance(token, str) else ""
    address = client_address(request)
    device = device_of(request)
    new_device = device is None
    if device is None:
        device = iw.new_token()
    account = f"{LIMIT_ACCOUNT}:{address}"
    try:
        async with request.config_dict[SESSIONMAKER]() as db, db.begin():
            await limits.take_try(db, account, address)
    except limits.Throttled as exc:
        minutes = max(1, math.ceil(exc.retry_after / 60))
        response = render(
            request,
            "message.html",
            {"message": _("登录失败次数过多，请 {n} 分钟后再试。").format(n=minutes)},
            429,
        )
        response.headers["Retry-After"] = str(math.ceil(exc.retry_after))
        return response
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        result = await iw.use_link(db, token, device)
        if result.outcome == iw.LinkOutcome.used and result.investigator is not None:
            # Tapped again on the phone it signed in: that phone's live sign-in goes on.
            live = await iw.resume_session(
                db,
                request.cookies.get(SESSION_COOKIE),
                device,
                timeouts(request.config_dict[SETTINGS]),
            )
            if live is not None and live.id == result.investigator.id:
                await limits.give_back(db, account, address)
                return web.Response(status=303, headers={"Location": f"{PREFIX}/"})
        if result.outcome != iw.LinkOutcome.signed_in or result.investigator is None:
            messages = {
                iw.LinkOutcome.unknown: (_("登录链接无效。"), 403),
                iw.LinkOutcome.expired: (_("登录链接已过期，请联系工作人员重新发送。"), 410),
                iw.LinkOutcome.used: (
                    _("这个登录链接已经使用过，不能再次登录。请联系工作人员重新发送。"),
                    403,
                ),
                iw.LinkOutcome.revoked: (_("此调查员账号已停用。"), 403),
            }
            text, status = messages[result.outcome]
            return render(request, "message.html", {"message": text}, status)
        await limits.give_back(db, account, address)
        session_token = await iw.start_session(db, result.investigator, device, address=address)
    response = web.Response(status=303, headers={"Location": f"{PREFIX}/"})
    _set_cookie(request, response, SESSION_COOKIE, session_token, samesite="Strict")
    if new_device:
        _set_cookie(
            request, response, DEVICE_COOKIE, device, max_age=DEVICE_MAX_AGE, samesite="Lax"
        )
    return response


async def sign_out(request: web.Request) -> web.StreamResponse:
    """End this browser's sign-in."""
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        await iw.end_session(db, request.cookies.get(SESSION_COOKIE))
    response = web.Response(status=303, headers={"Location": f"{PREFIX}/"})
    response.del_cookie(SESSION_COOKIE, path=PREFIX)
    return response


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Resolve the signed-in investigator of an API request (401 JSON without one)."""
    if "/api/" not in request.path:
        return await handler(request)
    settings = request.config_dict[SETTINGS]
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        investigator = await iw.resume_session(
            db,
            request.cookies.get(SESSION_COOKIE),
            request.cookies.get(DEVICE_COOKIE),
            timeouts(settings),
        )
    if investigator is None:
        return json_response(
            {"error": _("登录已失效。") + _(SIGN_IN_HINT), "signed_out": True}, status=401
        )
    request[INVESTIGATOR_ID] = investigator.id
    return await handler(request)
