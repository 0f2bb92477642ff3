"""Investigators in a phone browser (``/i/``): the Telegram investigator mode on the same engine.

``/i/`` is an installable app shell (web app manifest, a service worker that keeps only the
static files and the shell, never a screen of data); its script reads the screens from
``/i/api/`` and sends every change as one action with an id of its own (:mod:`.api`), queued
in the browser while the phone is offline. Sign-in is by a one-time link (:mod:`.auth`).
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.display import json_response
from bot.investigator_web import api, auth
from bot.investigator_web.keys import JINJA
from bot.investigator_web.pages import STATIC_DIR, make_environment, render, static_url
from bot.streaming import response_started
from bot.telegram.i18n import gettext as _
from bot.webchat.errors import ApiError
from bot.webchat.language import language_middleware

__all__ = ["create_app", "setup"]

logger = logging.getLogger(__name__)
PREFIX = auth.PREFIX


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """API refusals as JSON; anything unexpected a short Chinese message, never a trace."""
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except web.HTTPException as exc:
        if exc.status < 400 or "/api/" not in request.path or response_started(request):
            raise
        message = (
            exc.text if exc.status == 400 and exc.text else _("没有这个操作，请刷新页面后重试。")
        )
        response = json_response({"error": message}, status=exc.status)
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except Exception:
        logger.exception("investigator app request failed: %s %s", request.method, request.path)
        if response_started(request):
            raise
        message = _("服务器暂时出了问题，请稍后再试。已保存的内容不会丢失。")
        if "/api/" in request.path:
            return json_response({"error": message}, status=500)
        return render(request, "message.html", {"message": message}, 500)


async def shell(request: web.Request) -> web.StreamResponse:
    """The app shell: the same page for everyone (the script asks who is signed in)."""
    return render(request, "app.html", {"strings": {}})


async def manifest(request: web.Request) -> web.StreamResponse:
    """The web app manifest: opens ``/i/`` from the home screen, standalone."""
    body = {
        "name": _("入户采集"),
        "short_name": _("入户采集"),
        "start_url": f"{PREFIX}/",
        "scope": f"{PREFIX}/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1f6f50",
        "lang": "zh-CN",
        "icons": [
            {"src": static_url("icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return web.json_response(body, content_type="application/manifest+json")


async def service_worker(request: web.Request) -> web.StreamResponse:
    """The service worker, from ``/i/`` so that its scope is the app (never cached itself)."""
    response = web.FileResponse(STATIC_DIR / "sw.js")
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Service-Worker-Allowed"] = f"{PREFIX}/"
    return response


def create_app() -> web.Application:
    """The ``/i`` sub-application."""
    app = web.Application(middlewares=[language_middleware, _errors, auth.session_middleware])
    app[JINJA] = make_environment()
    router = app.router
    router.add_static("/_static", STATIC_DIR, name="investigator-static")
    router.add_get("/", shell)
    router.add_get("/manifest.webmanifest", manifest)
    router.add_get("/sw.js", service_worker)
    router.add_get("/login/{token}", auth.link_page)
    router.add_post("/login", auth.sign_in)
    router.add_post("/logout", auth.sign_out)
    router.add_get("/api/me", api.me)
    router.add_get("/api/households", api.households)
    router.add_get("/api/households/{id}", api.household)
    router.add_get("/api/persons/{id}", api.person)
    router.add_get("/api/records/{id}", api.record)
    router.add_post("/api/act", api.act)
    return app


def setup(app: web.Application) -> None:
    """Mount the investigators' app at ``/i`` on the main application (see :mod:`bot.server`)."""
    app.add_subapp(PREFIX, create_app())
