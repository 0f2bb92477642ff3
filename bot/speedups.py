"""Faster JSON and event loop when their libraries are installed (``pip install canbao[speed]``).

orjson parses the Bot API's answers (getUpdates batches, every sent message) and writes the
calls several times faster than :mod:`json`; uvloop runs the event loop in C. Neither changes
what is sent or stored: the same JSON values, the same order of callbacks. Without them, or with
``CANBAO_SPEEDUPS=0`` (to measure one against the other on the same code), the standard library
is used.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from typing import Any

ENABLED = os.environ.get("CANBAO_SPEEDUPS", "1") != "0"

json_loads: Callable[[str | bytes], Any] = json.loads
json_dumps: Callable[[Any], str] = json.dumps
ORJSON = False

if ENABLED:
    try:
        import orjson
    except ImportError:  # pragma: no cover (an optional extra)
        pass
    else:
        ORJSON = True

        # orjson refuses what json takes: a lone surrogate (``\ud800``, which Telegram passes
        # on from a client) in a string. One such text must not stop a getUpdates batch, nor
        # a reply that quotes it, so those few go through json.

        def json_loads(text: str | bytes) -> Any:
            """The value of JSON ``text``."""
            try:
                return orjson.loads(text)
            except orjson.JSONDecodeError:
                return json.loads(text)

        def json_dumps(value: Any) -> str:
            """``value`` as JSON text (UTF-8, no spaces), like ``json.dumps`` reads it back."""
            try:
                return orjson.dumps(value).decode()
            except orjson.JSONEncodeError:
                return json.dumps(value)


def install_event_loop() -> str:
    """Use uvloop's event loop for ``asyncio.run`` when installed; returns which loop it is."""
    if not ENABLED:
        return "asyncio"
    try:
        import uvloop
    except ImportError:
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"
