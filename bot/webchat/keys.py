"""Typed keys of the web chat's sub-application."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import jinja2
from aiohttp import web

from bot.webchat.signing import Signer

# Signs the cookie tying a browser to a verified invite.
COOKIE_SIGNER = web.AppKey("webchat_cookie_signer", Signer)
# Signs the preview's conversation state, which the browser holds (nothing is stored).
PREVIEW_SIGNER = web.AppKey("webchat_preview_signer", Signer)
JINJA = web.AppKey("webchat_jinja", jinja2.Environment)

PreviewGuard = Callable[[web.Request], Awaitable[bool] | bool]
# Set on the main application by the staff console: says whether a request comes from a
# logged-in staff member, who may open the preview.
PREVIEW_GUARD: web.AppKey[PreviewGuard] = web.AppKey("webchat_preview_guard")
