"""Server-rendered HTML of the investigators' app: the app shell, the sign-in page, messages.

The shell (``/i/``) is the same for every investigator and carries no personal data (the
script fetches everything), so the service worker may keep it for opening offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bot.investigator_web.keys import JINJA
from bot.webchat.language import locale_of
from bot.webchat.pages import page_environment, versioned_urls

PACKAGE_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PACKAGE_DIR / "templates" / "investigator"
STATIC_DIR = PACKAGE_DIR / "static" / "investigator"
STATIC_PREFIX = "/i/_static"


static_url = versioned_urls(STATIC_DIR, STATIC_PREFIX)
"""The versioned URL of a file of ``bot/static/investigator``."""


def make_environment() -> jinja2.Environment:
    """The templates of ``bot/templates/investigator`` (built like the web chat's)."""
    return page_environment(TEMPLATES_DIR, static_url)


def render(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    """A template as a ``text/html`` answer."""
    locale = locale_of(request)
    html = (
        request.config_dict[JINJA]
        .get_template(template)
        .render(lang="en" if locale == "en" else "zh-CN", **context)
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
