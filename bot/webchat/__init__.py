"""The web chat: the same conversation as the Telegram bot, in a browser.

``GET /c/<invite code>`` is a mobile-friendly chat page; its script drives the form engine
through a JSON API under ``/c/<code>/api/``. ``GET /c/preview`` lets logged-in staff try the form
without creating records. Everything (script, styles) is served by this application.

The preview is open to staff signed in to the console (its session cookie is read); another
deployment may set its own guard on the main application::

    app[bot.webchat.PREVIEW_GUARD] = is_logged_in_staff   # (request) -> bool | Awaitable[bool]
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.appkeys import SETTINGS
from bot.telegram.i18n import gettext as _
from bot.webchat import preview, resident, staff
from bot.webchat.errors import ApiError
from bot.webchat.keys import COOKIE_SIGNER, JINJA, PREVIEW_GUARD, PREVIEW_SIGNER
from bot.webchat.language import language_middleware
from bot.webchat.pages import STATIC_DIR, make_environment, render_page
from bot.webchat.preview import preview_allowed
from bot.webchat.signing import Signer, secret_key

__all__ = ["PREVIEW_GUARD", "create_chat_app", "preview_allowed", "setup"]

logger = logging.getLogger(__name__)
PREFIX = "/c"


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """API refusals become their JSON answer; anything unexpected a short Chinese message."""
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except web.HTTPException:
        raise
    except Exception:
        # The cause goes to the log (masked by the privacy filter), never to the person.
        logger.exception("web chat request failed: %s %s", request.method, request.path)
        message = _("服务器暂时出了问题，您填写的内容已保存到上一步。请稍后刷新页面再试。")
        if "/api/" in request.path:
            return web.json_response({"error": message}, status=500)
        return render_page(request, "not_found.html", {"message": message}, status=500)


def create_chat_app(parent: web.Application) -> web.Application:
    """The ``/c`` sub-application (signing keys from the main application's settings)."""
    settings = parent[SETTINGS]
    key = secret_key(settings)
    chat = web.Application(middlewares=[language_middleware, _errors])
    chat[COOKIE_SIGNER] = Signer(key, "webchat-cookie")
    chat[PREVIEW_SIGNER] = Signer(key, "webchat-preview")
    chat[JINJA] = make_environment()
    staff.install(chat, parent)
    router = chat.router
    router.add_static("/_static", STATIC_DIR, name="webchat-static")
    router.add_get("/preview", preview.page)
    router.add_post("/preview/api/state", preview.start)
    router.add_post("/preview/api/{action}", preview.action)
    router.add_get("/{code}", resident.page)
    router.add_get("/{code}/api/state", resident.state)
    router.add_post("/{code}/api/identity", resident.identity)
    router.add_post("/{code}/api/{action}", resident.action)
    return chat


def setup(app: web.Application) -> None:
    """Mount the web chat at ``/c`` on the main application (see :mod:`bot.server`)."""
    app.add_subapp(PREFIX, create_chat_app(app))
