"""Text already in the database, made safe to show: the output side of free text.

What the channels accept is cleaned where it comes in (``clean_text`` in :mod:`flows`); this
module is for what is *already stored* — rows written before that cleaning existed, imported
by hand, or repaired since — and is applied where stored text leaves the system: the XLSX and
CSV writers, the PDF, the console's templates and every JSON answer. Whatever a row holds,
those never fail on it:

* a lone surrogate (``"\\ud800"``, storable through a JSON escape) cannot be encoded as UTF-8:
  ``UnicodeEncodeError`` in aiohttp, invalid JSON for a strict reader → U+FFFD;
* C0 / C1 control characters (except tab, newline, carriage return) are illegal in XML, so in
  XLSX (openpyxl ``IllegalCharacterError``), and meaningless on a page → removed;
* U+FFFE / U+FFFF are not XML characters either → removed;
* bidirectional embeddings, overrides and isolates can make a shown value read as another one
  (an ID number or a name shown backwards) → removed.

``canbao db check`` (:mod:`bot.cli.db`) finds stored values this would change, and
``--repair`` writes the displayed value back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

# One pass over the text: everything that is replaced or dropped.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
REPLACEMENT = "\ufffd"


def _replace(match: re.Match[str]) -> str:
    return REPLACEMENT if "\ud800" <= match.group() <= "\udfff" else ""


def display_text(text: str) -> str:
    """``text`` as it may be shown, written to a file or sent as JSON (see the module doc).

    A surrogate pair is never split: Python strings hold code points, so a pair that was
    valid is one character already; only lone halves are left to replace.
    """
    if _UNSAFE.search(text) is None:  # the usual case: no copy
        return text
    return _UNSAFE.sub(_replace, text)


def is_display_safe(text: str) -> bool:
    """Whether :func:`display_text` leaves ``text`` unchanged."""
    return _UNSAFE.search(text) is None


def display_value(value: Any) -> Any:
    """A JSON-like value with every string in it (keys too) passed through
    :func:`display_text`; other values are returned as they are."""
    if isinstance(value, str):
        return display_text(value)
    if isinstance(value, dict):
        return {
            (display_text(k) if isinstance(k, str) else k): display_value(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [display_value(v) for v in value]
    return value


def display_json(value: Any) -> str:
    """JSON text a strict reader accepts, whatever strings ``value`` holds (for
    ``web.json_response(..., dumps=display_json)``)."""
    return json.dumps(display_value(value), ensure_ascii=False)


def finalize(value: Any) -> Any:
    """Jinja's ``finalize``: every ``{{ … }}`` of a page goes through :func:`display_text`
    (markup made by the application stays markup)."""
    if isinstance(value, str):
        cleaned = display_text(value)
        if cleaned is not value and hasattr(value, "__html__"):
            return type(value)(cleaned)
        return cleaned
    return value


def json_response(
    data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """``web.json_response`` whose body a strict JSON reader accepts whatever is stored."""
    return web.json_response(data, status=status, headers=headers, dumps=display_json)
