"""Who may open the preview: a staff member signed in to the console.

The console keeps its sign-in on the server, its token in an encrypted cookie
(``bot.console.sessions``); the preview reads that same cookie and checks the same sign-in, so
no second login is needed and a sign-out ends the preview too. A deployment without the console
can set its own guard as ``app[bot.webchat.PREVIEW_GUARD]``.
"""

from __future__ import annotations

import importlib
from typing import Any

from aiohttp import web

from bot.appkeys import SESSIONMAKER, SETTINGS

_STORAGE = web.AppKey("webchat_console_cookie_storage", object)
_SESSIONS = web.AppKey("webchat_console_sessions", object)


def install(chat: web.Application, parent: web.Application) -> None:
    """Prepare reading the console's session cookie, when the console is installed."""
    try:
        sessions = importlib.import_module("bot.console.sessions")
    except ModuleNotFoundError as exc:
        if exc.name not in ("bot.console", "bot.console.sessions"):
            raise
        return
    chat[_STORAGE] = sessions.cookie_storage(parent[SETTINGS])
    chat[_SESSIONS] = sessions


async def console_staff_signed_in(request: web.Request) -> bool:
    """Whether the request carries a live console session of an active staff member."""
    storage: Any = request.config_dict.get(_STORAGE)
    if storage is None:
        return False
    sessions: Any = request.config_dict[_SESSIONS]
    session = await storage.load_session(request)
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        staff = await sessions.signed_in_staff(db, session, request.config_dict[SETTINGS])
    return staff is not None and not staff.must_change_password
