"""The web chat in the resident's language: Chinese, or English for a browser that prefers it.

The texts are the Babel catalogues of ``bot/locales`` (message ids are the Chinese texts), the
same the Telegram bot uses: server texts through ``gettext``, the page's template through
Jinja's i18n extension, and the page script's ``t("...")`` texts sent with the page as JSON.
"""

from __future__ import annotations

from functools import lru_cache

from aiohttp import web
from aiohttp.typedefs import Handler
from babel.messages.pofile import read_po

from bot.telegram.i18n import DEFAULT_LOCALE, LOCALES_DIR, load_i18n

LOCALES = (DEFAULT_LOCALE, "en")
SCRIPT = "bot/static/webchat/chat.js"
LOCALE_KEY = web.RequestKey("webchat_locale", str)


def negotiate(accept_language: str | None) -> str:
    """``en`` when the browser ranks English above Chinese (``Accept-Language``), else zh_CN."""
    best: dict[str, float] = {}
    for item in (accept_language or "").split(","):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in ("zh", "en"):
            continue
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        best[primary] = max(best.get(primary, 0.0), quality)
    english, chinese = best.get("en", 0.0), best.get("zh", 0.0)
    return "en" if english > 0 and english > chinese else DEFAULT_LOCALE


def locale_of(request: web.Request) -> str:
    """The language of this request's page and answers."""
    return request.get(LOCALE_KEY) or negotiate(request.headers.get("Accept-Language"))


@web.middleware
async def language_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer in the request's language: every ``gettext`` below uses it."""
    locale = negotiate(request.headers.get("Accept-Language"))
    request[LOCALE_KEY] = locale
    i18n = load_i18n()
    with i18n.context(), i18n.use_locale(locale):
        response = await handler(request)
    response.headers["Content-Language"] = "en" if locale == "en" else "zh-CN"
    response.headers["Vary"] = "Accept-Language"
    return response


@lru_cache(maxsize=len(LOCALES))
def script_strings(locale: str) -> dict[str, str]:
    """The page script's texts in ``locale`` (Chinese text → translation; empty for Chinese)."""
    if locale == DEFAULT_LOCALE:
        return {}
    path = LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=locale)
    return {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and m.string and any(where == SCRIPT for where, _line in m.locations)
    }
