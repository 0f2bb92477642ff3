"""The console in Chinese, or in English for a staff member who picks it (kept per browser).

The texts are the Babel catalogue of ``bot/locales`` (message ids are the Chinese texts):

* the templates' own text is translated when a template is compiled for English: an
  English request asks for ``en/<name>`` (:class:`ConsoleEnvironment`), and
  :class:`TemplateText` replaces each Chinese run of the template's text (and each Chinese
  string literal in its expressions) by its translation, so the templates stay plain Chinese
  HTML and a text added later is simply Chinese until it is translated;
* texts made in Python (labels, flash messages) go through ``gettext`` as in the bot, marked
  ``_()`` or ``N_()``; templates print such a value with the ``t`` filter.

``python -m bot.locales.update`` extracts both kinds (:func:`extract_template_text`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import IO, Any

import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream

from bot.telegram.i18n import DEFAULT_LOCALE, load_i18n

COOKIE = "canbao_console_lang"
LOCALES = {"zh": DEFAULT_LOCALE, "en": "en"}
MAX_AGE = 365 * 24 * 3600
_locale: ContextVar[str] = ContextVar("console_locale", default=DEFAULT_LOCALE)
# A run of template text worth translating: no markup, no quotes, some Chinese in it.
_CJK = re.compile(r"[\u3400-\u9fff]")
_RUN = re.compile(r"[^<>\"\n{}]+")
_EDGE = " \t"


def current_locale() -> str:
    """The locale of the request being handled (zh_CN outside a request)."""
    return _locale.get()


def translate(text: str, locale: str | None = None) -> str:
    """``text`` in ``locale`` (default: the request's); itself when there is no translation."""
    locale = locale or current_locale()
    if locale == DEFAULT_LOCALE or not text:
        return text
    return str(load_i18n().gettext(text, locale=locale))


def t(value: object) -> str:
    """Jinja filter: a label made in Python (a Chinese text), in the request's language."""
    return translate(str(value)) if value is not None else ""


def locale_from(request: web.Request) -> str:
    """The staff member's pick (cookie), Chinese unless English was picked."""
    return LOCALES.get(request.cookies.get(COOKIE, ""), DEFAULT_LOCALE)


@web.middleware
async def language_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render and answer in the picked language."""
    locale = locale_from(request)
    token = _locale.set(locale)
    i18n = load_i18n()
    try:
        with i18n.context(), i18n.use_locale(locale):
            return await handler(request)
    finally:
        _locale.reset(token)


def pieces(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, msgid) of each translatable run of ``text``: the run trimmed of spaces and
    punctuation at its edges, so ``"共 "`` and ``"条"`` are found as ``共`` and ``条``."""
    for match in _RUN.finditer(text):
        run = match.group(0)
        if not _CJK.search(run):
            continue
        left = len(run) - len(run.lstrip(_EDGE))
        core = run.strip(_EDGE)
        start = match.start() + left
        yield start, start + len(core), core


def translate_text(text: str, locale: str) -> str:
    """``text`` with each translatable run replaced by its translation."""
    out: list[str] = []
    last = 0
    for start, end, msgid in pieces(text):
        out.append(text[last:start])
        out.append(translate(msgid, locale))
        last = end
    out.append(text[last:])
    return "".join(out)


def _template_locale(name: str | None) -> str | None:
    if name and name.startswith("en/"):
        return "en"
    return None


class TemplateText(Extension):
    """Translates the text of ``en/...`` templates as they are compiled (see the module)."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        locale = _template_locale(stream.name)
        for token in stream:
            if locale is None:
                yield token
            elif token.type == "data" and _CJK.search(token.value):
                yield Token(token.lineno, "data", translate_text(token.value, locale))
            elif token.type == "string" and _CJK.search(str(token.value)):
                yield Token(token.lineno, "string", translate_text(str(token.value), locale))
            else:
                yield token


class ConsoleEnvironment(jinja2.Environment):
    """Hands out a template in the request's language: ``en/<name>`` for English (the same
    file, compiled with its text translated; cached apart from the Chinese one)."""

    def get_template(
        self, name: str | jinja2.Template, parent: str | None = None, globals: Any = None
    ) -> jinja2.Template:
        if isinstance(name, str) and current_locale() == "en" and not name.startswith("en/"):
            name = f"en/{name}"
        return super().get_template(name, parent, globals)


class LocalizedLoader(jinja2.BaseLoader):
    """The templates of ``directory``, and the same files under the ``en/`` prefix (compiled
    under that name, which tells :class:`TemplateText` to translate them)."""

    def __init__(self, directory: str) -> None:
        self.plain = jinja2.FileSystemLoader(directory)

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        return self.plain.get_source(environment, template.removeprefix("en/"))


def loader(directory: str) -> jinja2.BaseLoader:
    """See :class:`LocalizedLoader`."""
    return LocalizedLoader(directory)


def extract_template_text(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extractor for the console templates: each translatable run of their text and of
    their Chinese string literals (as :class:`TemplateText` looks them up)."""
    source = fileobj.read().decode("utf-8")
    env = jinja2.Environment()
    for lineno, kind, value in env.lex(source):
        if kind in ("data", "string") and _CJK.search(str(value)):
            for _start, _end, msgid in pieces(str(value)):
                yield lineno, "gettext", msgid, []


def make_switch(router: web.RouteTableDef) -> Callable[..., Any]:
    """``POST /lang`` (``to`` = zh or en, ``next`` = where to go back): remember the pick in a
    cookie of this browser."""

    @router.post("/lang", name="console_lang")
    async def switch(request: web.Request) -> web.StreamResponse:
        form = await request.post()
        pick = str(form.get("to", ""))
        back = str(form.get("next", ""))
        if not back.startswith("/console/") or "//" in back or "\\" in back:
            back = "/console/"
        response = web.HTTPSeeOther(back)
        if pick in LOCALES:
            response.set_cookie(
                COOKIE,
                pick,
                max_age=MAX_AGE,
                path="/console",
                httponly=True,
                samesite="Lax",
                secure=request.secure,
            )
        raise response

    return switch
