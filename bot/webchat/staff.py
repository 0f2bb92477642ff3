"""Who may open the preview: a staff member signed in to the console.

The console keeps its sign-in in an encrypted cookie session (``bot.console.sessions``); the
preview reads that same cookie, so no second login is needed. A deployment without the console
can set its own guard as ``app[bot.webchat.PREVIEW_GUARD]``.
"""

from __future__ import annotations

import importlib
from typing import Any

from aiohttp import web

from bot.appkeys import SESSIONMAKER, SETTINGS
from storage.repositories.accounts import get_staff

_STORAGE = web.AppKey("webchat_console_cookie_storage", object)


def install(chat: web.Application, parent: web.Application) -> None:
    """Prepare reading the console's session cookie, when the console is installed."""
    try:
        sessions = importlib.import_module("bot.console.sessions")
    except ModuleNotFoundError as exc:
        if exc.name not in ("bot.console", "bot.console.sessions"):
            raise
        return
    chat[_STORAGE] = sessions.cookie_storage(parent[SETTINGS])


async def console_staff_signed_in(request: web.Request) -> bool:
    """Whether the request carries a live console session of an active staff member."""
    storage: Any = request.config_dict.get(_STORAGE)
    if storage is None:
        return False
    session = await storage.load_session(request)
    staff_id = session.get("staff_id")
    if not isinstance(staff_id, int) or isinstance(staff_id, bool):
        return False
    async with request.config_dict[SESSIONMAKER]() as db:
        staff = await get_staff(db, staff_id)
    return staff is not None and staff.active
