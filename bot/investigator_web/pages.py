"""Server-rendered HTML of the investigators' app: the app shell, the sign-in page, messages.

The shell (``/i/``) is the same for every investigator and carries no personal data (the
script fetches everything), so the service worker may keep it for opening offline.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bot.display import finalize
from bot.investigator_web.keys import JINJA
from bot.telegram.i18n import gettext, ngettext
from bot.webchat.language import locale_of

PACKAGE_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PACKAGE_DIR / "templates" / "investigator"
STATIC_DIR = PACKAGE_DIR / "static" / "investigator"
STATIC_PREFIX = "/i/_static"


@lru_cache(maxsize=32)
def _fingerprint(name: str, mtime_ns: int) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    """The versioned URL of a file of ``bot/static/investigator``."""
    path = STATIC_DIR / name
    return f"{STATIC_PREFIX}/{name}?v={_fingerprint(name, path.stat().st_mtime_ns)}"


def make_environment() -> jinja2.Environment:
    """The templates of ``bot/templates/investigator``, HTML-escaped."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        finalize=finalize,
    )
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["static_url"] = static_url
    return env


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
