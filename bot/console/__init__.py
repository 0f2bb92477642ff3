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
from aiohttp_jinja2.helpers import GLOBAL_HELPERS

from bot.console import i18n, present
from bot.console.auth import auth_middleware
from bot.console.auth import router as auth_router
from bot.console.errors import error_middleware
from bot.console.sessions import CSRF_FIELD, cookie_storage, csrf_middleware
from bot.console.views.badges import router as badges_router
from bot.console.views.evaluation import router as evaluation_router
from bot.console.views.exports import router as exports_router
from bot.console.views.invites import router as invites_router
from bot.console.views.notes import router as notes_router
from bot.console.views.persons import router as persons_router
from bot.console.views.printing import router as printing_router
from bot.console.views.progress import router as progress_router
from bot.console.views.queue import router as queue_router
from bot.console.views.record import router as record_router
from bot.console.views.summary import router as summary_router
from bot.display import finalize
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
    console.middlewares.extend(
        [i18n.language_middleware, error_middleware, csrf_middleware, auth_middleware]
    )
    # Chinese templates, compiled once more with their text in English for staff who pick it.
    env = i18n.ConsoleEnvironment(
        loader=i18n.loader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        extensions=[i18n.TemplateText],
        # Any string the database holds renders (a lone surrogate would fail the encoding).
        finalize=finalize,
    )
    env.globals.update(GLOBAL_HELPERS)
    env.globals["app"] = console
    console[aiohttp_jinja2.APP_KEY] = env
    # Templates see the request (the language switch returns to the page it was on).
    console[aiohttp_jinja2.APP_CONTEXT_PROCESSORS_KEY] = (aiohttp_jinja2.request_processor,)
    console.middlewares.append(aiohttp_jinja2.context_processors_middleware)
    filters: dict[str, Any] = {
        "mask_id": mask_id,
        "mask_phone": mask_phone,
        "china_time": present.china_time,
        "percent": _percent,
        "t": i18n.t,
    }
    env.filters.update(filters)
    env.globals["csrf_field"] = CSRF_FIELD
    env.globals["reference"] = reference
    env.globals["current_locale"] = i18n.current_locale
    language = web.RouteTableDef()
    i18n.make_switch(language)
    routers = (
        auth_router,
        queue_router,
        record_router,
        progress_router,
        persons_router,
        exports_router,
        invites_router,
        printing_router,
        badges_router,
        summary_router,
        evaluation_router,
        notes_router,
        language,
    )
    for router in routers:
        console.router.add_routes(router)
    console.router.add_static("/static/", STATIC, name="console_static")
    return console


def setup(app: web.Application) -> None:
    """Mount the console at ``/console/`` (called by :func:`bot.server.create_app`)."""
    console = create_console(app)
    app[CONSOLE_APP] = console
    app.add_subapp(PREFIX, console)
    # The server's address alone (as the demo prints it) leads to the console's sign-in.
    app.router.add_get("/", _to_console, name="root")


async def _to_console(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(f"{PREFIX}/")
