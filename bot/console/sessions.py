"""The console's sign-in: an encrypted cookie holding a server-side session's token, the
cookie's attributes, and the CSRF token.

The cookie (aiohttp-session, Fernet) carries the CSRF token, flash messages and ``sid``: the
token of a :class:`~storage.models.StaffSession` row, checked on every request
(:func:`signed_in_staff`), so logout, a password change, disabling the account and the idle and
absolute timeouts end a sign-in at once on every worker, whatever copies of the cookie exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp_session import Session, get_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from sqlalchemy.ext.asyncio import AsyncSession

from bot.params import form_of
from bot.settings import Settings
from storage.models import Staff
from storage.repositories.staff_sessions import Timeouts, resume_session

COOKIE_NAME = "canbao_console"
KEY_FILE = "console_session.key"
CSRF_FIELD = "_csrf"
# The cookie's key for the server-side session's token.
SID = "sid"


def session_key(settings: Settings) -> bytes:
    """32 bytes for Fernet: from ``session_secret``, else a key generated once in ``data_dir``.

    The generated key is kept (mode 0600) so a restart does not sign everybody out.
    """
    if settings.session_secret is not None and settings.session_secret.get_secret_value():
        return hashlib.sha256(settings.session_secret.get_secret_value().encode()).digest()
    path = Path(settings.data_dir) / KEY_FILE
    if path.exists():
        key = path.read_bytes()
        if len(key) == 32:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


class ConsoleCookieStorage(EncryptedCookieStorage):
    """The encrypted cookie, ``Secure`` whenever the browser reached us over https: directly,
    or through a trusted TLS-terminating proxy (``request.secure``, see
    :mod:`bot.security.proxies`), or when ``public_url`` is https."""

    def __init__(self, settings: Settings) -> None:
        self.always_secure = settings.public_url.lower().startswith("https://")
        super().__init__(
            session_key(settings),
            cookie_name=COOKIE_NAME,
            max_age=int(session_timeouts(settings).absolute.total_seconds()),
            httponly=True,
            samesite="Lax",
            secure=self.always_secure,
            path="/",
        )

    async def save_session(
        self, request: web.Request, response: web.StreamResponse, session: Session
    ) -> None:
        await super().save_session(request, response, session)
        if request.secure and self.cookie_name in response.cookies:
            response.cookies[self.cookie_name]["secure"] = True


def cookie_storage(settings: Settings) -> ConsoleCookieStorage:
    """HttpOnly, SameSite=Lax, Secure over https, as long as a sign-in may last."""
    return ConsoleCookieStorage(settings)


def session_timeouts(settings: Settings) -> Timeouts:
    """The idle and absolute limits of a sign-in (``CANBAO_CONSOLE_IDLE_MINUTES``,
    ``CANBAO_CONSOLE_SESSION_HOURS``)."""
    return Timeouts(
        idle=dt.timedelta(minutes=settings.console_idle_minutes),
        absolute=dt.timedelta(hours=settings.console_session_hours),
    )


async def signed_in_staff(db: AsyncSession, session: Session, settings: Settings) -> Staff | None:
    """The active staff member whose live sign-in this cookie session carries, or None (the
    caller commits: a timed-out sign-in is ended, ``last_seen_at`` moves on)."""
    return await resume_session(db, session.get(SID), session_timeouts(settings))


def csrf_token(session: Session) -> str:
    """The session's CSRF token, made on first use."""
    token = session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_valid(session: Session, sent: object) -> bool:
    """Whether ``sent`` is the session's token (compared in constant time)."""
    expected = session.get("csrf")
    if not isinstance(expected, str) or not isinstance(sent, str) or not expected:
        return False
    return hmac.compare_digest(expected.encode(), sent.encode())


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse (403) any POST whose form does not carry the session's CSRF token."""
    if request.method == "POST":
        session = await get_session(request)
        form = await form_of(request)  # the first to read it: a body that is not a form is a 400
        if not csrf_valid(session, form.get(CSRF_FIELD)):
            raise web.HTTPForbidden(reason="CSRF token missing or wrong")
    return await handler(request)
