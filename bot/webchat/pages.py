"""Server-rendered HTML of the web chat: the page shell and its error pages."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bot.display import finalize
from bot.telegram.i18n import gettext, ngettext
from bot.webchat.keys import JINJA
from bot.webchat.language import locale_of, script_strings

PACKAGE_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PACKAGE_DIR / "templates" / "webchat"
STATIC_DIR = PACKAGE_DIR / "static" / "webchat"
STATIC_PREFIX = "/c/_static"


@lru_cache(maxsize=32)
def _fingerprint(name: str, mtime_ns: int) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    """The URL of a file of ``bot/static/webchat``, versioned so browsers never run stale code."""
    path = STATIC_DIR / name
    return f"{STATIC_PREFIX}/{name}?v={_fingerprint(name, path.stat().st_mtime_ns)}"


def make_environment() -> jinja2.Environment:
    """The templates of ``bot/templates/webchat``, HTML-escaped."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        finalize=finalize,
    )
    # The request's language (set by bot.webchat.language) decides what _() returns.
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["static_url"] = static_url
    return env


def render_page(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    """Render a template as a ``text/html`` response (the application's security headers,
    :mod:`bot.security.headers`, keep it from being framed or cached)."""
    locale = locale_of(request)
    html = (
        request.config_dict[JINJA]
        .get_template(template)
        .render(
            lang="en" if locale == "en" else "zh-CN",
            script_strings=script_strings(locale),
            **context,
        )
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
