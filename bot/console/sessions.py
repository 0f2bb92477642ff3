"""Encrypted cookie sessions: the key, the cookie's attributes, and the CSRF token."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp_session import Session, get_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from bot.params import form_of
from bot.settings import Settings

COOKIE_NAME = "canbao_console"
SESSION_MAX_AGE = 8 * 3600
KEY_FILE = "console_session.key"
CSRF_FIELD = "_csrf"


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


def cookie_storage(settings: Settings) -> EncryptedCookieStorage:
    """HttpOnly, SameSite=Lax, Secure when the console is served over https, 8 hours."""
    return EncryptedCookieStorage(
        session_key(settings),
        cookie_name=COOKIE_NAME,
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.public_url.startswith("https://"),
        path="/",
    )


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
