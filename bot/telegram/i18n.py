"""Texts in the user's language: aiogram's I18n over the Babel catalogues in ``bot/locales``.

Message ids are the Chinese texts (zh_CN is the default and source language); ``en`` translates
them. The ``.po`` files are the only committed form: they are compiled with Babel when first
loaded, so no ``.mo`` file is kept in git. Handlers write::

    from bot.telegram.i18n import gettext as _
    await message.answer(_("请输入公民身份号码"))

After adding or changing texts run ``python -m bot.locales.update`` (extracts the texts into
the catalogues, keeping existing translations) and fill in the English in
``bot/locales/en/LC_MESSAGES/messages.po``.
"""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

from aiogram.utils.i18n import I18n, SimpleI18nMiddleware
from aiogram.utils.i18n import gettext as gettext
from aiogram.utils.i18n import lazy_gettext as lazy_gettext
from aiogram.utils.i18n import ngettext as ngettext
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
DEFAULT_LOCALE = "zh_CN"

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES_DIR",
    "N_",
    "compile_catalogs",
    "gettext",
    "i18n_middleware",
    "lazy_gettext",
    "load_i18n",
    "ngettext",
]


def N_(text: str) -> str:
    """Mark a text for the catalogues without translating it now (a constant translated where
    it is used, with ``_(CONSTANT)``)."""
    return text


def compile_catalogs(source: Path, target: Path, domain: str = DOMAIN) -> list[str]:
    """Compile ``source/<locale>/LC_MESSAGES/<domain>.po`` into ``.mo`` files under ``target``;
    returns the locales compiled."""
    compiled = []
    for directory in sorted(source.iterdir()):
        po_path = directory / "LC_MESSAGES" / f"{domain}.po"
        if not po_path.is_file():
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=directory.name, domain=domain)
        mo_path = target / directory.name / "LC_MESSAGES" / f"{domain}.mo"
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        compiled.append(directory.name)
    return compiled


# Compiled catalogues live in a private temporary directory for the life of the process,
# so an installed (read-only) package works too.
_compiled_dir: tempfile.TemporaryDirectory[str] | None = None


@lru_cache(maxsize=1)
def load_i18n(path: Path = LOCALES_DIR) -> I18n:
    """The process-wide catalogues (zh_CN default), compiled from ``.po`` once."""
    global _compiled_dir
    _compiled_dir = tempfile.TemporaryDirectory(prefix="canbao-locales-")
    target = Path(_compiled_dir.name)
    compile_catalogs(path, target)
    return I18n(path=target, default_locale=DEFAULT_LOCALE, domain=DOMAIN)


def i18n_middleware(i18n: I18n | None = None) -> SimpleI18nMiddleware:
    """The middleware choosing each update's locale from the user's Telegram language:
    ``en``/``en-*`` get English, every other language the default (Chinese)."""
    return SimpleI18nMiddleware(i18n or load_i18n())
