"""Text already in the database, made safe to show: the output side of free text.

What the channels accept is cleaned where it comes in (:func:`flows.values.clean_text`); the
same function is applied where stored text leaves the system — the XLSX and CSV writers, the
PDF, the console's templates and every JSON answer — for rows written before that cleaning
existed, imported by hand, or changed in the database directly. One definition of clean text
serves both sides, so what a page shows is what the chat would have stored:

* a lone surrogate (``"\\ud800"``, storable through a JSON escape) cannot be encoded as UTF-8:
  ``UnicodeEncodeError`` in aiohttp, invalid JSON for a strict reader → U+FFFD;
* C0 / C1 control characters are illegal in XML, so in XLSX, and meaningless on a page →
  removed (a newline is kept, a tab becomes a space);
* U+FFFE / U+FFFF, zero-width characters and bidirectional overrides (which can make a shown
  value read as another one) → removed; the text is NFC.

``canbao db check`` (:mod:`bot.cli.db`) finds stored values this would change, and
``--repair`` writes the displayed value back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from flows.values import clean_text


def display_text(text: str) -> str:
    """``text`` as it may be shown, written to a file or sent as JSON (see the module doc)."""
    return clean_text(text)


def is_display_safe(text: str) -> bool:
    """Whether :func:`display_text` leaves ``text`` unchanged."""
    return clean_text(text) == text


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
