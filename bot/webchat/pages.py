"""Server-rendered HTML of the web chat: the page shell and its error pages."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
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


@lru_cache(maxsize=64)
def _fingerprint(path: Path, mtime_ns: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def versioned_urls(static_dir: Path, prefix: str) -> Callable[[str], str]:
    """``static_url(name)`` for the files of ``static_dir`` served under ``prefix``,
    versioned by content so browsers never run stale code (the web chat's and the
    investigator app's)."""

    def static_url(name: str) -> str:
        path = static_dir / name
        return f"{prefix}/{name}?v={_fingerprint(path, path.stat().st_mtime_ns)}"

    return static_url


static_url = versioned_urls(STATIC_DIR, STATIC_PREFIX)
"""The URL of a file of ``bot/static/webchat``."""


def page_environment(templates_dir: Path, static_url: Callable[[str], str]) -> jinja2.Environment:
    """The templates of ``templates_dir``, HTML-escaped, stored text shown safely, translated."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        finalize=finalize,
    )
    # The request's language (set by bot.webchat.language) decides what _() returns.
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["static_url"] = static_url
    return env


def make_environment() -> jinja2.Environment:
    """The templates of ``bot/templates/webchat``."""
    return page_environment(TEMPLATES_DIR, static_url)


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
