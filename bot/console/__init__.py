"""The staff console: review, progress and exports, served at ``/console/``.

``setup(app)`` mounts a sub-application with its own middlewares (encrypted cookie carrying a
server-side sign-in, error pages, CSRF, sign-in check) so the rest of the server (Telegram
webhook, API) is untouched.
Every page and export is scoped on the server to the staff member's district.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp_jinja2
import aiohttp_session
import jinja2
from aiohttp import web

from bot.console import present
from bot.console.auth import auth_middleware
from bot.console.auth import router as auth_router
from bot.console.errors import error_middleware
from bot.console.sessions import CSRF_FIELD, cookie_storage, csrf_middleware
from bot.console.views.exports import router as exports_router
from bot.console.views.invites import router as invites_router
from bot.console.views.progress import router as progress_router
from bot.console.views.queue import router as queue_router
from bot.console.views.record import router as record_router
from bot.privacy import mask_id, mask_phone
from bot.reference import reference

PREFIX = "/console"
PACKAGE_DIR = Path(__file__).resolve().parent.parent
TEMPLATES = PACKAGE_DIR / "templates"
STATIC = PACKAGE_DIR / "static" / "console"
CONSOLE_APP = web.AppKey("console_app", web.Application)


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def create_console(app: web.Application) -> web.Application:
    """The console sub-application (settings and database come from ``app``)."""
    from bot.appkeys import SETTINGS

    console = web.Application()
    aiohttp_session.setup(console, cookie_storage(app[SETTINGS]))
    console.middlewares.extend([error_middleware, csrf_middleware, auth_middleware])
    env = aiohttp_jinja2.setup(
        console,
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    filters: dict[str, Any] = {
        "mask_id": mask_id,
        "mask_phone": mask_phone,
        "china_time": present.china_time,
        "percent": _percent,
    }
    env.filters.update(filters)
    env.globals["csrf_field"] = CSRF_FIELD
    env.globals["reference"] = reference
    for router in (
        auth_router,
        queue_router,
        record_router,
        progress_router,
        exports_router,
        invites_router,
    ):
        console.router.add_routes(router)
    console.router.add_static("/static/", STATIC, name="console_static")
    return console


def setup(app: web.Application) -> None:
    """Mount the console at ``/console/`` (called by :func:`bot.server.create_app`)."""
    console = create_console(app)
    app[CONSOLE_APP] = console
    app.add_subapp(PREFIX, console)
